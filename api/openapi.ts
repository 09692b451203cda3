import { OpenApiGeneratorV31, OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { operationIdFor } from './operation-ids';
import { ErrorSchema } from './openapi-responses';

/** One line per flow (the `tag` of its routes): what a client team reads first in the reference. */
export const TAG_DESCRIPTIONS: Readonly<Record<string, string>> = {
  wallet: 'The customer’s wallet: balance, movements, and top-ups through the payment provider. Every amount is integer paise.',
  checkout:
    'A marketplace order as a saga: reserve stock, pay into escrow (wallet first, then the payment method), deliver, return window, ' +
    'settlement to the seller. Buyers, sellers and support act on an order here.',
  sellers: 'Sellers, their products and referrals; the seller’s payable and payouts to the bank.',
  markets:
    'Opinion-trading markets: binary YES/NO questions priced in paise (YES + NO = ₹10). Orders are accepted durably, then matched; ' +
    'live prices and your own fills arrive over the WebSocket described in /asyncapi.json.',
  subscriptions:
    'Recurring deliveries (daily milk and the like): a recurrence plus dated exceptions — pauses, skips, extra deliveries, quantity ' +
    'changes — billed per period, with “why is there no delivery on this day?” answered by `explain`.',
  auctions:
    'Live auctions during sellers’ shows: lots with a starting, reserve and buy-now price; funded bids (your funds are held while ' +
    'you lead), proxy bids, a soft close that extends the end for late bids, and the winner’s order run by the checkout saga. ' +
    'Prices on every screen arrive over the WebSocket described in /asyncapi.json.',
  delivery:
    'Fulfilment of subscription deliveries: delivery areas (the holiday regions) and their staff, the day’s route sheet with a ' +
    'version token for offline phones, delivered/failed reports and batch sync (each outcome answered and applied once), ops ' +
    'corrections, missed-delivery credits to the wallet, and the end-of-day summary per area.',
  webhooks: 'Called by the payment provider, not by apps: signed events that tell a flow its payment settled.',
  ops: 'What operations must act on (support and admin): alerts, and stuck flows to retry or abandon.',
  auth: 'Log in with a one-time code sent to a phone, rotate refresh tokens, see and end sessions.',
  account: 'The caller’s own account (profile, phone, deletion) and, for support and admin, other users’ accounts and roles.',
  health: 'Liveness and readiness for load balancers and orchestrators; no token.',
};

export interface DocumentOptions {
  /** Where the API is reached (config.PUBLIC_URL); without it the document points at its own origin. */
  publicUrl?: string;
  /** config.API_CONTACT_EMAIL / API_CONTACT_URL: whom app developers write to about this deployment. */
  contactEmail?: string;
  contactUrl?: string;
}

/** The document options a deployment's configuration gives. */
export const documentOptions = (config: {
  PUBLIC_URL?: string;
  API_CONTACT_EMAIL?: string;
  API_CONTACT_URL?: string;
}): DocumentOptions => ({
  publicUrl: config.PUBLIC_URL,
  contactEmail: config.API_CONTACT_EMAIL,
  contactUrl: config.API_CONTACT_URL,
});

/** The documents' contact: the deployment's own, else its reference page when it has a public URL. */
export function apiContact(options: DocumentOptions): { name: string; email?: string; url?: string } {
  const url = options.contactUrl ?? (options.publicUrl ? `${options.publicUrl.replace(/\/+$/, '')}/docs` : undefined);
  return { name: 'API support', ...(options.contactEmail ? { email: options.contactEmail } : {}), ...(url ? { url } : {}) };
}

/** Health answers outside api.route (api/health.ts); documented here so the document lists everything a client may call. */
function healthDefinitions() {
  const registry = new OpenAPIRegistry();
  const Ready = z.object({
    status: z.enum(['ready', 'unavailable']),
    checks: z.record(z.string(), z.enum(['up', 'down'])),
  });
  const common = { tags: ['health'], security: [], 'x-capability': 'public' };
  const refused = {
    400: {
      description: 'A query parameter was sent: the probes take none (`validation_failed`)',
      content: { 'application/json': { schema: ErrorSchema } },
    },
    429: {
      description: 'Too many requests from this client address (`rate_limited`)',
      content: { 'application/json': { schema: ErrorSchema } },
    },
  };
  registry.registerPath({
    ...common,
    method: 'get',
    path: '/healthz',
    operationId: operationIdFor('get', '/healthz'),
    summary: 'The process is alive',
    responses: {
      200: {
        description: 'Alive',
        content: { 'application/json': { schema: z.object({ status: z.literal('ok') }), example: { status: 'ok' } } },
      },
      ...refused,
    },
  });
  registry.registerPath({
    ...common,
    method: 'get',
    path: '/readyz',
    operationId: operationIdFor('get', '/readyz'),
    summary: 'Temporal, Postgres and Redis answer',
    responses: {
      200: {
        description: 'Ready',
        content: {
          'application/json': { schema: Ready, example: { status: 'ready', checks: { postgres: 'up', temporal: 'up', redis: 'up' } } },
        },
      },
      ...refused,
      503: {
        description: 'Not ready: the body names what is down (also in `error.details.down`)',
        content: {
          'application/json': {
            schema: Ready.extend({
              error: z.object({ code: z.literal('not_ready'), message: z.string(), details: z.object({ down: z.array(z.string()) }) }),
            }),
            example: {
              status: 'unavailable',
              checks: { postgres: 'up', temporal: 'down', redis: 'up' },
              error: { code: 'not_ready', message: 'Not ready: temporal down', details: { down: ['temporal'] } },
            },
          },
        },
      },
    },
  });
  return registry.definitions;
}

const DESCRIPTION = `Subscriptions, checkout, markets and the wallet of a commerce app. Generate your client from this document.

- **Money** is integer paise (₹1 = 100), never a float.
- **Auth**: \`Authorization: Bearer <JWT>\`. Roles grant capabilities; each operation says which it needs (\`x-capability\`). A customer sees only their own data — anyone else's is answered 404.
- **Errors** are always \`{"error":{"code","message","details"}}\`; branch on \`code\`. \`details\` is always an object.
- **Idempotency**: operations that move money or start a flow take an \`Idempotency-Key\` header. A repeat with the same key and body returns the first response (\`Idempotent-Replayed: true\`); the same key with another body is a 422.
- **Rate limits**: every request counts against its client address; money and order routes also per user. A 429 says when to retry in its \`RateLimit\` header.
- **Live data**: the WebSocket at \`/v1/ws\` is described by the AsyncAPI document at \`/asyncapi.json\`.`;

/** The OpenAPI document, generated from the same zod schemas that validate requests. */
export function openApiDocument(registry: OpenAPIRegistry, options: DocumentOptions = {}) {
  const definitions = [...healthDefinitions(), ...registry.definitions];
  const used = new Set(definitions.flatMap((d) => (d.type === 'route' ? (d.route.tags ?? []) : [])));
  return new OpenApiGeneratorV31(definitions).generateDocument({
    openapi: '3.1.0',
    info: {
      title: 'Mandi API',
      version: '1.0.0',
      description: DESCRIPTION,
      license: { name: 'Proprietary', identifier: 'LicenseRef-Mandi-Proprietary' },
      contact: apiContact(options),
    },
    servers: [
      {
        url: options.publicUrl?.replace(/\/+$/, '') || '/',
        description: options.publicUrl ? 'This deployment' : 'The origin serving this document',
      },
    ],
    security: [{ bearer: [] }],
    tags: [...used].sort().map((name) => ({ name, ...(TAG_DESCRIPTIONS[name] ? { description: TAG_DESCRIPTIONS[name] } : {}) })),
  });
}

export type OpenApiDocument = ReturnType<typeof openApiDocument>;
