import { AccessTokens } from '../../api/identity/access-tokens';
import { TokenRevocations } from '../../api/identity/revocations';
import { Sessions } from '../../api/identity/sessions';
import { placeHold, postJournal, releaseHold } from '../../db/ledger';
import {
  deletionBlockers,
  eraseUser,
  findUser,
  grantRoles,
  linkSeller,
  movePhone,
  userForExternalSubject,
  userRoles,
} from '../../db/identity';
import { accounts } from '../../domain/ledger/accounts';
import { transfer } from '../../domain/ledger/journal';
import { createTestDatabase, expectLedgerInvariants, type TestDatabase } from '../support/db';
import { randomPhone } from '../e2e/auth-helpers';

/** Users, sessions and refresh-token rotation on real Postgres. */

let tdb: TestDatabase;
let sessions: Sessions;
let revocations: TokenRevocations;
const origin = { ip: '203.0.113.7', userAgent: 'integration/1.0' };
const accessTokens = new AccessTokens('integration-secret-0123456789abcdef', 900);

beforeAll(async () => {
  tdb = await createTestDatabase();
  revocations = new TokenRevocations({ db: tdb.db, cacheMs: 0, windowSeconds: 960 });
  sessions = new Sessions(tdb.db, accessTokens, revocations, 90);
});
afterAll(async () => {
  await tdb.drop();
});

const login = (phone: string, device: string | null = null) => sessions.login({ phone, termsVersion: 'terms-1', device }, origin);
const audit = (action: string) => tdb.db('audit_log').where({ action }).orderBy('id');

async function refused(run: () => Promise<unknown>): Promise<string | undefined> {
  try {
    await run();
    return undefined;
  } catch (err) {
    return (err as { code?: string }).code;
  }
}

test('the first login creates the user; later ones find it; consent is recorded each time', async () => {
  const phone = randomPhone();
  const first = await login(phone, 'Pixel 8');
  const second = await login(phone);
  expect(first.isNewUser).toBe(true);
  expect(second.isNewUser).toBe(false);
  expect(second.user.userId).toBe(first.user.userId);
  expect(first.user.userId).toMatch(/^usr_[a-z2-7]{20}$/);
  expect(first.user).toMatchObject({ phone, roles: ['customer'], termsVersion: 'terms-1' });
  expect(await tdb.db('user_consents').where({ user_id: first.user.userId }).count()).toEqual([{ count: 2 }]);
  const [row] = await tdb.db('auth_sessions').where({ id: first.sessionId });
  expect(row).toMatchObject({ user_id: first.user.userId, device: 'Pixel 8', ip: origin.ip, user_agent: origin.userAgent });
  const logins = await audit('auth.login').where({ actor: first.user.userId });
  expect(logins).toHaveLength(2);
  expect(logins[0].details).toMatchObject({ ip: origin.ip, userAgent: origin.userAgent, newUser: true });
});

test('concurrent first logins of one number create one user', async () => {
  const phone = randomPhone();
  const results = await Promise.all(Array.from({ length: 5 }, () => login(phone)));
  expect(new Set(results.map((r) => r.user.userId)).size).toBe(1);
  expect(results.filter((r) => r.isNewUser)).toHaveLength(1);
});

test('a refresh token is stored only as a hash and works once; each refresh gives a new one', async () => {
  const { refreshToken, sessionId } = await login(randomPhone());
  expect(refreshToken).toMatch(/^mrt_[A-Za-z0-9_-]{22}$/);
  const stored = await tdb.db('refresh_tokens').where({ session_id: sessionId });
  expect(stored).toHaveLength(1);
  expect(stored[0].token_hash.length).toBe(32);
  expect(stored[0].token_hash.toString('latin1')).not.toContain(refreshToken.slice(4));
  const expiresInDays = (new Date(stored[0].expires_at).getTime() - Date.now()) / 86_400_000;
  expect(expiresInDays).toBeGreaterThan(89.9);

  const next = await sessions.refresh(refreshToken, origin);
  expect(next.refreshToken).not.toBe(refreshToken);
  expect(next.sessionId).toBe(sessionId);
  const third = await sessions.refresh(next.refreshToken, origin);
  expect((await accessTokens.verify(third.accessToken)).sessionId).toBe(sessionId);
});

test('reusing a retired refresh token ends the session: the newest one fails too, and it is audited', async () => {
  const first = await login(randomPhone());
  const second = await sessions.refresh(first.refreshToken, origin);
  expect(await refused(() => sessions.refresh(first.refreshToken, origin))).toBe('refresh_token_reused');
  expect(await refused(() => sessions.refresh(second.refreshToken, origin))).toBe('invalid_refresh_token');
  const session = await tdb.db('auth_sessions').where({ id: first.sessionId }).first();
  expect(session).toMatchObject({ revoked_reason: 'refresh_token_reused' });
  expect(session.revoked_at).not.toBeNull();
  const [event] = await audit('auth.refresh_reuse_detected').where({ target_id: first.sessionId });
  expect(event.details).toMatchObject({ ip: origin.ip, userAgent: origin.userAgent });
  // Its access tokens stop too.
  const claims = await accessTokens.verify(second.accessToken);
  expect(await revocations.check(revocations.track(claims))).toBe(false);
});

test('two refreshes racing with one token: one wins, the other counts as reuse and ends the session', async () => {
  const { refreshToken, sessionId } = await login(randomPhone());
  const results = await Promise.allSettled([sessions.refresh(refreshToken, origin), sessions.refresh(refreshToken, origin)]);
  expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
  expect((await tdb.db('auth_sessions').where({ id: sessionId }).first()).revoked_reason).toBe('refresh_token_reused');
});

test('an unknown or expired refresh token is refused without touching any session', async () => {
  expect(await refused(() => sessions.refresh('mrt_AAAAAAAAAAAAAAAAAAAAAA', origin))).toBe('invalid_refresh_token');
  const { refreshToken, sessionId } = await login(randomPhone());
  await tdb
    .db('refresh_tokens')
    .where({ session_id: sessionId })
    .update({ expires_at: tdb.db.raw(`now() - interval '1 second'`) });
  expect(await refused(() => sessions.refresh(refreshToken, origin))).toBe('refresh_token_expired');
  expect((await tdb.db('auth_sessions').where({ id: sessionId }).first()).revoked_at).toBeNull();
});

test('logout ends one session; logout-all ends them all and bumps the token version', async () => {
  const phone = randomPhone();
  const a = await login(phone, 'phone');
  const b = await login(phone, 'tablet');
  const c = await login(phone, 'laptop');
  const userId = a.user.userId;
  expect(await sessions.end(userId, a.sessionId, 'logout', origin)).toBe(true);
  expect(await sessions.end(userId, a.sessionId, 'logout', origin)).toBe(false);
  expect((await sessions.list(userId)).map((s) => s.device).sort()).toEqual(['laptop', 'tablet']);
  expect(await refused(() => sessions.refresh(a.refreshToken, origin))).toBe('invalid_refresh_token');

  // Someone else's session id is not ours to end.
  const stranger = await login(randomPhone());
  expect(await sessions.end(userId, stranger.sessionId, 'remote_logout', origin)).toBe(false);

  const before = (await findUser(tdb.db, userId))!.token_version;
  expect(await sessions.endAll(userId, origin)).toEqual({ sessionsEnded: 2 });
  expect((await findUser(tdb.db, userId))!.token_version).toBe(before + 1);
  expect(await sessions.list(userId)).toEqual([]);
  for (const pair of [b, c]) {
    expect(await refused(() => sessions.refresh(pair.refreshToken, origin))).toBe('invalid_refresh_token');
    expect(await revocations.check(revocations.track(await accessTokens.verify(pair.accessToken)))).toBe(false);
  }
  expect(await audit('auth.logout_all').where({ actor: userId })).toHaveLength(1);
});

test('roles come from Postgres: grants and a seller link', async () => {
  const { user } = await login(randomPhone());
  await tdb.db('sellers').insert({ id: `s_${user.userId.slice(4, 12)}`, name: 'Dairy', commission_bps: 1000, bank_account_ref: 'bank_ok' });
  await grantRoles(tdb.db, user.userId, ['support'], 'usr_admin');
  await linkSeller(tdb.db, user.userId, `s_${user.userId.slice(4, 12)}`, 'usr_admin');
  expect(await userRoles(tdb.db, user.userId)).toEqual(['customer', 'seller', 'support']);
});

test('a recycled number moves to whoever proves they hold it now', async () => {
  const phone = randomPhone();
  const old = await login(phone);
  const fresh = await login(randomPhone());
  await tdb.db.transaction((trx) => movePhone(trx, fresh.user.userId, phone));
  expect((await findUser(tdb.db, old.user.userId))!.phone).toBeNull();
  expect((await findUser(tdb.db, fresh.user.userId))!.phone).toBe(phone);
  expect((await login(phone)).user.userId).toBe(fresh.user.userId);
});

test('an external subject maps to one user, however many requests see it first', async () => {
  const ids = await Promise.all(Array.from({ length: 5 }, () => userForExternalSubject(tdb.db, 'https://idp.example/', 'auth0|abc')));
  expect(new Set(ids.map((i) => i.userId)).size).toBe(1);
  expect((await userForExternalSubject(tdb.db, 'https://other.example/', 'auth0|abc')).userId).not.toBe(ids[0].userId);
});

test('deletion blockers say which money is owed or held; erasure keeps the ledger under the opaque id', async () => {
  const { user, refreshToken } = await login(randomPhone(), 'Pixel');
  const userId = user.userId;
  const wallet = accounts.userWallet(userId);
  expect(await deletionBlockers(tdb.db, userId)).toEqual([]);

  await postJournal(tdb.db, {
    idempotencyKey: `test-${userId}:credit`,
    reason: 'topup',
    actor: 'test',
    lines: transfer(accounts.externalPsp, wallet, 5_000),
  });
  const { holdId } = await tdb.db.transaction((trx) =>
    placeHold(trx, { account: wallet, amount: 2_000, idempotencyKey: `test-${userId}:hold`, refType: 'test', refId: userId }),
  );
  await tdb.db('subscriptions').insert({
    id: `sub_${userId.slice(4, 16)}`,
    customer_id: userId,
    product_id: 'milk',
    quantity: 1,
    price_per_period: 3_000,
    recurrence: JSON.stringify({ kind: 'daily' }),
    start_date: '2026-12-01',
    payment_method: 'wallet',
  });
  const blockers = await deletionBlockers(tdb.db, userId);
  expect(blockers.map((b) => b.kind)).toEqual(['open_holds', 'active_subscriptions', 'wallet_balance']);
  expect(blockers.find((b) => b.kind === 'open_holds')).toMatchObject({ count: 1, ids: [String(holdId)] });
  expect(blockers.find((b) => b.kind === 'wallet_balance')).toMatchObject({ amount: 5_000 });

  // Once nothing is owed or held, erasure empties the personal data and keeps every ledger row.
  await tdb.db('subscriptions').where({ customer_id: userId }).update({ status: 'cancelled' });
  await tdb.db.transaction((trx) => releaseHold(trx, holdId));
  await postJournal(tdb.db, {
    idempotencyKey: `test-${userId}:refund`,
    reason: 'refund',
    actor: 'test',
    lines: transfer(wallet, accounts.externalPsp, 5_000),
  });
  expect(await deletionBlockers(tdb.db, userId)).toEqual([]);
  const journalRows = await tdb.db('journal_lines').where({ account_id: wallet }).count();

  await tdb.db.transaction((trx) => eraseUser(trx, userId));
  await tdb.db.transaction((trx) => eraseUser(trx, userId)); // twice: an activity retried
  const erased = await findUser(tdb.db, userId);
  expect(erased).toMatchObject({ id: userId, phone: null, display_name: null });
  expect(erased!.erased_at).not.toBeNull();
  expect(await tdb.db('auth_sessions').where({ user_id: userId }).whereNotNull('device')).toEqual([]);
  expect(await tdb.db('auth_sessions').where({ user_id: userId }).whereNull('revoked_at')).toEqual([]);
  expect(await tdb.db('user_consents').where({ user_id: userId }).whereNotNull('ip')).toEqual([]);
  expect(await tdb.db('user_consents').where({ user_id: userId })).toHaveLength(1);
  expect(await tdb.db('journal_lines').where({ account_id: wallet }).count()).toEqual(journalRows);
  expect(await refused(() => sessions.refresh(refreshToken, origin))).toBe('invalid_refresh_token');
  await expectLedgerInvariants(tdb.db);
});
