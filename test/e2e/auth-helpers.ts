import { randomInt } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type Redis from 'ioredis';
import { loadConfig, type Config } from '../../app/config';
import { signToken } from '../../api/auth';
import { startHttpServer } from '../../api/server';
import type { MandiClient } from '../../clients/ts';
import type { Db } from '../../db/knex';
import type { Role } from '../../domain/capabilities';
import { parseMobileNumber } from '../../domain/identity';
import { InMemoryPubSub } from '../../infra/pubsub';
import type { TestResponse } from '../support/api';
import { contractChecker } from '../support/contract';
import { testLogger } from '../support/temporal';
import { answer, contractClient, parseBody } from '../support/typed-client';

/**
 * The real API for identity tests: like test/support/api.ts, plus Redis (OTP codes, revocations)
 * and a client address of the test's own (X-Forwarded-For behind one trusted hop), so the per-
 * address limits counted in the shared Redis never mix runs or test files.
 */
export interface AuthApi {
  url: string;
  config: Config;
  /** The address requests come from unless a request names another. */
  ip: string;
  devToken(userId: string, roles?: Role[]): string;
  /** The typed client acting with `token` (or anonymously), from this API's address or `ip`; every answer held to the document. */
  client(token?: string, options?: { ip?: string }): MandiClient;
  /**
   * A request the typed client cannot express (fields or types the document does not have), or
   * whose answer the document does not describe yet: not held to the document. Say at the call why.
   */
  request(
    method: string,
    path: string,
    options?: { token?: string; body?: unknown; ip?: string; headers?: Record<string, string> },
  ): Promise<TestResponse>;
  /** Asks for a code, reads it from the sandbox outbox, logs in: the token pair. */
  login(phone: string, options?: { device?: string; ip?: string }): Promise<any>;
  close(): Promise<void>;
}

export const randomIp = () => `10.${randomInt(256)}.${randomInt(256)}.${randomInt(1, 255)}`;

/** A valid Indian mobile number nobody else in the run uses. */
export function randomPhone(): string {
  for (;;) {
    const candidate = `+91${randomInt(6, 10)}${String(randomInt(0, 1e9)).padStart(9, '0')}`;
    if (parseMobileNumber(candidate, 'IN') === candidate) return candidate;
  }
}

export async function startAuthApi(options: {
  db: Db;
  temporal: Client;
  taskQueue: string;
  redis?: Redis;
  env?: Record<string, string>;
}): Promise<AuthApi> {
  const config = loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    TEMPORAL_TASK_QUEUE: options.taskQueue,
    TRUST_PROXY_HOPS: '1',
    ...options.env,
  });
  const server = await startHttpServer(
    { config, db: options.db, temporal: options.temporal, pubsub: new InMemoryPubSub(), logger: testLogger, redis: options.redis },
    0,
    '127.0.0.1',
  );
  const ip = randomIp();
  const headersFrom = (address: string) => ({ 'x-forwarded-for': address, 'user-agent': 'mandi-tests/1.0' });
  const contract = contractChecker();
  const client: AuthApi['client'] = (token, opts = {}) =>
    contractClient({ baseUrl: server.url, contract, token, headers: headersFrom(opts.ip ?? ip) });
  const request: AuthApi['request'] = async (method, path, opts = {}) => {
    const headers: Record<string, string> = { ...headersFrom(opts.ip ?? ip), ...opts.headers };
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    let body: string | undefined;
    if (opts.body !== undefined) {
      body = JSON.stringify(opts.body);
      headers['content-type'] = 'application/json';
    }
    const res = await fetch(`${server.url}${path}`, { method, headers, body });
    return { status: res.status, body: parseBody(await res.text()), headers: res.headers };
  };
  const login: AuthApi['login'] = async (phone, opts = {}) => {
    const anonymous = client(undefined, { ip: opts.ip });
    const sent = await answer(anonymous.POST('/v1/auth/otp', { body: { phone } }));
    if (sent.status !== 202) throw new Error(`OTP request failed: ${sent.status} ${JSON.stringify(sent.body)}`);
    const outbox = await answer(client().GET('/v1/dev/otp-outbox', { params: { query: { phone } } }));
    const code = outbox.body.messages[0].code;
    const verified = await answer(
      anonymous.POST('/v1/auth/otp/verify', {
        body: { phone, code, termsVersion: config.AUTH_TERMS_VERSION, ...(opts.device ? { device: opts.device } : {}) },
      }),
    );
    if (verified.status !== 200) throw new Error(`login failed: ${verified.status} ${JSON.stringify(verified.body)}`);
    return verified.body;
  };
  return {
    url: server.url,
    config,
    ip,
    devToken: (userId, roles = ['customer']) => signToken(config.JWT_SECRET, { userId, roles }),
    client,
    request,
    login,
    close: server.close,
  };
}
