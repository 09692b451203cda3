import { Client } from '@temporalio/client';
import type { Config } from '../app/config';
import { createLogger } from '../app/logger';
import { createDb } from '../db/knex';
import { InMemoryPubSub } from '../infra/pubsub';
import { createMetrics } from './metrics';
import { documentOptions, openApiDocument } from './openapi';
import { ApiRouter } from './router';
import { registerRoutes } from './routes';

/**
 * The routes as the app declares them, registered on a router that never serves: its database
 * pool and Temporal connection are lazy and nothing here uses them. For scripts and tests that
 * need the contract without a running system (scripts/write-openapi.ts, the unit tests).
 */
export function declaredRoutes(config: Config): ApiRouter {
  const api = documentsOnlyRouter(config);
  registerRoutes(api);
  return api;
}

/** A router of the kind declaredRoutes uses, with nothing registered on it yet. */
export function documentsOnlyRouter(config: Config): ApiRouter {
  const deps = {
    config,
    db: createDb('postgres://documents-only@127.0.0.1:1/none'),
    temporal: new Client(),
    pubsub: new InMemoryPubSub(),
    logger: createLogger('silent'),
  };
  return new ApiRouter(deps, createMetrics());
}

/** The OpenAPI document exactly as GET /openapi.json serves it with this config. */
export function buildOpenApiDocument(config: Config) {
  return openApiDocument(declaredRoutes(config).registry, documentOptions(config));
}
