import { z } from 'zod';

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
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    DATA_DIR: z.string().min(1).default('.data'),

    TEMPORAL_ADDRESS: z.string().min(1).optional(),
    TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
    TEMPORAL_TASK_QUEUE: z.string().min(1).default('mandi'),
    TEMPORAL_UI_URL: optionalUrl,
    TEMPORAL_DEV_PORT: z.coerce.number().int().min(1).max(65535).default(7233),
    TEMPORAL_DEV_UI_PORT: z.coerce.number().int().min(1).max(65535).default(8233),

    DATABASE_URL: optionalUrl,
    DATABASE_POOL_MAX: z.coerce.number().int().min(1).max(200).default(20),
    REDIS_URL: optionalUrl,

    JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
    PSP_WEBHOOK_SECRET: z.string().min(16).optional(),
    // A webhook whose signed timestamp is older (or further in the future) than this is refused.
    PSP_WEBHOOK_TOLERANCE_SECONDS: z.coerce.number().int().min(1).default(300),
    // /metrics needs `Authorization: Bearer <METRICS_TOKEN>` when set; unset, it is served only on METRICS_PORT.
    METRICS_TOKEN: z.string().min(16).optional(),
    METRICS_PORT: z.coerce.number().int().min(0).max(65535).optional(),

    // Checkout timers (the return window closes before settlement; no delivery by the deadline cancels).
    CHECKOUT_RETURN_WINDOW_SECONDS: z.coerce.number().int().min(1).default(7 * 24 * 3600),
    CHECKOUT_DELIVERY_DEADLINE_SECONDS: z.coerce.number().int().min(1).default(14 * 24 * 3600),

    RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).default(600),
    // Every request, authenticated or not, counts against its client address (per API instance).
    RATE_LIMIT_PER_IP_PER_MINUTE: z.coerce.number().int().min(1).default(6000),
    // Behind a load balancer, how many proxy hops to trust for the client address (X-Forwarded-For).
    TRUST_PROXY_HOPS: z.coerce.number().int().min(0).max(10).default(0),
    // A request body must arrive within this long after its headers, or the request is answered 408.
    BODY_READ_TIMEOUT_MS: z.coerce.number().int().min(100).default(10_000),
    // How long a stored Idempotency-Key answers repeats; older keys are pruned nightly.
    IDEMPOTENCY_KEY_RETENTION_HOURS: z.coerce.number().int().min(1).default(7 * 24),
    BODY_LIMIT: z.string().default('100kb'),
  })
  .transform((env, ctx) => {
    if (env.NODE_ENV === 'production') {
      // The development defaults are public: production must bring its own.
      for (const secret of ['JWT_SECRET', 'PSP_WEBHOOK_SECRET'] as const) {
        if (!env[secret]) ctx.addIssue({ code: 'custom', path: [secret], message: 'is required in production' });
      }
    }
    return {
      ...env,
      JWT_SECRET: env.JWT_SECRET ?? DEV_JWT_SECRET,
      PSP_WEBHOOK_SECRET: env.PSP_WEBHOOK_SECRET ?? DEV_WEBHOOK_SECRET,
    };
  });

export type Config = z.output<typeof ConfigSchema>;

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
