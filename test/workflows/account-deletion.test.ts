import Redis from 'ioredis';
import { accountDeletionWorkflowId, type AccountDeletionState } from '../../contracts/account-deletion';
import { postJournal, placeHold, releaseHold } from '../../db/ledger';
import { accounts } from '../../domain/ledger/accounts';
import { transfer } from '../../domain/ledger/journal';
import { createTestDatabase, expectLedgerInvariants, type TestDatabase } from '../support/db';
import { testEnv } from '../support/env';
import { eventually, startTestWorker, type TestWorker } from '../support/temporal';
import { randomPhone, startAuthApi, type AuthApi } from '../e2e/auth-helpers';

/**
 * DPDP account deletion through the API and its workflow: a grace period (2 s here) that logging
 * in, the user or support can cancel; erasure of personal data with the ledger kept under the
 * opaque id; refusal — and, at the end of the grace period, waiting — while money is owed or held.
 */

let tdb: TestDatabase;
let worker: TestWorker;
let redis: Redis;
let api: AuthApi;

beforeAll(async () => {
  tdb = await createTestDatabase();
  redis = new Redis(testEnv.redisUrl, { maxRetriesPerRequest: 3, enableAutoPipelining: true });
  worker = await startTestWorker({ db: tdb.db, extraDeps: { redis } });
  api = await startAuthApi({
    db: tdb.db,
    temporal: worker.client,
    taskQueue: worker.taskQueue,
    redis,
    env: {
      ACCOUNT_DELETION_GRACE_SECONDS: '2',
      ACCOUNT_DELETION_RECHECK_SECONDS: '1',
      OTP_RESEND_BACKOFF_SECONDS: '0',
      OTP_MAX_SENDS_PER_WINDOW: '20',
    },
  });
});
afterAll(async () => {
  await api?.close();
  await worker?.shutdown();
  redis?.disconnect();
  await tdb?.drop();
});
afterEach(async () => {
  await expectLedgerInvariants(tdb.db);
});

let keys = 0;
const requestDeletion = (token: string) =>
  api.request('POST', '/v1/me/deletion', { token, headers: { 'idempotency-key': `deletion-${Date.now()}-${keys++}` } });
const result = (userId: string) =>
  worker.client.workflow.getHandle(accountDeletionWorkflowId(userId)).result() as Promise<AccountDeletionState>;

/** A wallet with history but nothing left in it: 50 in, 50 back out. */
async function ledgerHistory(userId: string): Promise<void> {
  const wallet = accounts.userWallet(userId);
  await postJournal(tdb.db, {
    idempotencyKey: `test-${userId}:in`,
    reason: 'topup',
    actor: 'test',
    lines: transfer(accounts.externalPsp, wallet, 5_000),
  });
  await postJournal(tdb.db, {
    idempotencyKey: `test-${userId}:out`,
    reason: 'refund',
    actor: 'test',
    lines: transfer(wallet, accounts.externalPsp, 5_000),
  });
}

test('after the grace period the personal data is erased, every token stops, and the ledger keeps its rows', async () => {
  const phone = randomPhone();
  const { user, accessToken, refreshToken } = await api.login(phone, { device: 'Pixel 8' });
  await ledgerHistory(user.userId);
  const journalLines = await tdb
    .db('journal_lines')
    .where({ account_id: accounts.userWallet(user.userId) })
    .count();

  const started = await requestDeletion(accessToken);
  expect(started.status).toBe(202);
  expect(started.body).toMatchObject({ userId: user.userId, workflowId: `account-deletion-${user.userId}`, status: 'grace', blockers: [] });
  expect(Date.parse(started.body.eraseAfter) - Date.now()).toBeGreaterThan(1_000);
  const during = await api.request('GET', '/v1/me/deletion', { token: accessToken });
  expect(during.body).toMatchObject({ status: 'grace', eraseAfter: started.body.eraseAfter });
  // Asking again while it is pending answers the pending one.
  expect((await requestDeletion(accessToken)).body.eraseAfter).toBe(started.body.eraseAfter);

  const state = await result(user.userId);
  expect(state).toMatchObject({ phase: 'erased', userId: user.userId });
  const row = await tdb.db('users').where({ id: user.userId }).first();
  expect(row).toMatchObject({ phone: null, display_name: null, deletion_requested_at: null });
  expect(row.erased_at).not.toBeNull();
  expect(await tdb.db('auth_sessions').where({ user_id: user.userId }).whereNotNull('device')).toEqual([]);
  expect(await tdb.db('fake_provider.otp_messages').where({ phone })).toEqual([]);
  expect(
    await tdb
      .db('journal_lines')
      .where({ account_id: accounts.userWallet(user.userId) })
      .count(),
  ).toEqual(journalLines);

  expect((await api.request('GET', '/v1/wallet', { token: accessToken })).status).toBe(401);
  expect((await api.request('POST', '/v1/auth/refresh', { body: { refreshToken } })).status).toBe(401);
  // The number logs in as somebody new: nothing of the erased account comes back.
  const next = await api.login(phone);
  expect(next.isNewUser).toBe(true);
  expect(next.user.userId).not.toBe(user.userId);
  expect(await tdb.db('audit_log').where({ target_id: user.userId, action: 'account.erased' })).toHaveLength(1);
});

test('DELETE /v1/me/deletion keeps the account', async () => {
  const { user, accessToken } = await api.login(randomPhone());
  expect((await requestDeletion(accessToken)).status).toBe(202);
  const cancelled = await api.request('DELETE', '/v1/me/deletion', { token: accessToken });
  expect(cancelled.status).toBe(200);
  expect(cancelled.body.status).toBe('none');
  expect(await result(user.userId)).toMatchObject({ phase: 'cancelled', cancelledBy: user.userId });
  expect((await tdb.db('users').where({ id: user.userId }).first()).phone).toBe(user.phone);
  expect((await api.request('GET', '/v1/wallet', { token: accessToken })).status).toBe(200);
  expect((await api.request('DELETE', '/v1/me/deletion', { token: accessToken })).status).toBe(404);
  // It can be asked for again later: a new run under the same id.
  expect((await requestDeletion(accessToken)).status).toBe(202);
  expect((await api.request('DELETE', '/v1/me/deletion', { token: accessToken })).status).toBe(200);
});

test('logging in during the grace period cancels the deletion', async () => {
  const phone = randomPhone();
  const { user, accessToken } = await api.login(phone);
  expect((await requestDeletion(accessToken)).status).toBe(202);
  const again = await api.login(phone);
  expect(again.deletionCancelled).toBe(true);
  expect(await result(user.userId)).toMatchObject({ phase: 'cancelled', cancelReason: 'logged in' });
  expect((await tdb.db('users').where({ id: user.userId }).first()).erased_at).toBeNull();
});

test('support sees a pending deletion and cancels it on the customer’s word; customers cannot', async () => {
  const { user, accessToken } = await api.login(randomPhone());
  const support = api.devToken('agent_7', ['support']);
  expect((await requestDeletion(accessToken)).status).toBe(202);
  const seen = await api.request('GET', `/v1/admin/users/${user.userId}/deletion`, { token: support });
  expect(seen.status).toBe(200);
  expect(seen.body).toMatchObject({ status: 'grace', userId: user.userId });
  const other = await api.login(randomPhone());
  expect(
    (await api.request('POST', `/v1/admin/users/${user.userId}/deletion/cancel`, { token: other.accessToken, body: { reason: 'x' } }))
      .status,
  ).toBe(403);
  const cancelled = await api.request('POST', `/v1/admin/users/${user.userId}/deletion/cancel`, {
    token: support,
    body: { reason: 'Customer called to keep the account' },
  });
  expect(cancelled.status).toBe(200);
  expect(await result(user.userId)).toMatchObject({
    phase: 'cancelled',
    cancelledBy: 'agent_7',
    cancelReason: 'Customer called to keep the account',
  });
  const audit = await tdb.db('audit_log').where({ target_id: user.userId, action: 'account.deletion_cancel' }).first();
  expect(audit).toMatchObject({ actor: 'agent_7', roles: ['support'] });
});

test('refused while money is owed or held, saying which', async () => {
  const { user, accessToken } = await api.login(randomPhone());
  const wallet = accounts.userWallet(user.userId);
  await postJournal(tdb.db, {
    idempotencyKey: `test-${user.userId}:credit`,
    reason: 'topup',
    actor: 'test',
    lines: transfer(accounts.externalPsp, wallet, 3_000),
  });
  const { holdId } = await tdb.db.transaction((trx) =>
    placeHold(trx, { account: wallet, amount: 1_000, idempotencyKey: `test-${user.userId}:hold`, refType: 'test', refId: user.userId }),
  );

  const refused = await requestDeletion(accessToken);
  expect(refused.status).toBe(409);
  expect(refused.body.error.code).toBe('deletion_blocked');
  expect(refused.body.error.details.blockers.map((b: any) => b.kind)).toEqual(['open_holds', 'wallet_balance']);
  expect(refused.body.error.details.blockers[1]).toMatchObject({ amount: 3_000 });
  expect((await tdb.db('users').where({ id: user.userId }).first()).deletion_requested_at).toBeNull();
  expect((await api.request('GET', '/v1/me/deletion', { token: accessToken })).body.status).toBe('none');

  await tdb.db.transaction((trx) => releaseHold(trx, holdId));
  await postJournal(tdb.db, {
    idempotencyKey: `test-${user.userId}:payout`,
    reason: 'refund',
    actor: 'test',
    lines: transfer(wallet, accounts.externalPsp, 3_000),
  });
  expect((await requestDeletion(accessToken)).status).toBe(202);
  expect((await api.request('DELETE', '/v1/me/deletion', { token: accessToken })).status).toBe(200);
});

test('money that appears during the grace period holds the erasure until it is gone', async () => {
  const { user, accessToken } = await api.login(randomPhone());
  expect((await requestDeletion(accessToken)).status).toBe(202);
  // During the grace period the customer still holds a valid token and subscribes.
  await tdb.db('subscriptions').insert({
    id: `sub_${user.userId.slice(4, 16)}`,
    customer_id: user.userId,
    product_id: 'milk',
    quantity: 1,
    price_per_period: 3_000,
    recurrence: JSON.stringify({ kind: 'daily' }),
    start_date: '2026-12-01',
    payment_method: 'wallet',
  });
  const blocked = await eventually(async () => {
    const res = await api.request('GET', '/v1/me/deletion', { token: accessToken });
    return res.body.status === 'blocked' ? res.body : null;
  }, 15_000);
  expect(blocked.blockers).toEqual([expect.objectContaining({ kind: 'active_subscriptions', count: 1 })]);
  expect((await tdb.db('users').where({ id: user.userId }).first()).phone).toBe(user.phone);

  await tdb.db('subscriptions').where({ customer_id: user.userId }).update({ status: 'cancelled' });
  expect(await result(user.userId)).toMatchObject({ phase: 'erased', blockers: [] });
  expect((await tdb.db('users').where({ id: user.userId }).first()).phone).toBeNull();
});

test('a dev token names no account: 404, nothing started', async () => {
  const res = await requestDeletion(api.devToken('dev_only_user'));
  expect(res.status).toBe(404);
  expect(res.body.error.code).toBe('user_not_found');
});
