import { z, type ZodObject, type ZodType } from 'zod';

/**
 * The one error body (api/errors.ts `errorBody`). `details` is always an object, possibly empty,
 * so clients read it without a null check.
 */
export const ErrorSchema = z
  .object({
    error: z.object({
      code: z.string().describe('stable, machine-readable: branch on this, e.g. `validation_failed`, `insufficient_funds`'),
      message: z.string().describe('for people; may change'),
      details: z
        .record(z.string(), z.unknown())
        .describe('structured context for the code (e.g. the zod issues of a 400); `{}` when there is none'),
    }),
  })
  .meta({
    id: 'Error',
    description: 'Every 4xx and 5xx answer has this shape.',
    example: { error: { code: 'not_found', message: 'top-up not found', details: {} } },
  });

/** What document() needs to know about a route to say which statuses it can answer with. */
export interface RouteDeclaration {
  path: string;
  tag: string;
  capability: unknown;
  body?: ZodType;
  query?: ZodType;
  params?: ZodType;
  idempotent?: true | 'optional';
  rateLimit?: 'money' | 'orders';
  responses: Record<number, { description: string; schema?: ZodType }>;
}

export interface ErrorStatus {
  description: string;
  /** A typical body for the status, when one code covers it. */
  example?: z.output<typeof ErrorSchema>;
}

const example = (code: string, message: string, details: Record<string, unknown> = {}) => ({ error: { code, message, details } });

/**
 * Query fields that name whose data to read (`?userId=`, `?customerId=`…): asking for someone
 * else's without the `:any` capability is answered 404, as if it did not exist.
 */
function readsSomeoneElses(query: ZodType | undefined): boolean {
  const shape = (query as ZodObject | undefined)?.shape as Record<string, unknown> | undefined;
  return !!shape && Object.keys(shape).some((k) => /(user|customer|buyer|seller)Id$/.test(k));
}

/**
 * The error statuses a route can answer with, derived from its declaration the way api/router.ts
 * and api/app.ts handle requests: validation and the text rule for every route, authentication
 * and capabilities unless public, the body limits when it takes a body, Idempotency-Key conflicts
 * when idempotent, the rate limits always. The route's own `responses` add to these (see
 * `documentedResponses`).
 */
export function derivedErrorStatuses(route: RouteDeclaration): Map<number, ErrorStatus> {
  const statuses = new Map<number, ErrorStatus>();
  statuses.set(400, {
    description:
      'The request is invalid: a field fails its schema or an unknown field is sent (`validation_failed`, with the issues in `details`), ' +
      'a string breaks the text rule (`invalid_text`), or the JSON or URL cannot be read' +
      (route.idempotent === true
        ? '; or the `Idempotency-Key` header is missing or malformed (`idempotency_key_required`, `invalid_idempotency_key`)'
        : route.idempotent === 'optional'
          ? '; or the `Idempotency-Key` header is malformed (`invalid_idempotency_key`)'
          : ''),
    example: example('validation_failed', 'The request is invalid', {
      issues: [{ path: 'amount', message: 'Too small: expected number to be >=100', code: 'too_small' }],
    }),
  });
  if (route.capability !== 'public') {
    statuses.set(401, {
      description: 'No bearer token, or one that is invalid or expired (`unauthenticated`, `invalid_token`, `token_expired`)',
      example: example('token_expired', 'The token has expired'),
    });
    statuses.set(403, {
      description: 'The token lacks the capability this needs (`forbidden`)',
      example: example('forbidden', 'This needs the market:admin capability'),
    });
  }
  if (route.params || readsSomeoneElses(route.query)) {
    statuses.set(404, {
      description: 'Not found — or not yours: another user’s data is answered as if it did not exist (`not_found`)',
      example: example('not_found', 'Not found'),
    });
  }
  if (route.idempotent) {
    statuses.set(409, {
      description:
        'The first request with this `Idempotency-Key` is still being processed (`request_in_progress`): retry it with the same key. ' +
        'A claim its instance left unanswered is taken over by a retry after `IDEMPOTENCY_CLAIM_LEASE_SECONDS`',
      example: example('request_in_progress', 'A request with this key is still being processed'),
    });
  }
  if (route.body) {
    statuses.set(413, {
      description: 'The body is larger than the limit (`payload_too_large`)',
      example: example('payload_too_large', 'The request body is too large'),
    });
    statuses.set(415, {
      description:
        'The body is not `application/json`, or its encoding or charset is not supported (`unsupported_media_type`, `unsupported_encoding`, `unsupported_charset`)',
      example: example('unsupported_media_type', 'Send the body as application/json'),
    });
  }
  if (route.idempotent) {
    statuses.set(422, {
      description: 'This `Idempotency-Key` was used before with a different request (`idempotency_key_reused`)',
      example: example('idempotency_key_reused', 'This Idempotency-Key was used with a different request'),
    });
  }
  statuses.set(429, {
    description:
      'Too many requests from this client address' +
      (route.rateLimit ? `, or from this user on ${route.rateLimit} routes (per minute, shared by every API instance)` : '') +
      ' (`rate_limited`); the `RateLimit` and `RateLimit-Policy` headers say when to retry',
    example: example('rate_limited', 'Too many requests; slow down and retry later'),
  });
  // The identity provider only when tokens are verified by one outside (api/identity/external-idp.ts).
  statuses.set(503, {
    description:
      'A service this request needs (the database, the workflow engine) is unavailable for a moment (`service_unavailable`)' +
      (route.capability !== 'public'
        ? ', or the identity provider that verifies the bearer token could not be reached (`identity_provider_unavailable`)'
        : '') +
      '; `Retry-After` says when to retry' +
      (route.idempotent ? ', with the same `Idempotency-Key`' : ''),
    example: example('service_unavailable', 'A service this request needs is unavailable for a moment; retry shortly'),
  });
  statuses.set(500, {
    description:
      'Something went wrong on our side (`internal_error`)' +
      (route.idempotent ? '; nothing was stored under the `Idempotency-Key`, so retry with the same key' : ''),
    example: example('internal_error', 'Something went wrong on our side'),
  });
  return statuses;
}

export interface DocumentedResponse {
  description: string;
  /** The zod schema of the body; errors always have ErrorSchema. */
  schema?: ZodType;
  error: boolean;
  example?: unknown;
}

/** Every status the route can answer with: its own responses merged with the derived error statuses. */
export function documentedResponses(route: RouteDeclaration): Map<number, DocumentedResponse> {
  const out = new Map<number, DocumentedResponse>();
  const derived = derivedErrorStatuses(route);
  for (const [key, own] of Object.entries(route.responses)) {
    const status = Number(key);
    const error = status >= 400;
    const also = derived.get(status);
    out.set(status, {
      description: also ? `${own.description}; or: ${also.description}` : own.description,
      schema: error ? ErrorSchema : own.schema,
      error,
    });
  }
  for (const [status, d] of derived)
    if (!out.has(status)) out.set(status, { description: d.description, schema: ErrorSchema, error: true, example: d.example });
  return new Map([...out.entries()].sort(([a], [b]) => a - b));
}
