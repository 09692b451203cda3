import net from 'node:net';
import { gzipSync } from 'node:zlib';
import jwt from 'jsonwebtoken';
import { signToken } from '../../api/auth';
import { marketUserChannel } from '../../domain/market/feed';
import { InMemoryPubSub } from '../../infra/pubsub';
import { startTestApi, type TestApi } from '../support/api';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { startTestWorker, type TestWorker } from '../support/temporal';
import { answer } from '../support/typed-client';
import { WsTestClient } from '../support/ws-client';

/**
 * The edges an attacker or a careless client reaches first: text that Postgres would choke on,
 * framework-level failures, slow and oversized requests, exposure of /metrics, floods, and tokens
 * (expiry is mandatory; a WebSocket stops private delivery when its token expires).
 */

let tdb: TestDatabase;
let worker: TestWorker;
let api: TestApi;
const pubsub = new InMemoryPubSub();
const METRICS_TOKEN = 'metrics-token-for-tests-0123456789';

beforeAll(async () => {
  tdb = await createTestDatabase();
  worker = await startTestWorker({ db: tdb.db });
  api = await startTestApi({
    db: tdb.db,
    temporal: worker.client,
    taskQueue: worker.taskQueue,
    pubsub,
    env: { BODY_READ_TIMEOUT_MS: '300', METRICS_TOKEN },
  });
});
afterAll(async () => {
  await api?.close();
  await worker?.shutdown();
  await tdb?.drop();
});

const topupCount = async () => Number((await tdb.db('topups').count({ n: '*' }))[0].n);

/** One raw HTTP exchange, for what fetch refuses to send (bad bytes, lying lengths, huge URLs). */
function rawRequest(
  url: string,
  request: string | Buffer,
  options: { holdOpenMs?: number } = {},
): Promise<{ status: number; headers: string; body: string }> {
  const { port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), '127.0.0.1', () => socket.write(request));
    let data = '';
    socket.on('data', (chunk) => (data += chunk.toString('utf8')));
    socket.on('error', reject);
    socket.on('close', () => {
      const [head, ...rest] = data.split('\r\n\r\n');
      resolve({ status: Number(head.split(' ')[1]), headers: head, body: rest.join('\r\n\r\n') });
    });
    if (options.holdOpenMs) setTimeout(() => socket.end(), options.holdOpenMs).unref();
  });
}

describe('one text rule for everything a request carries', () => {
  const token = () => api.token('text-user');
  const topup = (key: string, paymentMethod: string) =>
    answer(
      api.client(token()).POST('/v1/wallet/topups', {
        params: { header: { 'Idempotency-Key': key } },
        body: { amount: 1000, paymentMethod },
      }),
    );

  test.each([
    ['NUL', 'x\u0000y'],
    ['escape character', 'x\u001by'],
    ['DEL', 'x\u007fy'],
    ['C1 control', 'x\u0085y'],
    ['lone high surrogate', 'x\ud800y'],
    ['lone low surrogate', 'x\udc00y'],
  ])('%s in a body string is a 400 invalid_text and writes nothing', async (_name, bad) => {
    const before = await topupCount();
    const res = await topup(`text-${Math.random().toString(36).slice(2)}`, bad);
    expect([res.status, res.body.error.code]).toEqual([400, 'invalid_text']);
    expect(res.body.error.details).toMatchObject({ path: 'body.paymentMethod' });
    expect(await topupCount()).toBe(before);
  });

  test('tab and newline stay allowed in free text; a string over the global bound does not', async () => {
    const ok = await topup('text-too-long-0001', 'y'.repeat(5000));
    expect([ok.status, ok.body.error.code, ok.body.error.details.problem]).toEqual([400, 'invalid_text', 'too_long']);
  });

  test('NUL in a query string or a path parameter is a 400, not a 500', async () => {
    const query = await answer(
      api.client(token()).GET('/v1/wallet/ledger', {
        // @ts-expect-error limit is a number; a NUL is sent on purpose
        params: { query: { limit: '\u0000' } },
      }),
    );
    expect([query.status, query.body.error.code]).toEqual([400, 'invalid_text']);
    const path = await answer(api.client(token()).GET('/v1/wallet/topups/{topupId}', { params: { path: { topupId: 'tu_\u0000' } } }));
    expect([path.status, path.body.error.code]).toEqual([400, 'invalid_text']);
  });

  test('a badly percent-encoded query value is a 400, not silently read as U+FFFD', async () => {
    // Raw: bytes that do not decode, and a repeated parameter, are URLs the typed client does not write.
    const res = await api.request('GET', '/v1/wallet?userId=fuzz%ED%A0%80', { token: api.token('admin-q', ['admin']) });
    expect([res.status, res.body.error.code]).toEqual([400, 'malformed_url']);
    const fine = await api.request('GET', '/v1/wallet/ledger?limit=5&limit=6', { token: token() });
    expect(fine.status).toBe(400); // a repeated parameter is an array, which the schema refuses
  });

  test('the probes refuse unknown query parameters like every route', async () => {
    // Raw: a query parameter the document does not have.
    const res = await api.request('GET', '/healthz?x=1');
    expect([res.status, res.body.error.code]).toEqual([400, 'validation_failed']);
  });

  test('NUL in an object key is refused too', async () => {
    // Raw: a field the document does not have.
    const res = await api.request('POST', '/v1/wallet/topups', {
      token: token(),
      idempotencyKey: 'text-key-nul-0001',
      rawBody: '{"amount":1000,"paymentMethod":"pm_ok","a\\u0000b":1}',
    });
    expect([res.status, res.body.error.code]).toEqual([400, 'invalid_text']);
  });

  test('a body that is not UTF-8 is refused rather than stored as U+FFFD', async () => {
    const body = Buffer.concat([Buffer.from('{"amount":1000,"paymentMethod":"pm_'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]);
    const { port } = new URL(api.url);
    const res = await rawRequest(
      api.url,
      Buffer.concat([
        Buffer.from(
          `POST /v1/wallet/topups HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: Bearer ${token()}\r\n` +
            `Idempotency-Key: text-utf8-0001\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`,
        ),
        body,
      ]),
    );
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body).error.code).toBe('invalid_text');
  });
});

describe('framework failures are JSON 4xx', () => {
  test('bad percent-encoding in a path, even without a token', async () => {
    // Raw: the typed client encodes what it sends.
    const res = await api.request('GET', '/v1/wallet/topups/%');
    expect(res.status).toBe(400);
    expect(res.body.error).toEqual({ code: 'malformed_url', message: expect.any(String), details: {} });
  });

  test.each(['gzip', 'br', 'deflate'])('Content-Encoding: %s on a body that is not is a 400, on the webhook too', async (encoding) => {
    for (const path of ['/v1/wallet/topups', '/v1/webhooks/psp']) {
      // Raw: a header that lies about the body.
      const res = await api.request('POST', path, {
        token: api.token('enc-user'),
        idempotencyKey: `enc-${encoding}-${path.length}`,
        rawBody: '{"amount":1000,"paymentMethod":"pm_ok"}',
        headers: { 'content-encoding': encoding },
      });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('malformed_body');
    }
  });

  test('a correctly gzipped body is read as usual', async () => {
    const { port } = new URL(api.url);
    const body = gzipSync('{"amount":1000,"paymentMethod":"pm_ok"}');
    const res = await rawRequest(
      api.url,
      Buffer.concat([
        Buffer.from(
          `POST /v1/wallet/topups HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: Bearer ${api.token('gzip-user')}\r\n` +
            `Idempotency-Key: gzip-ok-0001\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`,
        ),
        body,
      ]),
    );
    expect(res.status).toBe(202);
  });

  test('a body slower than its Content-Length gets a JSON 408 and the connection is closed', async () => {
    const { port } = new URL(api.url);
    const before = await topupCount();
    const started = Date.now();
    const res = await rawRequest(
      api.url,
      `POST /v1/wallet/topups HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: Bearer ${api.token('slow-user')}\r\n` +
        `Idempotency-Key: slow-body-0001\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"amount":`,
    );
    expect(res.status).toBe(408);
    expect(JSON.parse(res.body).error.code).toBe('request_timeout');
    expect(Date.now() - started).toBeLessThan(5000);
    expect(await topupCount()).toBe(before);
  });

  test('a 20 kB URL is a JSON 431', async () => {
    const { port } = new URL(api.url);
    const res = await rawRequest(api.url, `GET /v1/markets?q=${'a'.repeat(20_000)} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
    expect(res.status).toBe(431);
    expect(JSON.parse(res.body).error.code).toBe('headers_too_large');
  });

  test('every error carries details, an object', async () => {
    // Raw: a path the document does not have.
    const res = await api.request('GET', '/v1/nowhere');
    expect(res.body.error.details).toEqual({});
    const invalid = await answer(
      api.client(api.token('d-user')).GET('/v1/wallet/ledger', {
        // @ts-expect-error limit is a number; a word is sent on purpose
        params: { query: { limit: 'abc' } },
      }),
    );
    expect(invalid.status).toBe(400);
    expect(Array.isArray(invalid.body.error.details.issues)).toBe(true);
  });
});

describe('exposure', () => {
  test('a request id is echoed only when short and safe; otherwise replaced', async () => {
    const health = (requestId: string) => answer(api.client().GET('/healthz', { headers: { 'x-request-id': requestId } }));
    const safe = await health('trace-abc.123:x');
    expect(safe.headers.get('x-request-id')).toBe('trace-abc.123:x');
    const long = await health('r'.repeat(6000));
    expect(long.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const odd = await health('a b<script>');
    expect(odd.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  test('/metrics needs the metrics token', async () => {
    await answer(api.client(api.token('metrics-user')).GET('/v1/wallet'));
    // Raw: /metrics is not one of the document's paths.
    expect((await api.request('GET', '/metrics')).status).toBe(401);
    expect((await api.request('GET', '/metrics', { headers: { authorization: 'Bearer wrong-token-wrong-token-xx' } })).status).toBe(401);
    const ok = await api.request('GET', '/metrics', { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(ok.status).toBe(200);
    expect(ok.body).toContain('mandi_http_request_duration_seconds_bucket');
  });

  test('without a token, /metrics is not on the public port at all but on METRICS_PORT', async () => {
    const other = await startTestApi({ db: tdb.db, temporal: worker.client, taskQueue: worker.taskQueue, env: { METRICS_PORT: '0' } });
    try {
      // Raw: /metrics is not one of the document's paths.
      expect((await other.request('GET', '/metrics')).status).toBe(404);
      const scraped = await fetch(other.metricsUrl!);
      expect(scraped.status).toBe(200);
      expect(await scraped.text()).toContain('mandi_http_request_duration_seconds');
    } finally {
      await other.close();
    }
  });

  test('every endpoint has a limit per client address, public ones included', async () => {
    const limited = await startTestApi({
      db: tdb.db,
      temporal: worker.client,
      taskQueue: worker.taskQueue,
      env: { RATE_LIMIT_PER_IP_PER_MINUTE: '5' },
    });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 7; i++) statuses.push((await answer(limited.client().GET('/healthz'))).status);
      expect(statuses.slice(0, 5)).toEqual([200, 200, 200, 200, 200]);
      // Raw: an empty event, unsigned, which only the limit gets to refuse.
      const refused = await limited.request('POST', '/v1/webhooks/psp', { rawBody: '{}' });
      expect([refused.status, refused.body.error.code]).toEqual([429, 'rate_limited']);
    } finally {
      await limited.close();
    }
  });
});

describe('tokens', () => {
  test('a token without exp is refused', async () => {
    const unexpiring = jwt.sign({ roles: ['customer'] }, api.secret, { algorithm: 'HS256', subject: 'no-exp' });
    const res = await answer(api.client(unexpiring).GET('/v1/wallet'));
    expect([res.status, res.body.error.code]).toEqual([401, 'invalid_token']);
  });

  test('a WebSocket stops delivering private events when its token expires, and resumes with a fresh one', async () => {
    const userId = 'ws-expiry-user';
    const shortLived = signToken(api.secret, { userId, roles: ['customer'] }, 2);
    const ws = await WsTestClient.connect(api.url, shortLived);
    try {
      await ws.waitFor((m) => m.type === 'authenticated');
      await pubsub.publish(marketUserChannel(userId), { type: 'order', n: 1 });
      await ws.waitFor((m) => m.type === 'order' && m.n === 1);
      await ws.waitFor((m) => m.type === 'error' && m.code === 'token_expired', 5000);
      await pubsub.publish(marketUserChannel(userId), { type: 'order', n: 2 });
      ws.send({ op: 'auth', token: signToken(api.secret, { userId, roles: ['customer'] }, 60) });
      await ws.waitFor((m) => m.type === 'authenticated' && ws.messages.filter((x) => x.type === 'authenticated').length === 2);
      await pubsub.publish(marketUserChannel(userId), { type: 'order', n: 3 });
      await ws.waitFor((m) => m.type === 'order' && m.n === 3);
      expect(ws.messages.filter((m) => m.type === 'order').map((m) => m.n)).toEqual([1, 3]);
    } finally {
      ws.close();
    }
  });

  test('WebSocket frames follow the text rule, and a flood closes the socket', async () => {
    const ws = await WsTestClient.connect(api.url);
    try {
      ws.send({ op: 'subscribe', market: 'mk_\u0000' });
      await ws.waitFor((m) => m.type === 'error' && m.code === 'invalid_text');
      for (let i = 0; i < 80; i++) ws.send({ op: 'unsubscribe', market: 'mk_none' });
      await ws.closed();
      expect(ws.closeCode).toBe(1008);
    } finally {
      ws.close();
    }
  });
});
