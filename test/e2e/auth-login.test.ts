import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import Redis from 'ioredis';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { testEnv } from '../support/env';
import { connectClient } from '../support/temporal';
import { randomIp, randomPhone, startAuthApi, type AuthApi } from './auth-helpers';

/**
 * Logging in end to end over HTTP, on real Redis and Postgres: a code from the sandbox outbox, a
 * protected call, refresh rotation with reuse detection, logout-all stopping a live access token,
 * remote logout, role changes, and the answers for bad input.
 */

let tdb: TestDatabase;
let temporal: { client: Client; close(): Promise<void> };
let redis: Redis;
let api: AuthApi;

beforeAll(async () => {
  tdb = await createTestDatabase();
  temporal = await connectClient();
  redis = new Redis(testEnv.redisUrl, { maxRetriesPerRequest: 3, enableAutoPipelining: true });
  // No wait between codes here (their back-off has its own test below, with the real limits).
  api = await startAuthApi({
    db: tdb.db,
    temporal: temporal.client,
    taskQueue: `test-${randomUUID()}`,
    redis,
    env: { OTP_RESEND_BACKOFF_SECONDS: '0', OTP_MAX_SENDS_PER_WINDOW: '20' },
  });
});
afterAll(async () => {
  await api?.close();
  redis?.disconnect();
  await temporal?.close();
  await tdb?.drop();
});

test('code → outbox → login → protected call → refresh → reuse ends the family → logout-all stops a live token', async () => {
  const phone = randomPhone();
  const sent = await api.request('POST', '/v1/auth/otp', { body: { phone: phone.slice(3) } }); // national form: Indian by default
  expect(sent.status).toBe(202);
  expect(sent.body).toMatchObject({ sent: true, phone, expiresIn: 300, termsVersion: api.config.AUTH_TERMS_VERSION });

  const outbox = await api.request('GET', `/v1/dev/otp-outbox?phone=${encodeURIComponent(phone)}`);
  expect(outbox.status).toBe(200);
  const [message] = outbox.body.messages;
  expect(message.code).toMatch(/^\d{6}$/);
  expect(message.body).toContain(message.code);
  // Only the keyed hash is in Redis.
  const stored = await redis.hgetall(`mandi:otp:code:${phone}`);
  expect(JSON.stringify(stored)).not.toContain(message.code);

  const login = await api.request('POST', '/v1/auth/otp/verify', {
    body: { phone, code: message.code, termsVersion: api.config.AUTH_TERMS_VERSION, device: 'Pixel 8' },
  });
  expect(login.status).toBe(200);
  expect(login.body).toMatchObject({ tokenType: 'Bearer', expiresIn: 900, isNewUser: true, user: { phone, roles: ['customer'] } });
  const { accessToken, refreshToken, user } = login.body;
  expect(user.userId).toMatch(/^usr_/);

  // The code was used up.
  const again = await api.request('POST', '/v1/auth/otp/verify', {
    body: { phone, code: message.code, termsVersion: api.config.AUTH_TERMS_VERSION },
  });
  expect(again.status).toBe(401);

  const wallet = await api.request('GET', '/v1/wallet', { token: accessToken });
  expect(wallet.status).toBe(200);
  expect(wallet.body.userId).toBe(user.userId);

  const refreshed = await api.request('POST', '/v1/auth/refresh', { body: { refreshToken } });
  expect(refreshed.status).toBe(200);
  expect(refreshed.body.refreshToken).not.toBe(refreshToken);
  expect(refreshed.body.sessionId).toBe(login.body.sessionId);
  expect((await api.request('GET', '/v1/wallet', { token: refreshed.body.accessToken })).status).toBe(200);

  // The retired token shown again: the whole session ends, for both holders.
  const reuse = await api.request('POST', '/v1/auth/refresh', { body: { refreshToken } });
  expect(reuse.status).toBe(401);
  expect(reuse.body.error.code).toBe('refresh_token_reused');
  expect((await api.request('POST', '/v1/auth/refresh', { body: { refreshToken: refreshed.body.refreshToken } })).status).toBe(401);
  const afterReuse = await api.request('GET', '/v1/wallet', { token: refreshed.body.accessToken });
  expect(afterReuse.status).toBe(401);
  expect(afterReuse.body.error.code).toBe('token_revoked');
  const reuseAudit = await tdb.db('audit_log').where({ action: 'auth.refresh_reuse_detected', actor: user.userId }).first();
  expect(reuseAudit.details).toMatchObject({ ip: api.ip, userAgent: 'mandi-tests/1.0' });

  // Log in on two devices; logout-all stops an access token well inside its 15 minutes.
  const phoneLogin = await api.login(phone, { device: 'phone' });
  const tabletLogin = await api.login(phone, { device: 'tablet' });
  expect(phoneLogin.isNewUser).toBe(false);
  expect((await api.request('GET', '/v1/wallet', { token: tabletLogin.accessToken })).status).toBe(200);
  const all = await api.request('POST', '/v1/auth/logout-all', { token: phoneLogin.accessToken });
  expect(all.status).toBe(200);
  expect(all.body).toEqual({ sessionsEnded: 2 });
  for (const pair of [phoneLogin, tabletLogin]) {
    const res = await api.request('GET', '/v1/wallet', { token: pair.accessToken });
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('token_revoked');
    expect((await api.request('POST', '/v1/auth/refresh', { body: { refreshToken: pair.refreshToken } })).status).toBe(401);
  }

  const actions = await tdb.db('audit_log').where({ actor: user.userId }).orderBy('id').pluck('action');
  expect(actions).toEqual(expect.arrayContaining(['auth.login', 'auth.refresh', 'auth.refresh_reuse_detected', 'auth.logout_all']));
  expect(await tdb.db('audit_log').where({ action: 'auth.otp_sent' }).count()).not.toEqual([{ count: 0 }]);
  const sentAudit = await tdb.db('audit_log').where({ action: 'auth.otp_sent' }).first();
  expect(JSON.stringify(sentAudit)).not.toContain(phone); // a pseudonym and a masked number only
  expect(sentAudit.details).toMatchObject({ ip: api.ip, userAgent: 'mandi-tests/1.0' });
});

test('sessions: list my devices, log one out remotely, log this one out', async () => {
  const phone = randomPhone();
  const a = await api.login(phone, { device: 'phone' });
  const b = await api.login(phone, { device: 'laptop' });
  const list = await api.request('GET', '/v1/auth/sessions', { token: a.accessToken });
  expect(list.status).toBe(200);
  expect(list.body.sessions.map((s: any) => [s.device, s.current]).sort()).toEqual([
    ['laptop', false],
    ['phone', true],
  ]);
  expect(list.body.sessions[0]).toMatchObject({ ip: api.ip, userAgent: 'mandi-tests/1.0' });

  const remote = await api.request('DELETE', `/v1/auth/sessions/${b.sessionId}`, { token: a.accessToken });
  expect(remote.status).toBe(200);
  expect((await api.request('GET', '/v1/wallet', { token: b.accessToken })).status).toBe(401);
  expect((await api.request('GET', '/v1/wallet', { token: a.accessToken })).status).toBe(200); // only that device

  // Another user's session is not mine to end (and is not revealed).
  const stranger = await api.login(randomPhone());
  expect((await api.request('DELETE', `/v1/auth/sessions/${stranger.sessionId}`, { token: a.accessToken })).status).toBe(404);
  expect((await api.request('GET', '/v1/wallet', { token: stranger.accessToken })).status).toBe(200);

  const out = await api.request('POST', '/v1/auth/logout', { token: a.accessToken });
  expect(out.status).toBe(200);
  expect((await api.request('GET', '/v1/wallet', { token: a.accessToken })).status).toBe(401);
  expect((await api.request('POST', '/v1/auth/refresh', { body: { refreshToken: a.refreshToken } })).status).toBe(401);
});

test('roles live in Postgres: an admin grants support; the old token stops, the next refresh carries it', async () => {
  const { user, accessToken, refreshToken } = await api.login(randomPhone());
  const admin = api.devToken('ops_admin', ['admin']);
  expect((await api.request('GET', '/v1/ops/alerts', { token: accessToken })).status).toBe(403);

  // Customers cannot grant themselves anything.
  const self = await api.request('POST', `/v1/admin/users/${user.userId}/roles`, { token: accessToken, body: { grant: ['admin'] } });
  expect(self.status).toBe(403);
  const bad = await api.request('POST', `/v1/admin/users/${user.userId}/roles`, { token: admin, body: { grant: ['root'] } });
  expect(bad.status).toBe(400);
  expect(
    (await api.request('POST', `/v1/admin/users/usr_aaaaaaaaaaaaaaaaaaaa/roles`, { token: admin, body: { grant: ['support'] } })).status,
  ).toBe(404);

  const granted = await api.request('POST', `/v1/admin/users/${user.userId}/roles`, { token: admin, body: { grant: ['support'] } });
  expect(granted.status).toBe(200);
  expect(granted.body.roles).toEqual(['customer', 'support']);
  expect((await api.request('GET', '/v1/wallet', { token: accessToken })).status).toBe(401);
  const next = await api.request('POST', '/v1/auth/refresh', { body: { refreshToken } });
  expect(next.body.user.roles).toEqual(['customer', 'support']);
  expect((await api.request('GET', '/v1/ops/alerts', { token: next.body.accessToken })).status).toBe(200);
  const audit = await tdb.db('audit_log').where({ action: 'auth.roles_changed', target_id: user.userId }).first();
  expect(audit).toMatchObject({ actor: 'ops_admin', roles: ['admin'] });
  expect(audit.details).toMatchObject({ granted: ['support'], roles: ['customer', 'support'], ip: api.ip });

  // Support may look users up by phone, but not grant roles.
  const found = await api.request('GET', `/v1/admin/users?phone=${encodeURIComponent(user.phone)}`, { token: next.body.accessToken });
  expect(found.status).toBe(200);
  expect(found.body.users.map((u: any) => u.userId)).toEqual([user.userId]);
  expect(
    (await api.request('POST', `/v1/admin/users/${user.userId}/roles`, { token: next.body.accessToken, body: { revoke: ['support'] } }))
      .status,
  ).toBe(403);
});

test('a user linked to a seller gets the seller role', async () => {
  const { user, refreshToken } = await api.login(randomPhone());
  const sellerId = `s_${randomUUID().slice(0, 8)}`;
  const admin = api.devToken('ops_admin', ['admin']);
  expect(
    (
      await api.request('POST', '/v1/sellers', {
        token: admin,
        body: { sellerId, name: 'Dairy', commissionBps: 1000, bankAccountRef: 'bank_ok' },
      })
    ).status,
  ).toBe(201);
  const linked = await api.request('PUT', `/v1/admin/users/${user.userId}/sellers/${sellerId}`, { token: admin });
  expect(linked.status).toBe(200);
  expect(linked.body).toMatchObject({ sellerIds: [sellerId], roles: ['customer', 'seller'] });
  expect((await api.request('POST', '/v1/auth/refresh', { body: { refreshToken } })).body.user.roles).toEqual(['customer', 'seller']);
});

test('a linked user acts for their seller and only theirs; an unlinked login is told the seller does not exist', async () => {
  const admin = api.devToken('ops_admin', ['admin']);
  const createSeller = async () => {
    const sellerId = `s_${randomUUID().slice(0, 8)}`;
    const body = { sellerId, name: 'Dairy', commissionBps: 1000, bankAccountRef: 'bank_ok' };
    expect((await api.request('POST', '/v1/sellers', { token: admin, body })).status).toBe(201);
    return sellerId;
  };
  const [mine, theirs] = [await createSeller(), await createSeller()];
  const owner = await api.login(randomPhone());
  expect((await api.request('PUT', `/v1/admin/users/${owner.user.userId}/sellers/${mine}`, { token: admin })).status).toBe(200);
  // The link bumps the token version: the next access token carries the seller role.
  const { accessToken } = (await api.request('POST', '/v1/auth/refresh', { body: { refreshToken: owner.refreshToken } })).body;

  const listed = await api.request('POST', `/v1/sellers/${mine}/products`, {
    token: accessToken,
    body: { productId: `p_${randomUUID().slice(0, 8)}`, name: 'Milk 1L', price: 6_000, stock: 10 },
  });
  expect(listed.status).toBe(201);
  expect((await api.request('GET', `/v1/sellers/${mine}/balance`, { token: accessToken })).status).toBe(200);

  for (const [method, path] of [
    ['GET', `/v1/sellers/${theirs}/balance`],
    ['GET', `/v1/sellers/${theirs}/products`],
    ['GET', `/v1/sellers/${theirs}/payouts`],
  ] as const) {
    const refused = await api.request(method, path, { token: accessToken });
    expect([path, refused.status, refused.body.error.code]).toEqual([path, 404, 'not_found']);
  }
  const stranger = await api.request('POST', `/v1/sellers/${theirs}/products`, {
    token: accessToken,
    body: { productId: `p_${randomUUID().slice(0, 8)}`, name: 'Curd', price: 4_000, stock: 5 },
  });
  expect([stranger.status, stranger.body.error.code]).toEqual([404, 'not_found']);
  expect(await tdb.db('products').where({ seller_id: theirs })).toEqual([]);
});

test('the OTP answer never says whether a number has an account', async () => {
  const known = randomPhone();
  await api.login(known);
  const a = await api.request('POST', '/v1/auth/otp', { body: { phone: known } });
  const b = await api.request('POST', '/v1/auth/otp', { body: { phone: randomPhone() } });
  expect(a.status).toBe(b.status);
  expect(Object.keys(a.body).sort()).toEqual(Object.keys(b.body).sort());
  expect({ ...a.body, phone: null }).toEqual({ ...b.body, phone: null });
  // Wrong codes look the same for both, too.
  const wrongKnown = await api.request('POST', '/v1/auth/otp/verify', {
    body: { phone: known, code: '000000', termsVersion: api.config.AUTH_TERMS_VERSION },
  });
  const wrongNew = await api.request('POST', '/v1/auth/otp/verify', {
    body: { phone: randomPhone(), code: '000000', termsVersion: api.config.AUTH_TERMS_VERSION },
  });
  expect(wrongKnown.status).toBe(401);
  expect(wrongKnown.body).toEqual(wrongNew.body);
});

test('five wrong tries burn the code', async () => {
  const phone = randomPhone();
  await api.request('POST', '/v1/auth/otp', { body: { phone } });
  const code = (await api.request('GET', `/v1/dev/otp-outbox?phone=${encodeURIComponent(phone)}`)).body.messages[0].code;
  const wrong = code === '000000' ? '111111' : '000000';
  for (let i = 0; i < 5; i++) {
    expect(
      (await api.request('POST', '/v1/auth/otp/verify', { body: { phone, code: wrong, termsVersion: api.config.AUTH_TERMS_VERSION } }))
        .status,
    ).toBe(401);
  }
  const right = await api.request('POST', '/v1/auth/otp/verify', { body: { phone, code, termsVersion: api.config.AUTH_TERMS_VERSION } });
  expect(right.status).toBe(401);
});

test('bad input is a JSON 4xx that writes nothing', async () => {
  const usersBefore = await tdb.db('users').count();
  const cases: Array<[string, string, unknown, number, string]> = [
    ['POST', '/v1/auth/otp', { phone: '022 2345 6789' }, 400, 'invalid_phone'],
    ['POST', '/v1/auth/otp', { phone: '+91 98765 43210', extra: 1 }, 400, 'validation_failed'],
    ['POST', '/v1/auth/otp', {}, 400, 'validation_failed'],
    ['POST', '/v1/auth/otp/verify', { phone: randomPhone(), code: '12345', termsVersion: 'x' }, 400, 'validation_failed'],
    ['POST', '/v1/auth/otp/verify', { phone: randomPhone(), code: '123456', termsVersion: 'old-terms' }, 409, 'terms_outdated'],
    ['POST', '/v1/auth/refresh', { refreshToken: 'nope' }, 400, 'validation_failed'],
    ['POST', '/v1/auth/refresh', { refreshToken: 'mrt_AAAAAAAAAAAAAAAAAAAAAA' }, 401, 'invalid_refresh_token'],
  ];
  for (const [method, path, body, status, code] of cases) {
    const res = await api.request(method, path, { body });
    expect([path, res.status, res.body?.error?.code]).toEqual([path, status, code]);
  }
  expect(await tdb.db('users').count()).toEqual(usersBefore);
  expect((await api.request('GET', '/v1/auth/sessions', { token: 'garbage.token.here' })).status).toBe(401);
  // A dev token has no session to log out of.
  expect((await api.request('POST', '/v1/auth/logout', { token: api.devToken('u_dev') })).body.error.code).toBe('no_session');
});

test('existing dev tokens keep working next to the new ones', async () => {
  const res = await api.request('GET', '/v1/wallet', { token: api.devToken('dev_user_1') });
  expect(res.status).toBe(200);
  expect(res.body.userId).toBe('dev_user_1');
});

describe('with the real limits', () => {
  let limited: AuthApi;
  beforeAll(async () => {
    limited = await startAuthApi({
      db: tdb.db,
      temporal: temporal.client,
      taskQueue: `test-${randomUUID()}`,
      redis,
      env: { OTP_REQUESTS_PER_IP_PER_WINDOW: '8' },
    });
  });
  afterAll(() => limited?.close());

  test('a second code for a number waits 30 s; the 429 says how long', async () => {
    const phone = randomPhone();
    expect((await limited.request('POST', '/v1/auth/otp', { body: { phone } })).status).toBe(202);
    const second = await limited.request('POST', '/v1/auth/otp', { body: { phone } });
    expect(second.status).toBe(429);
    expect(second.body.error.code).toBe('otp_rate_limited');
    expect(second.body.error.details.retryAfterSeconds).toBeGreaterThan(25);
    expect(second.body.error.details.retryAfterSeconds).toBeLessThanOrEqual(30);
    expect(second.headers.get('retry-after')).toBe(String(second.body.error.details.retryAfterSeconds));
  });

  test('one address asking for many numbers is stopped', async () => {
    const ip = randomIp();
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++)
      statuses.push((await limited.request('POST', '/v1/auth/otp', { body: { phone: randomPhone() }, ip })).status);
    expect(statuses.slice(0, 8)).toEqual(Array(8).fill(202));
    expect(statuses.slice(8)).toEqual([429, 429]);
    // Another address is unaffected.
    expect((await limited.request('POST', '/v1/auth/otp', { body: { phone: randomPhone() }, ip: randomIp() })).status).toBe(202);
  });
});
