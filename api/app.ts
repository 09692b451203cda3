import { randomUUID } from 'node:crypto';
import express, { type Express } from 'express';
import { pinoHttp } from 'pino-http';
import type { ApiDeps } from './deps';
import { errorHandler, notFoundHandler } from './errors';
import { mountHealth } from './health';
import { createMetrics } from './metrics';
import { openApiDocument } from './openapi';
import { ApiRouter } from './router';
import { registerRoutes } from './routes';

export function createApp(deps: ApiDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  // Responses are live state, never revalidated: no point hashing every body for an ETag.
  app.set('etag', false);
  app.set('query parser', 'simple');

  app.use(
    pinoHttp({
      logger: deps.logger,
      genReqId: (req, res) => {
        const id = (req.headers['x-request-id'] as string | undefined)?.slice(0, 128) || randomUUID();
        res.setHeader('x-request-id', id);
        return id;
      },
      autoLogging: { ignore: (req) => req.url === '/healthz' || req.url === '/metrics' },
      // A failed request is what someone will look for; a success is routine.
      customLogLevel: (_req, res, err) => (err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info'),
      serializers: {
        req: (req: { id: string; method: string; url: string }) => ({ id: req.id, method: req.method, url: req.url }),
        res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      },
    }),
  );
  // Keep the raw bytes for webhook signature checks.
  app.use(
    express.json({
      limit: deps.config.BODY_LIMIT,
      strict: true,
      verify: (req, _res, buf) => {
        (req as unknown as { rawBody: Buffer }).rawBody = buf;
      },
    }),
  );

  const metrics = createMetrics();
  const api = new ApiRouter(deps, metrics);
  registerRoutes(api);

  mountHealth(app, deps);
  app.get('/metrics', async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
  const openapi = openApiDocument(api.registry);
  app.get('/openapi.json', (_req, res) => {
    res.json(openapi);
  });
  app.use(api.router);
  app.use(notFoundHandler);
  app.use(errorHandler(deps.logger));
  return app;
}
