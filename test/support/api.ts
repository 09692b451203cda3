import type { Client } from '@temporalio/client';
import { loadConfig } from '../../app/config';
import { signToken } from '../../api/auth';
import { startHttpServer } from '../../api/server';
import type { MandiClient } from '../../clients/ts';
import type { Db } from '../../db/knex';
import type { Role } from '../../domain/capabilities';
import { InMemoryPubSub, type PubSub } from '../../infra/pubsub';
import { contractChecker } from './contract';
import { testLogger } from './temporal';
import { contractClient, expectHeldToContract, parseBody } from './typed-client';

export interface TestApi {
  url: string;
  /** Where /metrics is served without a token, when METRICS_PORT is set. */
  metricsUrl: string | null;
  secret: string;
  token(userId: string, roles?: Role[]): string;
  /**
   * The typed client (clients/ts) acting with `token`, or anonymously: how tests call the API, so
   * that a changed route breaks their compile. Read its answers with `answer()` (./typed-client).
   */
  client(token?: string): MandiClient;
  /**
   * A request the typed client cannot express (malformed JSON, raw bytes, wrong types or unknown
   * fields on purpose, paths outside the document): say at the call why it is sent raw.
   */
  request(method: string, path: string, options?: RequestOptions): Promise<TestResponse>;
  close(): Promise<void>;
}

export interface RequestOptions {
  token?: string;
  body?: unknown;
  /** Sent as-is (for malformed-JSON tests). */
  rawBody?: string;
  headers?: Record<string, string>;
  idempotencyKey?: string;
}

export interface TestResponse {
  status: number;
  body: any;
  headers: Headers;
}

/** The real Express API on an ephemeral port, wired to the test's database and worker task queue. */
export async function startTestApi(options: {
  db: Db;
  temporal: Client;
  taskQueue: string;
  pubsub?: PubSub;
  env?: Record<string, string>;
}): Promise<TestApi> {
  const config = loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', TEMPORAL_TASK_QUEUE: options.taskQueue, ...options.env });
  const server = await startHttpServer(
    { config, db: options.db, temporal: options.temporal, pubsub: options.pubsub ?? new InMemoryPubSub(), logger: testLogger },
    0,
    '127.0.0.1',
  );
  const token = (userId: string, roles: Role[] = ['customer']) => signToken(config.JWT_SECRET, { userId, roles });
  // Every answer any end-to-end test receives is held to the OpenAPI document.
  const contract = contractChecker();
  return {
    url: server.url,
    metricsUrl: server.metricsUrl,
    secret: config.JWT_SECRET,
    token,
    client: (bearer) => contractClient({ baseUrl: server.url, contract, token: bearer }),
    request: async (method, path, opts = {}) => {
      const headers: Record<string, string> = { ...opts.headers };
      if (opts.token) headers.authorization = `Bearer ${opts.token}`;
      if (opts.idempotencyKey) headers['idempotency-key'] = opts.idempotencyKey;
      let body: string | undefined;
      if (opts.rawBody !== undefined) body = opts.rawBody;
      else if (opts.body !== undefined) body = JSON.stringify(opts.body);
      if (body !== undefined && !headers['content-type']) headers['content-type'] = 'application/json';
      const res = await fetch(`${server.url}${path}`, { method, headers, body });
      const answer = { status: res.status, body: parseBody(await res.text()), headers: res.headers };
      expectHeldToContract(contract, method, path, answer);
      return answer;
    },
    close: server.close,
  };
}
