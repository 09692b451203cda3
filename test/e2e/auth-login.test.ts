import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import Redis from 'ioredis';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { testEnv } from '../support/env';
import type { TestResponse } from '../support/api';
import { connectClient } from '../support/temporal';
import { answer, type RequestBody } from '../support/typed-client';
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

const sendCode = (phone: string, on: AuthApi = api, ip?: string) =>
  answer(on.client(undefined, { ip }).POST('/v1/auth/otp', { body: { phone } }));
const outbox = (phone: string) => answer(api.client().GET('/v1/dev/otp-outbox', { params: { query: { phone } } }));
const verify = (body: RequestBody<'verifyLoginCode'>) => answer(api.client().POST('/v1/auth/otp/verify', { body }));
const refresh = (refreshToken: string) => answer(api.client().POST('/v1/auth/refresh', { body: { refreshToken } }));
const wallet = (token: string) => answer(api.client(token).GET('/v1/wallet'));

test('code → outbox → login → protected call → refresh → reuse ends the family → logout-all stops a live token', async () => {
  const phone = randomPhone();
  const sent = await sendCode(phone.slice(3)); // national form: Indian by default
  expect(sent.status).toBe(202);
  expect(sent.body).toMatchObject({ sent: true, phone, expiresIn: 300, termsVersion: api.config.AUTH_TERMS_VERSION });

  const sandbox = await outbox(phone);
  expect(sandbox.status).toBe(200);
  const [message] = sandbox.body.messages;
  expect(message.code).toMatch(/^\d{6}$/);
  expect(message.body).toContain(message.code);
  // Only the keyed hash is in Redis.
  const stored = await redis.hgetall(`mandi:otp:code:${phone}`);
  expect(JSON.stringify(stored)).not.toContain(message.code);

  const login = await verify({ phone, code: message.code, termsVersion: api.config.AUTH_TERMS_VERSION, device: 'Pixel 8' });
  expect(login.status).toBe(200);
  expect(login.body).toMatchObject({ tokenType: 'Bearer', expiresIn: 900, isNewUser: true, user: { phone, roles: ['customer'] } });
  const { accessToken, refreshToken, user } = login.body;
  expect(user.userId).toMatch(/^usr_/);

  // The code was used up.
  const again = await verify({ phone, code: message.code, termsVersion: api.config.AUTH_TERMS_VERSION });
  expect(again.status).toBe(401);

  const mine = await wallet(accessToken);
  expect(mine.status).toBe(200);
  expect(mine.body.userId).toBe(user.userId);

  const refreshed = await refresh(refreshToken);
  expect(refreshed.status).toBe(200);
  expect(refreshed.body.refreshToken).not.toBe(refreshToken);
  expect(refreshed.body.sessionId).toBe(login.body.sessionId);
  expect((await wallet(refreshed.body.accessToken)).status).toBe(200);

  // The retired token shown again: the whole session ends, for both holders.
  const reuse = await refresh(refreshToken);
  expect(reuse.status).toBe(401);
  expect(reuse.body.error.code).toBe('refresh_token_reused');
  expect((await refresh(refreshed.body.refreshToken)).status).toBe(401);
  const afterReuse = await wallet(refreshed.body.accessToken);
  expect(afterReuse.status).toBe(401);
  expect(afterReuse.body.error.code).toBe('token_revoked');
  const reuseAudit = await tdb.db('audit_log').where({ action: 'auth.refresh_reuse_detected', actor: user.userId }).first();
  expect(reuseAudit.details).toMatchObject({ ip: api.ip, userAgent: 'mandi-tests/1.0' });

  // Log in on two devices; logout-all stops an access token well inside its 15 minutes.
  const phoneLogin = await api.login(phone, { device: 'phone' });
  const tabletLogin = await api.login(phone, { device: 'tablet' });
  expect(phoneLogin.isNewUser).toBe(false);
  expect((await wallet(tabletLogin.accessToken)).status).toBe(200);
  const all = await answer(api.client(phoneLogin.accessToken).POST('/v1/auth/logout-all'));
  expect(all.status).toBe(200);
  expect(all.body).toEqual({ sessionsEnded: 2 });
  for (const pair of [phoneLogin, tabletLogin]) {
    const res = await wallet(pair.accessToken);
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe('token_revoked');
    expect((await refresh(pair.refreshToken)).status).toBe(401);
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
  const onA = api.client(a.accessToken);
  const list = await answer(onA.GET('/v1/auth/sessions'));
  expect(list.status).toBe(200);
  expect(list.body.sessions.map((s: any) => [s.device, s.current]).sort()).toEqual([
    ['laptop', false],
    ['phone', true],
  ]);
  expect(list.body.sessions[0]).toMatchObject({ ip: api.ip, userAgent: 'mandi-tests/1.0' });

  const endSession = (sessionId: string) => answer(onA.DELETE('/v1/auth/sessions/{sessionId}', { params: { path: { sessionId } } }));
  expect((await endSession(b.sessionId)).status).toBe(200);
  expect((await wallet(b.accessToken)).status).toBe(401);
  expect((await wallet(a.accessToken)).status).toBe(200); // only that device

  // Another user's session is not mine to end (and is not revealed).
  const stranger = await api.login(randomPhone());
  expect((await endSession(stranger.sessionId)).status).toBe(404);
  expect((await wallet(stranger.accessToken)).status).toBe(200);

  const out = await answer(onA.POST('/v1/auth/logout'));
  expect(out.status).toBe(200);
  expect((await wallet(a.accessToken)).status).toBe(401);
  expect((await refresh(a.refreshToken)).status).toBe(401);
});

test('roles live in Postgres: an admin grants support; the old token stops, the next refresh carries it', async () => {
  const { user, accessToken, refreshToken } = await api.login(randomPhone());
  const admin = api.devToken('ops_admin', ['admin']);
  const alerts = (token: string) => answer(api.client(token).GET('/v1/ops/alerts'));
  const changeRoles = (token: string, userId: string, body: RequestBody<'changeUserRoles'>) =>
    answer(api.client(token).POST('/v1/admin/users/{userId}/roles', { params: { path: { userId } }, body }));
  expect((await alerts(accessToken)).status).toBe(403);

  // Customers cannot grant themselves anything.
  expect((await changeRoles(accessToken, user.userId, { grant: ['admin'] })).status).toBe(403);
  // @ts-expect-error a role that does not exist, on purpose
  expect((await changeRoles(admin, user.userId, { grant: ['root'] })).status).toBe(400);
  expect((await changeRoles(admin, 'usr_aaaaaaaaaaaaaaaaaaaa', { grant: ['support'] })).status).toBe(404);

  const granted = await changeRoles(admin, user.userId, { grant: ['support'] });
  expect(granted.status).toBe(200);
  expect(granted.body.roles).toEqual(['customer', 'support']);
  expect((await wallet(accessToken)).status).toBe(401);
  const next = await refresh(refreshToken);
  expect(next.body.user.roles).toEqual(['customer', 'support']);
  expect((await alerts(next.body.accessToken)).status).toBe(200);
  const audit = await tdb.db('audit_log').where({ action: 'auth.roles_changed', target_id: user.userId }).first();
  expect(audit).toMatchObject({ actor: 'ops_admin', roles: ['admin'] });
  expect(audit.details).toMatchObject({ granted: ['support'], roles: ['customer', 'support'], ip: api.ip });

  // Support may look users up by phone, but not grant roles.
  const found = await answer(api.client(next.body.accessToken).GET('/v1/admin/users', { params: { query: { phone: user.phone } } }));
  expect(found.status).toBe(200);
  expect(found.body.users.map((u: any) => u.userId)).toEqual([user.userId]);
  expect((await changeRoles(next.body.accessToken, user.userId, { revoke: ['support'] })).status).toBe(403);
});

/** A seller an admin registered: its id. */
async function registerSeller(): Promise<string> {
  const sellerId = `s_${randomUUID().slice(0, 8)}`;
  const body = { sellerId, name: 'Dairy', commissionBps: 1000, bankAccountRef: 'bank_ok' };
  expect((await answer(api.client(api.devToken('ops_admin', ['admin'])).POST('/v1/sellers', { body }))).status).toBe(201);
  return sellerId;
}

const linkToSeller = (userId: string, sellerId: string) =>
  answer(
    api
      .client(api.devToken('ops_admin', ['admin']))
      .PUT('/v1/admin/users/{userId}/sellers/{sellerId}', { params: { path: { userId, sellerId } } }),
  );

test('a user linked to a seller gets the seller role', async () => {
  const { user, refreshToken } = await api.login(randomPhone());
  const sellerId = await registerSeller();
  const linked = await linkToSeller(user.userId, sellerId);
  expect(linked.status).toBe(200);
  expect(linked.body).toMatchObject({ sellerIds: [sellerId], roles: ['customer', 'seller'] });
  expect((await refresh(refreshToken)).body.user.roles).toEqual(['customer', 'seller']);
});

test('a linked user acts for their seller and only theirs; an unlinked login is told the seller does not exist', async () => {
  const [mine, theirs] = [await registerSeller(), await registerSeller()];
  const owner = await api.login(randomPhone());
  expect((await linkToSeller(owner.user.userId, mine)).status).toBe(200);
  // The link bumps the token version: the next access token carries the seller role.
  const asOwner = api.client((await refresh(owner.refreshToken)).body.accessToken);
  const onSeller = (sellerId: string) => ({ params: { path: { sellerId } } });

  const listed = await answer(
    asOwner.POST('/v1/sellers/{sellerId}/products', {
      ...onSeller(mine),
      body: { productId: `p_${randomUUID().slice(0, 8)}`, name: 'Milk 1L', price: 6_000, stock: 10 },
    }),
  );
  expect(listed.status).toBe(201);
  expect((await answer(asOwner.GET('/v1/sellers/{sellerId}/balance', onSeller(mine)))).status).toBe(200);

  const reads: Array<[string, () => Promise<TestResponse>]> = [
    ['balance', () => answer(asOwner.GET('/v1/sellers/{sellerId}/balance', onSeller(theirs)))],
    ['products', () => answer(asOwner.GET('/v1/sellers/{sellerId}/products', onSeller(theirs)))],
    ['payouts', () => answer(asOwner.GET('/v1/sellers/{sellerId}/payouts', onSeller(theirs)))],
  ];
  for (const [read, send] of reads) {
    const refused = await send();
    expect([read, refused.status, refused.body.error.code]).toEqual([read, 404, 'not_found']);
  }
  const stranger = await answer(
    asOwner.POST('/v1/sellers/{sellerId}/products', {
      ...onSeller(theirs),
      body: { productId: `p_${randomUUID().slice(0, 8)}`, name: 'Curd', price: 4_000, stock: 5 },
    }),
  );
  expect([stranger.status, stranger.body.error.code]).toEqual([404, 'not_found']);
  expect(await tdb.db('products').where({ seller_id: theirs })).toEqual([]);
});

test('the OTP answer never says whether a number has an account', async () => {
  const known = randomPhone();
  await api.login(known);
  const a = await sendCode(known);
  const b = await sendCode(randomPhone());
  expect(a.status).toBe(b.status);
  expect(Object.keys(a.body).sort()).toEqual(Object.keys(b.body).sort());
  expect({ ...a.body, phone: null }).toEqual({ ...b.body, phone: null });
  // Wrong codes look the same for both, too.
  const wrongKnown = await verify({ phone: known, code: '000000', termsVersion: api.config.AUTH_TERMS_VERSION });
  const wrongNew = await verify({ phone: randomPhone(), code: '000000', termsVersion: api.config.AUTH_TERMS_VERSION });
  expect(wrongKnown.status).toBe(401);
  expect(wrongKnown.body).toEqual(wrongNew.body);
});

test('five wrong tries burn the code', async () => {
  const phone = randomPhone();
  await sendCode(phone);
  const code = (await outbox(phone)).body.messages[0].code;
  const wrong = code === '000000' ? '111111' : '000000';
  for (let i = 0; i < 5; i++) {
    expect((await verify({ phone, code: wrong, termsVersion: api.config.AUTH_TERMS_VERSION })).status).toBe(401);
  }
  const right = await verify({ phone, code, termsVersion: api.config.AUTH_TERMS_VERSION });
  expect(right.status).toBe(401);
});

test('bad input is a JSON 4xx that writes nothing', async () => {
  const usersBefore = await tdb.db('users').count();
  const cases: Array<[string, () => Promise<TestResponse>, number, string]> = [
    ['landline', () => sendCode('022 2345 6789'), 400, 'invalid_phone'],
    // Raw: a field the document does not have, and a body without the one it requires.
    [
      'unknown field',
      () => api.request('POST', '/v1/auth/otp', { body: { phone: '+91 98765 43210', extra: 1 } }),
      400,
      'validation_failed',
    ],
    ['no phone', () => api.request('POST', '/v1/auth/otp', { body: {} }), 400, 'validation_failed'],
    ['five-digit code', () => verify({ phone: randomPhone(), code: '12345', termsVersion: 'x' }), 400, 'validation_failed'],
    ['old terms', () => verify({ phone: randomPhone(), code: '123456', termsVersion: 'old-terms' }), 409, 'terms_outdated'],
    ['not a refresh token', () => refresh('nope'), 400, 'validation_failed'],
    ['unknown refresh token', () => refresh('mrt_AAAAAAAAAAAAAAAAAAAAAA'), 401, 'invalid_refresh_token'],
  ];
  for (const [input, send, status, code] of cases) {
    const res = await send();
    expect([input, res.status, res.body?.error?.code]).toEqual([input, status, code]);
  }
  expect(await tdb.db('users').count()).toEqual(usersBefore);
  expect((await answer(api.client('garbage.token.here').GET('/v1/auth/sessions'))).status).toBe(401);
  // A dev token has no session to log out of.
  expect((await answer(api.client(api.devToken('u_dev')).POST('/v1/auth/logout'))).body.error.code).toBe('no_session');
});

test('existing dev tokens keep working next to the new ones', async () => {
  const res = await wallet(api.devToken('dev_user_1'));
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
    expect((await sendCode(phone, limited)).status).toBe(202);
    const second = await sendCode(phone, limited);
    expect(second.status).toBe(429);
    expect(second.body.error.code).toBe('otp_rate_limited');
    expect(second.body.error.details.retryAfterSeconds).toBeGreaterThan(25);
    expect(second.body.error.details.retryAfterSeconds).toBeLessThanOrEqual(30);
    expect(second.headers.get('retry-after')).toBe(String(second.body.error.details.retryAfterSeconds));
  });

  test('one address asking for many numbers is stopped', async () => {
    const ip = randomIp();
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) statuses.push((await sendCode(randomPhone(), limited, ip)).status);
    expect(statuses.slice(0, 8)).toEqual(Array(8).fill(202));
    expect(statuses.slice(8)).toEqual([429, 429]);
    // Another address is unaffected.
    expect((await sendCode(randomPhone(), limited, randomIp())).status).toBe(202);
  });
});
