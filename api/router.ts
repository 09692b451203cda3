import express, { type Request, type Response, type RequestHandler, type Router } from 'express';
import { rateLimit, type RateLimitRequestHandler } from 'express-rate-limit';
import { RedisStore, type RedisReply } from 'rate-limit-redis';
import { OpenAPIRegistry, type ResponseConfig } from '@asteasolutions/zod-to-openapi';
import { z, type ZodType } from 'zod';
import { capabilitiesOf, type Capability } from '../domain/capabilities';
import { describeTextViolation, findTextViolation, textProblem } from '../domain/text';
import { assertCan, authenticate, requirePrincipal, type Principal } from './auth';
import { auditStaffAction } from './audit';
import type { ApiDeps } from './deps';
import { ApiError, errorBody } from './errors';
import { parseIdempotencyKey, requestScopedId, withIdempotency } from './idempotency';
import type { Metrics } from './metrics';
import { OPERATION_EXAMPLES } from './openapi-examples';
import { documentedResponses, type RouteDeclaration } from './openapi-responses';
import { operationIdFor } from './operation-ids';

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

export interface RouteContext<B, Q, P> {
  body: B;
  query: Q;
  params: P;
  principal: Principal;
  deps: ApiDeps;
  req: Request;
  /**
   * Writes an audit row when the caller is support or admin, with the staff member's reason: the
   * route's own (`details.reason`, from its body) or else the X-Staff-Reason header's.
   */
  audit(action: string, target: { type: string; id: string }, details?: Record<string, unknown>): Promise<void>;
  /**
   * An id for what this request creates (`prefix` + `hexLength` hex digits). With an
   * Idempotency-Key it is derived from the caller and the key, so a retry that takes over the
   * claim of an instance that died mid-request finds the rows and flows the first attempt made.
   */
  newId(prefix: string, hexLength: number): string;
}

export interface RouteResult {
  status: number;
  body: unknown;
}

export interface RouteSpec<B extends ZodType, Q extends ZodType, P extends ZodType> {
  method: Method;
  /** Express-style path, e.g. `/v1/wallet/topups/:topupId`. */
  path: string;
  /** One line: the operation's title in /openapi.json and /docs. */
  summary: string;
  /** Longer prose for the reference, when the summary is not enough. */
  description?: string;
  /** The flow it belongs to; each tag is described in api/openapi.ts. Its operationId is in api/operation-ids.ts. */
  tag: string;
  /** The caller needs one of these capabilities; `public` routes (webhooks) authenticate themselves. */
  capability: Capability | Capability[] | 'public';
  body?: B;
  query?: Q;
  params?: P;
  /**
   * Request headers the handler reads itself (e.g. a webhook's signature), for the reference only:
   * the router does not validate them (Idempotency-Key is added for idempotent routes).
   */
  headers?: z.ZodObject;
  /**
   * `true`: requires an Idempotency-Key header; repeats return the first response. `'optional'`:
   * the same when the client sends one (a change that moves no money but must not apply twice
   * when a retry follows a lost answer), and runs as is without one.
   */
  idempotent?: true | 'optional';
  rateLimit?: 'money' | 'orders';
  /**
   * What the route answers on success and its own business errors. The statuses every route
   * shares (400, 401/403, 413/415, 422 for a reused Idempotency-Key, 429…) are added from the
   * declaration (api/openapi-responses.ts); errors are documented with the shared error body.
   */
  responses: Record<number, { description: string; schema?: ZodType }>;
  handler(ctx: RouteContext<z.output<B>, z.output<Q>, z.output<P>>): Promise<RouteResult>;
}

const EMPTY = z.strictObject({});

/** An operation as documented: what the contract test holds the running app to. */
export interface DocumentedOperation {
  method: Method;
  path: string;
  operationId: string;
  statuses: number[];
  declaration: RouteDeclaration;
}

/** The Idempotency-Key format api/idempotency.ts accepts. */
const IdempotencyKeyHeader = z
  .string()
  .regex(/^[A-Za-z0-9_.:-]{8,128}$/)
  .describe('8-128 characters of A-Z a-z 0-9 _ . : - (a UUID is ideal); a repeat with the same key and body returns the first response')
  .meta({ example: '5f0c6d1e-8a0b-4c1e-9a53-2d0f4b7e9c11' });

/** Why a staff member acts, for the audit row of whatever the request does. */
export const STAFF_REASON_HEADER = 'X-Staff-Reason';
export const STAFF_REASON_MAX_LENGTH = 500;

const StaffReasonHeader = z
  .string()
  .describe(
    `Staff only: why you act, written to the audit log of every staff action this request makes (a route whose body has a \`reason\` keeps that one). 3-${STAFF_REASON_MAX_LENGTH} characters once trimmed, percent-encoded UTF-8 (\`encodeURIComponent\`); a malformed one is a 400 and nothing is done`,
  )
  .meta({ example: 'Customer%20called%3A%20away%20until%20the%2020th' });

/** Capabilities a support or admin role holds: a route needing one of them can be a staff action. */
const STAFF_CAPABILITIES: ReadonlySet<Capability> = capabilitiesOf(['support', 'admin']);

function staffCanCall(spec: { capability: Capability | Capability[] | 'public' }): boolean {
  return spec.capability !== 'public' && [spec.capability].flat().some((c) => STAFF_CAPABILITIES.has(c));
}

/** The X-Staff-Reason header decoded, trimmed and held to the text rule; undefined when not sent. */
function parseStaffReason(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  const bad = (message: string) => new ApiError(400, 'invalid_staff_reason', message, { header: STAFF_REASON_HEADER });
  let text: string;
  try {
    text = decodeURIComponent(raw).trim();
  } catch {
    throw bad(`${STAFF_REASON_HEADER} is not percent-encoded UTF-8`);
  }
  const problem = textProblem(text, STAFF_REASON_MAX_LENGTH);
  if (problem === 'too_long') throw bad(`${STAFF_REASON_HEADER} is longer than ${STAFF_REASON_MAX_LENGTH} characters`);
  if (problem) throw bad(`${STAFF_REASON_HEADER} is invalid: ${problem.replace('_', ' ')}`);
  if (text.length < 3) throw bad(`${STAFF_REASON_HEADER} says too little: at least 3 characters`);
  return text;
}

/** The route's own reason wins; the header's fills in where the route has none. */
function withStaffReason(details: Record<string, unknown>, reason: string | undefined): Record<string, unknown> {
  const own = details.reason;
  if (reason === undefined || (typeof own === 'string' && own.trim() !== '')) return details;
  return { ...details, reason };
}

/** Answers that were not given a schema are still JSON; `{}` lets generated clients type them as unknown, not never. */
const ANY_JSON = {};

/** The text rule (domain/text.ts) for everything a request carries, before any schema sees it. */
function assertCleanText(input: Record<string, unknown>): void {
  const violation = findTextViolation(input);
  if (violation) throw new ApiError(400, 'invalid_text', `The request is invalid: ${describeTextViolation(violation)}`, violation);
}

function openApiPath(path: string): string {
  return path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

/**
 * Every endpoint goes through here, so each one validates with zod (unknown fields rejected),
 * authenticates, checks a capability, is rate-limited and idempotent where it moves money, is
 * timed in /metrics and appears in /openapi.json — the same way.
 */
export class ApiRouter {
  readonly router: Router = express.Router();
  readonly registry = new OpenAPIRegistry();
  /** Every operation registered, in order, with the statuses it is documented to answer with. */
  readonly operations: DocumentedOperation[] = [];
  private readonly limiters: Record<'money' | 'orders', RateLimitRequestHandler>;
  private readonly auth: RequestHandler;

  constructor(
    private readonly deps: ApiDeps,
    private readonly metrics: Metrics,
  ) {
    this.auth = authenticate(deps);
    this.registry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
    this.limiters = {
      money: this.limiter('money', deps.config.RATE_LIMIT_PER_MINUTE),
      orders: this.limiter('orders', deps.config.RATE_LIMIT_PER_MINUTE * 10),
    };
  }

  route<B extends ZodType = typeof EMPTY, Q extends ZodType = typeof EMPTY, P extends ZodType = typeof EMPTY>(
    spec: RouteSpec<B, Q, P>,
  ): void {
    this.document(spec);
    const chain: RequestHandler[] = [];
    if (spec.capability !== 'public') chain.push(this.auth);
    if (spec.rateLimit) chain.push(this.limiters[spec.rateLimit]);
    chain.push(async (req, res) => {
      const started = process.hrtime.bigint();
      res.once('finish', () => {
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        this.metrics.httpDuration.observe({ method: spec.method, route: spec.path, status: res.statusCode }, seconds);
      });
      const result = await this.run(spec, req);
      if (result.replayed) res.setHeader('Idempotent-Replayed', 'true');
      res.status(result.status).json(result.body);
    });
    this.router[spec.method](spec.path, ...chain);
  }

  private async run<B extends ZodType, Q extends ZodType, P extends ZodType>(
    spec: RouteSpec<B, Q, P>,
    req: Request,
  ): Promise<RouteResult & { replayed?: boolean }> {
    const principal: Principal = spec.capability === 'public' ? { userId: 'anonymous', roles: [] } : requirePrincipal(req);
    if (spec.capability !== 'public') assertCan(principal, spec.capability);
    // req.is() is null without a body, false for a body of another type; an empty body
    // (Content-Length: 0, as fetch sends for a bodyless POST) has no type to check.
    const hasContent = req.get('content-length') !== '0';
    if (hasContent && req.is('application/json') === false) {
      throw new ApiError(415, 'unsupported_media_type', 'Send the body as application/json');
    }
    assertCleanText({ params: req.params ?? {}, query: req.query ?? {}, body: req.body ?? {} });
    const staffReason = staffCanCall(spec) ? parseStaffReason(req.get(STAFF_REASON_HEADER)) : undefined;
    const params = (spec.params ?? EMPTY).parse(req.params ?? {}) as z.output<P>;
    const query = (spec.query ?? EMPTY).parse(req.query ?? {}) as z.output<Q>;
    const body = spec.body ? spec.body.parse(req.body ?? {}) : (EMPTY.parse(req.body ?? {}) as never);
    const ctx: RouteContext<z.output<B>, z.output<Q>, z.output<P>> = {
      body,
      query,
      params,
      principal,
      deps: this.deps,
      req,
      audit: (action, target, details = {}) =>
        auditStaffAction(this.deps.db, principal, action, target, withStaffReason(details, staffReason)),
      newId: (prefix, hexLength) =>
        requestScopedId(principal.userId, spec.idempotent ? req.get('Idempotency-Key') : undefined, prefix, hexLength),
    };
    if (!spec.idempotent || (spec.idempotent === 'optional' && req.get('Idempotency-Key') === undefined)) return spec.handler(ctx);
    const key = parseIdempotencyKey(req.get('Idempotency-Key'));
    const leaseSeconds = this.deps.config.IDEMPOTENCY_CLAIM_LEASE_SECONDS;
    return withIdempotency(
      this.deps.db,
      { userId: principal.userId, key, method: spec.method, path: req.path, body: req.body ?? {}, leaseSeconds },
      () => spec.handler(ctx),
    );
  }

  private limiter(name: string, perMinute: number): RateLimitRequestHandler {
    const redis = this.deps.redis;
    return rateLimit({
      windowMs: 60_000,
      limit: perMinute,
      standardHeaders: 'draft-8',
      legacyHeaders: false,
      keyGenerator: (req) => `${name}:${req.principal?.userId ?? 'anonymous'}`,
      ...(redis
        ? {
            store: new RedisStore({
              prefix: `mandi:rl:`,
              sendCommand: (...args: string[]) => redis.call(args[0], ...args.slice(1)) as Promise<RedisReply>,
            }),
          }
        : {}),
      handler: (_req: Request, res: Response) => {
        res.status(429).json(errorBody('rate_limited', 'Too many requests; slow down and retry later'));
      },
    });
  }

  private document<B extends ZodType, Q extends ZodType, P extends ZodType>(spec: RouteSpec<B, Q, P>): void {
    // Throws for a route missing from api/operation-ids.ts: the API does not start without it.
    const operationId = operationIdFor(spec.method, spec.path);
    const examples = OPERATION_EXAMPLES[operationId] ?? {};
    const documented = documentedResponses(spec);
    const responses: Record<string, ResponseConfig> = {};
    for (const [status, r] of documented) {
      const example = r.error ? r.example : examples.responses?.[status];
      responses[status] = {
        description: r.description,
        ...(spec.idempotent && !r.error ? { headers: REPLAYED_HEADER } : {}),
        // A 204 has no body, so it documents no content.
        ...(status === 204
          ? {}
          : { content: { 'application/json': { schema: r.schema ?? ANY_JSON, ...(example === undefined ? {} : { example }) } } }),
      };
    }
    this.operations.push({ method: spec.method, path: spec.path, operationId, statuses: [...documented.keys()], declaration: spec });
    this.registry.registerPath({
      method: spec.method,
      path: openApiPath(spec.path),
      operationId,
      summary: spec.summary,
      description: operationDescription(spec),
      tags: [spec.tag],
      security: spec.capability === 'public' ? [] : [{ bearer: [] }],
      'x-capability': spec.capability,
      request: {
        ...(spec.params ? { params: spec.params as never } : {}),
        ...(spec.query ? { query: spec.query as never } : {}),
        ...(spec.body
          ? {
              body: {
                // A body whose fields are all optional may be left out (run() reads it as {}).
                required: !spec.body.safeParse({}).success,
                content: {
                  'application/json': { schema: spec.body, ...(examples.request === undefined ? {} : { example: examples.request }) },
                },
              },
            }
          : {}),
        ...(spec.idempotent || spec.headers || staffCanCall(spec)
          ? {
              headers: z.object({
                ...spec.headers?.shape,
                ...(staffCanCall(spec) ? { [STAFF_REASON_HEADER]: StaffReasonHeader.optional() } : {}),
                ...(spec.idempotent === true ? { 'Idempotency-Key': IdempotencyKeyHeader } : {}),
                ...(spec.idempotent === 'optional' ? { 'Idempotency-Key': IdempotencyKeyHeader.optional() } : {}),
              }) as never,
            }
          : {}),
      },
      responses,
    });
  }
}

const REPLAYED_HEADER = {
  'Idempotent-Replayed': {
    description: '`true` when this is the stored answer to an earlier request with the same Idempotency-Key',
    schema: { type: 'string' as const, enum: ['true'] },
  },
};

/** Who may call it, and what the client must send, in words for the reference. */
function operationDescription(spec: RouteSpec<ZodType, ZodType, ZodType>): string {
  const who =
    spec.capability === 'public'
      ? 'No bearer token: the caller proves itself otherwise (see the summary).'
      : `Needs ${[spec.capability]
          .flat()
          .map((c) => `\`${c}\``)
          .join(' or ')}.`;
  const lines = [spec.description, who];
  if (spec.idempotent === true) lines.push('Send an `Idempotency-Key`: a repeat with the same key and body returns the first answer.');
  if (spec.idempotent === 'optional')
    lines.push('An `Idempotency-Key` is optional: with one, a repeat with the same key and body returns the first answer.');
  if (spec.rateLimit) lines.push(`Rate-limited per user (${spec.rateLimit}) as well as per address.`);
  return lines.filter(Boolean).join(' ');
}
