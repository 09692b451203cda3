import { DEFAULT_INCREMENTS, parseIncrementTable } from '../domain/auction';
import { z } from 'zod';
import { DEFAULT_TASK_QUEUE } from '../contracts/task-queue';
import { temporalConnectionIssues } from './temporal-connection';

const DEV_JWT_SECRET = 'mandi-dev-secret-change-me-in-production-0123456789';
const DEV_WEBHOOK_SECRET = 'mandi-dev-webhook-secret';

const optionalUrl = z.string().url().optional();

/** Everything configurable, read once from the environment. A bad value stops start-up. */
const ConfigSchema = z
  .object({
    NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
    HOST: z.string().min(1).default('127.0.0.1'),
    PORT: z.coerce.number().int().min(0).max(65535).default(3000),
    PUBLIC_URL: optionalUrl,
    /** Who app developers reach about this deployment's API; published in /openapi.json and /asyncapi.json. */
    API_CONTACT_EMAIL: z.string().email().optional(),
    API_CONTACT_URL: optionalUrl,
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    DATA_DIR: z.string().min(1).default('.data'),

    TEMPORAL_ADDRESS: z.string().min(1).optional(),
    TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
    TEMPORAL_TASK_QUEUE: z.string().min(1).default(DEFAULT_TASK_QUEUE),
    TEMPORAL_UI_URL: optionalUrl,
    TEMPORAL_DEV_PORT: z.coerce.number().int().min(1).max(65535).default(7233),
    TEMPORAL_DEV_UI_PORT: z.coerce.number().int().min(1).max(65535).default(8233),
    // A real cluster or Temporal Cloud (app/temporal-connection.ts): mTLS with a client certificate
    // and key (a file path or the PEM itself), a CA for a server certificate the OS does not trust,
    // an SNI override; or a Temporal Cloud API key. Any of them turns TLS on.
    TEMPORAL_TLS: z.enum(['true', 'false']).optional(),
    TEMPORAL_TLS_CERT: z.string().min(1).optional(),
    TEMPORAL_TLS_KEY: z.string().min(1).optional(),
    TEMPORAL_TLS_CA: z.string().min(1).optional(),
    TEMPORAL_TLS_SERVER_NAME: z.string().min(1).max(253).optional(),
    TEMPORAL_API_KEY: z.string().min(1).optional(),

    // On SIGTERM: how long the API answers requests already in flight and the worker lets running
    // activities finish, each, before cutting them (keep 2× this under the orchestrator's grace period).
    SHUTDOWN_GRACE_SECONDS: z.coerce.number().int().min(0).max(300).default(10),
    // The Postgres `npm start` runs itself when DATABASE_URL is unset (two checkouts need two ports).
    EMBEDDED_POSTGRES_PORT: z.coerce.number().int().min(1).max(65535).default(5499),
    // A workflow bundle built ahead (bundleWorkflowCode, e.g. at image build): workers start in a
    // second instead of bundling workflows/ at every start.
    TEMPORAL_WORKFLOW_BUNDLE: z.string().min(1).optional(),

    DATABASE_URL: optionalUrl,
    DATABASE_POOL_MAX: z.coerce.number().int().min(1).max(200).default(20),
    REDIS_URL: optionalUrl,

    JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
    PSP_WEBHOOK_SECRET: z.string().min(16).optional(),
    // A webhook whose signed timestamp is older (or further in the future) than this is refused.
    PSP_WEBHOOK_TOLERANCE_SECONDS: z.coerce.number().int().min(1).default(300),
    // Money rails (infra/providers.ts): the sandbox fakes by default; Razorpay and RazorpayX when set.
    PAYMENT_PROVIDER: z.enum(['sandbox', 'razorpay']).default('sandbox'),
    PAYOUT_PROVIDER: z.enum(['sandbox', 'razorpayx']).default('sandbox'),
    // Production refuses the sandbox rails unless this says the deployment is a demo on purpose.
    ALLOW_SANDBOX_IN_PRODUCTION: z.enum(['true', 'false']).default('false'),
    RAZORPAY_KEY_ID: z
      .string()
      .regex(/^rzp_(test|live)_[A-Za-z0-9]{6,40}$/, 'must be a Razorpay key id (rzp_test_… or rzp_live_…)')
      .optional(),
    RAZORPAY_KEY_SECRET: z.string().min(8).optional(),
    RAZORPAY_WEBHOOK_SECRET: z.string().min(8).optional(),
    // Tests point the SDK at a local server; production leaves it at Razorpay's.
    RAZORPAY_API_URL: z.string().url().default('https://api.razorpay.com'),
    RAZORPAY_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(10_000),
    // RazorpayX: the account number payouts are sent from (the business's RazorpayX current account).
    RAZORPAYX_ACCOUNT_NUMBER: z
      .string()
      .regex(/^[0-9]{6,20}$/, 'must be the RazorpayX account number (digits)')
      .optional(),
    // /metrics needs `Authorization: Bearer <METRICS_TOKEN>` when set; unset, it is served only on METRICS_PORT.
    METRICS_TOKEN: z.string().min(16).optional(),
    METRICS_PORT: z.coerce.number().int().min(0).max(65535).optional(),

    // Checkout timers (the return window closes before settlement; no delivery by the deadline cancels).
    CHECKOUT_RETURN_WINDOW_SECONDS: z.coerce
      .number()
      .int()
      .min(1)
      .default(7 * 24 * 3600),
    CHECKOUT_DELIVERY_DEADLINE_SECONDS: z.coerce
      .number()
      .int()
      .min(1)
      .default(14 * 24 * 3600),

    // Auctions: the marketplace's bid increments (JSON rows {below, step} in paise, last below:null),
    // the default soft-close window, and the second chance's windows (seller to offer, bidder to accept).
    AUCTION_INCREMENTS: z
      .string()
      .optional()
      .transform((raw, ctx) => {
        if (raw === undefined) return DEFAULT_INCREMENTS;
        try {
          return parseIncrementTable(JSON.parse(raw));
        } catch (err) {
          ctx.addIssue({ code: 'custom', message: `must be a JSON increment table: ${(err as Error).message}` });
          return z.NEVER;
        }
      }),
    AUCTION_SOFT_CLOSE_SECONDS: z.coerce.number().int().min(1).max(300).default(10),
    AUCTION_SECOND_CHANCE_WINDOW_SECONDS: z.coerce.number().int().min(10).default(600),
    AUCTION_SECOND_CHANCE_OFFER_WINDOW_SECONDS: z.coerce
      .number()
      .int()
      .min(10)
      .default(24 * 3600),

    // Market engines (workers/mandi-worker.ts): how many one worker process runs at once, on their
    // own slot budget; and how often its engines look at Postgres for an order whose wake-up was
    // lost (one statement for all of them; at least once a second, never faster).
    MARKET_ENGINE_SLOTS: z.coerce.number().int().min(1).max(10_000).default(500),
    MARKET_ENGINE_FALLBACK_POLL_MS: z.coerce.number().int().min(1000).max(60_000).default(1000),

    RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).default(600),
    // Every request, authenticated or not, counts against its client address (per API instance).
    RATE_LIMIT_PER_IP_PER_MINUTE: z.coerce.number().int().min(1).default(6000),
    // Behind a load balancer, how many proxy hops to trust for the client address (X-Forwarded-For).
    TRUST_PROXY_HOPS: z.coerce.number().int().min(0).max(10).default(0),
    // A request body must arrive within this long after its headers, or the request is answered 408.
    BODY_READ_TIMEOUT_MS: z.coerce.number().int().min(100).default(10_000),
    // How long a stored Idempotency-Key answers repeats; older keys are pruned nightly.
    IDEMPOTENCY_KEY_RETENTION_HOURS: z.coerce
      .number()
      .int()
      .min(1)
      .default(7 * 24),
    // How long a claimed Idempotency-Key may stay unanswered before a retry with the same key takes
    // it over (its API instance presumed dead). Longer than any request takes: the longest waits are 10 s.
    IDEMPOTENCY_CLAIM_LEASE_SECONDS: z.coerce.number().int().min(5).max(3600).default(30),
    BODY_LIMIT: z.string().default('100kb'),

    // Identity (api/identity, docs in the issue): Mandi's own sessions.
    AUTH_ACCESS_TOKEN_TTL_SECONDS: z.coerce
      .number()
      .int()
      .min(60)
      .max(3600)
      .default(15 * 60),
    AUTH_REFRESH_TOKEN_TTL_DAYS: z.coerce.number().int().min(1).max(365).default(90),
    // How long an API instance trusts what it last read about a user's revoked tokens.
    AUTH_REVOCATION_CACHE_MS: z.coerce.number().int().min(0).max(30_000).default(2_000),
    // HS256 tokens signed with JWT_SECRET (`npm run token`): on outside production unless set.
    AUTH_DEV_TOKENS: z.enum(['true', 'false']).optional(),
    // The terms a login accepts; the client sends the version it showed.
    AUTH_TERMS_VERSION: z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,40}$/, 'must be 1-40 letters, digits, . _ or -')
      .default('2026-12-01'),
    // Numbers written without +<country code> are read as this country's.
    AUTH_DEFAULT_COUNTRY: z
      .string()
      .regex(/^[A-Z]{2}$/, 'must be an ISO 3166 country code such as IN')
      .default('IN'),
    // An external identity provider (Auth0, Clerk, Supabase, Firebase, Cognito…): all three or none.
    AUTH_JWKS_URL: optionalUrl,
    AUTH_ISSUER: z.string().min(1).max(512).optional(),
    AUTH_AUDIENCE: z.string().min(1).max(512).optional(),
    // Where the provider's tokens carry Mandi roles: a claim name, or a dotted path (app_metadata.roles).
    AUTH_ROLES_CLAIM: z.string().min(1).max(256).optional(),

    // One-time codes: `sandbox` records them (GET /v1/dev/otp-outbox outside production).
    OTP_SENDER: z.enum(['sandbox', 'disabled']).optional(),
    OTP_TTL_SECONDS: z.coerce.number().int().min(30).max(3600).default(300),
    OTP_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(5),
    OTP_SEND_WINDOW_SECONDS: z.coerce.number().int().min(60).default(3600),
    OTP_MAX_SENDS_PER_WINDOW: z.coerce.number().int().min(1).max(100).default(5),
    // The wait before the second code; it doubles for each further one in the window.
    OTP_RESEND_BACKOFF_SECONDS: z.coerce.number().int().min(0).max(3600).default(30),
    // Generous on purpose: Indian mobile carriers put many subscribers behind one address (CGNAT).
    OTP_REQUESTS_PER_IP_PER_WINDOW: z.coerce.number().int().min(1).default(100),
    OTP_VERIFIES_PER_IP_PER_WINDOW: z.coerce.number().int().min(1).default(300),

    // Account deletion (DPDP): the grace period, and how often a blocked erasure checks again.
    ACCOUNT_DELETION_GRACE_SECONDS: z.coerce
      .number()
      .int()
      .min(1)
      .default(30 * 24 * 3600),
    ACCOUNT_DELETION_RECHECK_SECONDS: z.coerce
      .number()
      .int()
      .min(1)
      .default(24 * 3600),
  })
  .transform((env, ctx) => {
    if (env.NODE_ENV === 'production') {
      // The development defaults are public: production must bring its own.
      for (const secret of ['JWT_SECRET', 'PSP_WEBHOOK_SECRET'] as const) {
        if (!env[secret]) ctx.addIssue({ code: 'custom', path: [secret], message: 'is required in production' });
      }
    }
    for (const issue of temporalConnectionIssues(env)) ctx.addIssue({ code: 'custom', ...issue });
    const idp = [env.AUTH_JWKS_URL, env.AUTH_ISSUER, env.AUTH_AUDIENCE];
    if (idp.some(Boolean) && !idp.every(Boolean)) {
      for (const name of ['AUTH_JWKS_URL', 'AUTH_ISSUER', 'AUTH_AUDIENCE'] as const) {
        if (!env[name])
          ctx.addIssue({
            code: 'custom',
            path: [name],
            message: 'is required with the other AUTH_JWKS_URL / AUTH_ISSUER / AUTH_AUDIENCE settings',
          });
      }
    }
    if (env.AUTH_ROLES_CLAIM && !env.AUTH_JWKS_URL) {
      ctx.addIssue({
        code: 'custom',
        path: ['AUTH_ROLES_CLAIM'],
        message: 'only applies to an external identity provider (set AUTH_JWKS_URL)',
      });
    }
    // The sandbox keeps codes readable in Postgres: never the way real customers get theirs.
    if (env.NODE_ENV === 'production' && env.OTP_SENDER === 'sandbox') {
      ctx.addIssue({
        code: 'custom',
        path: ['OTP_SENDER'],
        message: 'sandbox is not allowed in production: plug in a real OtpSender (infra/otp-sender.ts)',
      });
    }
    for (const issue of paymentRailIssues(env)) ctx.addIssue({ code: 'custom', ...issue });
    const production = env.NODE_ENV === 'production';
    return {
      ...env,
      AUTH_DEV_TOKENS: env.AUTH_DEV_TOKENS === undefined ? !production : env.AUTH_DEV_TOKENS === 'true',
      OTP_SENDER: env.OTP_SENDER ?? (production ? 'disabled' : 'sandbox'),
      JWT_SECRET: env.JWT_SECRET ?? DEV_JWT_SECRET,
      PSP_WEBHOOK_SECRET: env.PSP_WEBHOOK_SECRET ?? DEV_WEBHOOK_SECRET,
    };
  });

export type Config = z.output<typeof ConfigSchema>;

/** What the chosen payment and payout rails need: their keys, and no sandbox in production unless allowed. */
function paymentRailIssues(env: {
  NODE_ENV: string;
  PAYMENT_PROVIDER: string;
  PAYOUT_PROVIDER: string;
  ALLOW_SANDBOX_IN_PRODUCTION: string;
  RAZORPAY_KEY_ID?: string;
  RAZORPAY_KEY_SECRET?: string;
  RAZORPAY_WEBHOOK_SECRET?: string;
  RAZORPAYX_ACCOUNT_NUMBER?: string;
}): Array<{ path: string[]; message: string }> {
  const issues: Array<{ path: string[]; message: string }> = [];
  const need = (name: keyof typeof env, why: string) => {
    if (!env[name]) issues.push({ path: [name], message: `is required with ${why}` });
  };
  const razorpay = env.PAYMENT_PROVIDER === 'razorpay';
  const razorpayx = env.PAYOUT_PROVIDER === 'razorpayx';
  if (razorpay || razorpayx) {
    const why = razorpay ? 'PAYMENT_PROVIDER=razorpay' : 'PAYOUT_PROVIDER=razorpayx';
    need('RAZORPAY_KEY_ID', why);
    need('RAZORPAY_KEY_SECRET', why);
    need('RAZORPAY_WEBHOOK_SECRET', why);
  }
  if (razorpayx) need('RAZORPAYX_ACCOUNT_NUMBER', 'PAYOUT_PROVIDER=razorpayx');
  if (env.NODE_ENV === 'production' && env.ALLOW_SANDBOX_IN_PRODUCTION !== 'true') {
    const hint = 'the sandbox takes no real money: choose a real provider, or set ALLOW_SANDBOX_IN_PRODUCTION=true for a demo';
    if (!razorpay) issues.push({ path: ['PAYMENT_PROVIDER'], message: `sandbox is not allowed in production (${hint})` });
    if (!razorpayx) issues.push({ path: ['PAYOUT_PROVIDER'], message: `sandbox is not allowed in production (${hint})` });
  }
  return issues;
}

export class ConfigError extends Error {}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // An empty variable means unset, as in most twelve-factor tooling.
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== ''));
  const parsed = ConfigSchema.safeParse(present);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(env)'}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  return parsed.data;
}
