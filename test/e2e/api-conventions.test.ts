import { accounts } from '../../domain/ledger/accounts';
import { ROLES, can, type Capability, type Role } from '../../domain/capabilities';
import { getBalance } from '../../db/ledger-reports';
import { signWebhook, webhookEventId } from '../../infra/fake-payment-provider';
import { startTestApi, type TestApi, type TestResponse } from '../support/api';
import { expectLedgerInvariants, type TestDatabase } from '../support/db';
import { startTestSystem, stopTestSystem } from '../support/system';
import { eventually, uniqueId, type TestWorker } from '../support/temporal';
import { answer } from '../support/typed-client';
import { requestHash } from '../../api/idempotency';

let tdb: TestDatabase;
let worker: TestWorker;
let api: TestApi;

beforeAll(async () => ({ tdb, worker, api } = await startTestSystem()));
afterAll(stopTestSystem);

const topupCount = async () => Number((await tdb.db('topups').count({ n: '*' }))[0].n);

describe('health, metrics, OpenAPI', () => {
  test('/healthz and /readyz answer when everything is up', async () => {
    expect((await answer(api.client().GET('/healthz'))).status).toBe(200);
    const ready = await answer(api.client().GET('/readyz'));
    expect(ready.status).toBe(200);
    expect(ready.body.checks).toEqual({ postgres: 'up', temporal: 'up', redis: 'up' });
  });

  test('/metrics is not public: without METRICS_TOKEN it is not on the API port at all', async () => {
    // Raw: /metrics is not one of the document's paths.
    expect((await api.request('GET', '/metrics')).status).toBe(404);
  });

  test('/metrics serves Prometheus text including request timings, to the metrics token', async () => {
    const token = 'api-conventions-metrics-token';
    const withToken = await startTestApi({
      db: tdb.db,
      temporal: worker.client,
      taskQueue: worker.taskQueue,
      env: { METRICS_TOKEN: token },
    });
    await answer(withToken.client(withToken.token('m1')).GET('/v1/wallet'));
    // Raw: /metrics is not one of the document's paths.
    const res = await withToken.request('GET', '/metrics', { headers: { authorization: `Bearer ${token}` } });
    await withToken.close();
    expect(res.status).toBe(200);
    expect(res.body).toContain('mandi_http_request_duration_seconds_bucket');
    expect(res.body).toContain('route="/v1/wallet"');
  });

  test('/openapi.json documents the routes from their zod schemas', async () => {
    // Raw: the document does not list itself.
    const res = await api.request('GET', '/openapi.json');
    expect(res.status).toBe(200);
    expect(res.body.openapi).toBe('3.1.0');
    const topups = res.body.paths['/v1/wallet/topups'].post;
    expect(topups.requestBody.content['application/json'].schema.properties.amount.type).toBe('integer');
    expect(topups['x-capability']).toBe('wallet:topup');
  });

  test('every response carries a request id, echoed when the client sends one', async () => {
    const res = await answer(api.client().GET('/healthz', { headers: { 'x-request-id': 'trace-123' } }));
    expect(res.headers.get('x-request-id')).toBe('trace-123');
  });
});

describe('authentication and capabilities', () => {
  test('no token, a bad token or an expired token is a 401 with a JSON error', async () => {
    expect((await answer(api.client().GET('/v1/wallet'))).body.error.code).toBe('unauthenticated');
    expect((await answer(api.client('not.a.jwt').GET('/v1/wallet'))).body.error.code).toBe('invalid_token');
    const { signToken } = await import('../../api/auth');
    const expired = signToken(api.secret, { userId: 'u', roles: ['customer'] }, -10);
    const res = await answer(api.client(expired).GET('/v1/wallet'));
    expect([res.status, res.body.error.code]).toEqual([401, 'token_expired']);
  });

  test('each role against each endpoint: capabilities decide, never a 500', async () => {
    // Raw, here and in the loop: the document does not list itself, and the paths come from it at run time.
    const doc = (await api.request('GET', '/openapi.json')).body;
    const operations: Array<{ method: string; path: string; capability: Capability | Capability[] }> = [];
    for (const [path, ops] of Object.entries<any>(doc.paths)) {
      for (const [method, op] of Object.entries<any>(ops)) {
        if (op['x-capability'] !== 'public')
          operations.push({ method, path: path.replace(/\{[^}]+\}/g, 'x1'), capability: op['x-capability'] });
      }
    }
    expect(operations.length).toBeGreaterThanOrEqual(4);
    for (const op of operations) {
      for (const role of ROLES) {
        const res = await api.request(op.method.toUpperCase(), op.path, {
          token: api.token(`matrix-${role}`, [role as Role]),
          body: op.method === 'get' ? undefined : {},
        });
        const allowed = [op.capability].flat().some((c) => can([role as Role], c));
        const verdict = `${role} ${op.method} ${op.path} -> ${res.status}`;
        if (allowed) expect([verdict, [401, 403].includes(res.status)]).toEqual([verdict, false]);
        else expect([verdict, res.status]).toEqual([verdict, 403]);
        expect([verdict, res.status < 500]).toEqual([verdict, true]);
      }
    }
  });

  test("a customer cannot read another customer's wallet; support can", async () => {
    const someoneElses = { params: { query: { userId: 'someone-else' } } };
    expect((await answer(api.client(api.token('nosy')).GET('/v1/wallet', someoneElses))).status).toBe(404);
    const support = await answer(api.client(api.token('agent', ['support'])).GET('/v1/wallet', someoneElses));
    expect(support.status).toBe(200);
  });
});

describe('bad input gets a 4xx JSON error and writes nothing', () => {
  async function refusedWritingNothing(send: () => Promise<TestResponse>, status: number, code: string) {
    const before = await topupCount();
    const res = await send();
    expect([res.status, res.body?.error?.code]).toEqual([status, code]);
    expect(await topupCount()).toBe(before);
  }

  const topupOf = (amount: number) => () =>
    answer(
      api.client(api.token('bad-input')).POST('/v1/wallet/topups', {
        params: { header: { 'Idempotency-Key': uniqueId('idem-') } },
        body: { amount, paymentMethod: 'pm_ok' },
      }),
    );
  test.each([
    ['fractional paise', 100.5],
    ['negative amount', -100],
  ])('%s', (_name, amount) => refusedWritingNothing(topupOf(amount), 400, 'validation_failed'));

  // Raw: what no typed call can carry — bytes that are not JSON, or not an object; types and
  // fields the document does not have; a body over the limit; another content type.
  const raw: Array<[string, { rawBody?: string; body?: unknown; headers?: Record<string, string> }, number, string]> = [
    ['malformed JSON', { rawBody: '{"amount": 100,' }, 400, 'malformed_json'],
    ['wrong type', { body: { amount: '100', paymentMethod: 'pm_ok' } }, 400, 'validation_failed'],
    ['unknown field', { body: { amount: 100, paymentMethod: 'pm_ok', bonus: 5 } }, 400, 'validation_failed'],
    ['missing field', { body: { amount: 100 } }, 400, 'validation_failed'],
    ['array body', { rawBody: '[1,2]' }, 400, 'validation_failed'],
    [
      'oversize body',
      { rawBody: JSON.stringify({ amount: 100, paymentMethod: 'pm_ok', pad: 'x'.repeat(200_000) }) },
      413,
      'payload_too_large',
    ],
    ['not JSON', { rawBody: 'amount=100', headers: { 'content-type': 'text/plain' } }, 415, 'unsupported_media_type'],
    // An empty body has no type to refuse: it is judged by the schema like a missing body.
    ['empty body of another type', { rawBody: '', headers: { 'content-type': 'text/plain' } }, 400, 'validation_failed'],
  ];
  test.each(raw)('%s', (_name, opts, status, code) =>
    refusedWritingNothing(
      () => api.request('POST', '/v1/wallet/topups', { token: api.token('bad-input'), idempotencyKey: uniqueId('idem-'), ...opts }),
      status,
      code,
    ),
  );

  test('a money POST without an Idempotency-Key is refused', async () => {
    const res = await answer(
      api.client(api.token('no-key')).POST(
        '/v1/wallet/topups',
        // @ts-expect-error the required Idempotency-Key header is left out on purpose
        { body: { amount: 100, paymentMethod: 'pm_ok' } },
      ),
    );
    expect([res.status, res.body.error.code]).toEqual([400, 'idempotency_key_required']);
  });

  test('an unknown route is a JSON 404', async () => {
    // Raw: a path the document does not have.
    const res = await api.request('GET', '/v1/nothing-here', { token: api.token('x') });
    expect([res.status, res.body.error.code]).toEqual([404, 'route_not_found']);
  });

  test('bad query parameters are a 400', async () => {
    const res = await answer(
      api.client(api.token('q')).GET('/v1/wallet/ledger', {
        // @ts-expect-error limit is a number; a word is sent on purpose
        params: { query: { limit: 'abc' } },
      }),
    );
    expect([res.status, res.body.error.code]).toEqual([400, 'validation_failed']);
  });
});

describe('idempotency', () => {
  test('a repeat returns the first response; another body with the same key is a 422', async () => {
    const mandi = api.client(api.token(uniqueId('idem')));
    const params = { header: { 'Idempotency-Key': uniqueId('key-') } };
    const body = { amount: 1_000, paymentMethod: 'pm_ok' };
    const first = await answer(mandi.POST('/v1/wallet/topups', { params, body }));
    const again = await answer(mandi.POST('/v1/wallet/topups', { params, body }));
    expect(first.status).toBe(202);
    expect(again.body).toEqual(first.body);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    const other = await answer(mandi.POST('/v1/wallet/topups', { params, body: { ...body, amount: 2_000 } }));
    expect([other.status, other.body.error.code]).toEqual([422, 'idempotency_key_reused']);
  });

  test('ten concurrent requests with one key produce one top-up and one credit', async () => {
    const user = uniqueId('conc');
    const mandi = api.client(api.token(user));
    const params = { header: { 'Idempotency-Key': uniqueId('key-') } };
    const responses = await Promise.all(
      Array.from({ length: 10 }, () =>
        answer(mandi.POST('/v1/wallet/topups', { params, body: { amount: 3_000, paymentMethod: 'pm_ok' } })),
      ),
    );
    const ids = new Set(responses.map((r) => r.body.topupId));
    expect(responses.every((r) => r.status === 202)).toBe(true);
    expect(ids.size).toBe(1);
    expect(await tdb.db('topups').where({ user_id: user }).count({ n: '*' })).toEqual([{ n: 1 }]);
    await eventually(async () => (await getBalance(tdb.db, accounts.userWallet(user))).balance === 3_000);
    await expectLedgerInvariants(tdb.db);
  });
});

describe('a claim its instance left unanswered (it died mid-request)', () => {
  const LEASE_SECONDS = 30;
  const body = { amount: 1_000, paymentMethod: 'pm_ok' };

  /** The row an instance writes when it claims a key, claimed `secondsAgo`, never answered. */
  async function abandonedClaim(user: string, key: string, secondsAgo: number, claimed = body) {
    await tdb.db('idempotency_keys').insert({
      user_id: user,
      key,
      method: 'post',
      path: '/v1/wallet/topups',
      request_hash: requestHash('post', '/v1/wallet/topups', claimed),
      claim_token: 'dead-instance',
      claimed_at: tdb.db.raw(`now() - make_interval(secs => ?)`, [secondsAgo]),
    });
  }
  const topup = (user: string, key: string, b = body) =>
    answer(api.client(api.token(user)).POST('/v1/wallet/topups', { params: { header: { 'Idempotency-Key': key } }, body: b }));

  test('past its lease, a retry with the same key and body takes it over and runs once', async () => {
    const [user, key] = [uniqueId('lease'), uniqueId('key-')];
    await abandonedClaim(user, key, LEASE_SECONDS + 5);
    const retry = await topup(user, key);
    expect(retry.status).toBe(202);
    expect(retry.headers.get('idempotent-replayed')).toBeNull();
    const again = await topup(user, key);
    expect([again.body, again.headers.get('idempotent-replayed')]).toEqual([retry.body, 'true']);
    expect(await tdb.db('topups').where({ user_id: user }).count({ n: '*' })).toEqual([{ n: 1 }]);
    await eventually(async () => (await getBalance(tdb.db, accounts.userWallet(user))).balance === 1_000);
    await expectLedgerInvariants(tdb.db);
  });

  test('a retry waiting on a live claim takes it over the moment its lease runs out', async () => {
    const [user, key] = [uniqueId('lease'), uniqueId('key-')];
    await abandonedClaim(user, key, LEASE_SECONDS - 2);
    const started = Date.now();
    const retry = await topup(user, key);
    expect(retry.status).toBe(202);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_500);
    expect(await tdb.db('topups').where({ user_id: user }).count({ n: '*' })).toEqual([{ n: 1 }]);
  });

  test('a claim still inside its lease answers 409 request_in_progress after the wait, and writes nothing', async () => {
    const [user, key] = [uniqueId('lease'), uniqueId('key-')];
    await abandonedClaim(user, key, 0);
    const retry = await topup(user, key);
    expect([retry.status, retry.body.error.code]).toEqual([409, 'request_in_progress']);
    expect(await tdb.db('topups').where({ user_id: user }).count({ n: '*' })).toEqual([{ n: 0 }]);
  }, 20_000);

  test('an abandoned claim of another body is not taken over: the key was reused (422)', async () => {
    const [user, key] = [uniqueId('lease'), uniqueId('key-')];
    await abandonedClaim(user, key, LEASE_SECONDS + 5, { ...body, amount: 9_999 });
    const retry = await topup(user, key);
    expect([retry.status, retry.body.error.code]).toEqual([422, 'idempotency_key_reused']);
    expect(await tdb.db('topups').where({ user_id: user }).count({ n: '*' })).toEqual([{ n: 0 }]);
  });

  test('a retry after the first attempt committed but died before answering finds that top-up, not a second one', async () => {
    const [user, key] = [uniqueId('lease'), uniqueId('key-')];
    const first = await topup(user, key);
    expect(first.status).toBe(202);
    // The instance died after its transaction, before it stored the answer.
    await tdb
      .db('idempotency_keys')
      .where({ user_id: user, key })
      .update({ status_code: null, response: null, claimed_at: tdb.db.raw(`now() - interval '1 hour'`) });
    const retry = await topup(user, key);
    expect([retry.status, retry.body.topupId]).toEqual([202, first.body.topupId]);
    expect(await tdb.db('topups').where({ user_id: user }).count({ n: '*' })).toEqual([{ n: 1 }]);
    await eventually(async () => (await getBalance(tdb.db, accounts.userWallet(user))).balance === 1_000);
    await expectLedgerInvariants(tdb.db);
  });
});

describe('top-ups over HTTP', () => {
  test.each([
    ['pm_ok', 'succeeded', 5_000],
    ['pm_flaky', 'succeeded', 5_000],
    ['pm_declined', 'declined', 0],
  ])('%s ends %s', async (paymentMethod, status, credited) => {
    const user = uniqueId('http');
    const mandi = api.client(api.token(user));
    const res = await answer(
      mandi.POST('/v1/wallet/topups', {
        params: { header: { 'Idempotency-Key': uniqueId('k-') } },
        body: { amount: 5_000, paymentMethod },
      }),
    );
    expect(res.status).toBe(202);
    const done = await eventually(async () => {
      const s = await answer(mandi.GET('/v1/wallet/topups/{topupId}', { params: { path: { topupId: res.body.topupId } } }));
      return ['succeeded', 'declined', 'failed'].includes(s.body.status) ? s.body : null;
    });
    expect(done.status).toBe(status);
    const wallet = await answer(mandi.GET('/v1/wallet'));
    expect(wallet.body).toMatchObject({ balance: credited, available: credited });
    const ledger = await answer(mandi.GET('/v1/wallet/ledger'));
    expect(ledger.body.entries.map((e: { amount: number }) => e.amount)).toEqual(credited ? [credited] : []);
    await expectLedgerInvariants(tdb.db);
  });

  test('another customer cannot see my top-up', async () => {
    const res = await answer(
      api.client(api.token('owner')).POST('/v1/wallet/topups', {
        params: { header: { 'Idempotency-Key': uniqueId('k-') } },
        body: { amount: 100, paymentMethod: 'pm_ok' },
      }),
    );
    const stranger = api.client(api.token('stranger'));
    const peek = await answer(stranger.GET('/v1/wallet/topups/{topupId}', { params: { path: { topupId: res.body.topupId } } }));
    expect(peek.status).toBe(404);
  });

  test('the provider webhook signals the flow; a bad signature is refused', async () => {
    const user = uniqueId('hook');
    const res = await answer(
      api.client(api.token(user)).POST('/v1/wallet/topups', {
        params: { header: { 'Idempotency-Key': uniqueId('k-') } },
        body: { amount: 800, paymentMethod: 'pm_timeout' },
      }),
    );
    const topup = await eventually(async () => {
      const row = await tdb.db('topups').where({ id: res.body.topupId }).first();
      return row.status === 'awaiting_confirmation' ? row : null;
    });
    const event = {
      id: webhookEventId(topup.provider_payment_id, 'payment.succeeded'),
      type: 'payment.succeeded' as const,
      paymentId: topup.provider_payment_id,
      amount: 800,
    };
    const raw = JSON.stringify(event);
    // The signature covers the exact bytes sent (these); the document does not declare its header.
    const deliver = (signature: string) =>
      answer(
        api.client().POST('/v1/webhooks/psp', { body: event, bodySerializer: () => raw, headers: { 'x-provider-signature': signature } }),
      );
    const forged = await deliver(`t=${Math.floor(Date.now() / 1000)},v1=${'f'.repeat(64)}`);
    expect([forged.status, forged.body.error.code]).toEqual([401, 'invalid_signature']);
    const signed = await deliver(signWebhook(raw, 'mandi-dev-webhook-secret'));
    expect(signed.status).toBe(200);
    await eventually(async () => (await getBalance(tdb.db, accounts.userWallet(user))).balance === 800, 1_500);
    await expectLedgerInvariants(tdb.db);
  });
});

describe('readiness when a dependency is down', () => {
  test('/readyz is a 503 naming Redis when Redis cannot be reached', async () => {
    const { RedisPubSub } = await import('../../infra/pubsub');
    const deadRedis = new RedisPubSub('redis://127.0.0.1:1');
    deadRedis.client.on('error', () => {});
    const degraded = await startTestApi({ db: tdb.db, temporal: worker.client, taskQueue: worker.taskQueue, pubsub: deadRedis });
    try {
      const res = await answer(degraded.client().GET('/readyz'));
      expect(res.status).toBe(503);
      expect(res.body.error.details.down).toEqual(['redis']);
    } finally {
      await degraded.close();
      await deadRedis.close();
    }
  });
});
