import { isUtf8 } from 'node:buffer';
import { timingSafeEqual } from 'node:crypto';
import express, { type Express, type Request, type RequestHandler } from 'express';
import { ipKeyGenerator, rateLimit } from 'express-rate-limit';
import { bodyReadTimeout } from './body-timeout';
import { parseQueryStrictly } from './query-parser';
import type { ApiDeps } from './deps';
import { errorBody, errorHandler, notFoundHandler } from './errors';
import { mountHealth } from './health';
import { createMetrics, type Metrics } from './metrics';
import { documentOptions, openApiDocument } from './openapi';
import { asyncApiDocument } from './asyncapi/document';
import { docsRouter } from './docs';
import { consoleRouter } from './console-static';
import { requestLog } from './request-log';
import { ApiRouter } from './router';
import { registerRoutes } from './routes';

export function createApp(deps: ApiDeps, metrics: Metrics = createMetrics()): Express {
  const app = express();
  app.disable('x-powered-by');
  // Responses are live state, never revalidated: no point hashing every body for an ETag.
  app.set('etag', false);
  app.set('query parser', parseQueryStrictly);
  app.set('trust proxy', deps.config.TRUST_PROXY_HOPS);

  app.use(requestLog(deps.logger, { ignore: (url) => url === '/healthz' || url === '/metrics' }));
  app.use(perAddressLimit(deps.config.RATE_LIMIT_PER_IP_PER_MINUTE));
  app.use(bodyReadTimeout(deps.config.BODY_READ_TIMEOUT_MS));
  // Keep the raw bytes for webhook signature checks.
  app.use(
    express.json({
      limit: deps.config.BODY_LIMIT,
      strict: true,
      verify: (req, _res, buf) => {
        // Invalid UTF-8 would otherwise be decoded into U+FFFD and stored as if the client meant it.
        if (!isUtf8(buf)) throw Object.assign(new Error('body is not valid UTF-8'), { type: 'entity.invalid_utf8' });
        (req as unknown as { rawBody: Buffer }).rawBody = buf;
      },
    }),
  );

  const api = new ApiRouter(deps, metrics);
  registerRoutes(api);

  mountHealth(app, deps);
  if (deps.config.METRICS_TOKEN) app.get('/metrics', metricsAuth(deps.config.METRICS_TOKEN), metricsHandler(metrics));
  const openapi = openApiDocument(api.registry, documentOptions(deps.config));
  app.get('/openapi.json', (_req, res) => {
    res.json(openapi);
  });
  const asyncapi = asyncApiDocument({ ...documentOptions(deps.config), port: deps.config.PORT });
  app.get('/asyncapi.json', (_req, res) => {
    res.json(asyncapi);
  });
  app.use(docsRouter());
  app.use('/console', consoleRouter());
  app.use(api.router);
  app.use(notFoundHandler);
  app.use(errorHandler(deps.logger));
  return app;
}

/**
 * The floor under every route, authenticated or not (health, documents, webhooks, public reads):
 * requests per client address per minute. Counted in memory on purpose: it guards this instance
 * against floods without a Redis round trip on the order path; the per-user limits on money and
 * orders (api/router.ts) are the ones shared across instances.
 */
function perAddressLimit(perMinute: number): RequestHandler {
  return rateLimit({
    windowMs: 60_000,
    limit: perMinute,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    keyGenerator: (req: Request) => `ip:${ipKeyGenerator(req.ip ?? 'unknown')}`,
    handler: (_req, res) => {
      res.status(429).json(errorBody('rate_limited', 'Too many requests from this address; slow down and retry later'));
    },
  });
}

/** `/metrics` names every route and its traffic: on the public port it needs the metrics token. */
function metricsAuth(token: string): RequestHandler {
  const expected = `Bearer ${token}`;
  return (req, res, next) => {
    const given = req.headers.authorization ?? '';
    if (given.length === expected.length && timingSafeEqual(Buffer.from(given), Buffer.from(expected))) return next();
    res.status(401).json(errorBody('unauthenticated', 'The metrics token is required'));
  };
}

export function metricsHandler(metrics: Metrics): RequestHandler {
  return async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  };
}
