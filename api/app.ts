import express, { type Express } from 'express';
import type { ApiDeps } from './deps';
import { errorHandler, notFoundHandler } from './errors';
import { mountHealth } from './health';
import { createMetrics } from './metrics';
import { openApiDocument } from './openapi';
import { requestLog } from './request-log';
import { ApiRouter } from './router';
import { registerRoutes } from './routes';

export function createApp(deps: ApiDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  // Responses are live state, never revalidated: no point hashing every body for an ETag.
  app.set('etag', false);
  app.set('query parser', 'simple');

  app.use(requestLog(deps.logger, { ignore: (url) => url === '/healthz' || url === '/metrics' }));
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
