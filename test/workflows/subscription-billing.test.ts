import { WorkflowUpdateFailedError } from '@temporalio/client';
import { loadConfig } from '../../app/config';
import { pauseUpdate, paymentMethodUpdate } from '../../contracts/subscription';
import { paymentConfirmedSignal } from '../../contracts/provider-payment';
import { accounts } from '../../domain/ledger/accounts';
import { getBalance } from '../../db/ledger-reports';
import { FakePaymentProvider, signWebhook, webhookEventId } from '../../infra/fake-payment-provider';
import type { TestApi } from '../support/api';
import { expectLedgerInvariants, type TestDatabase } from '../support/db';
import { startTestSystem, stopTestSystem } from '../support/system';
import { eventually, startTestWorker, type TestWorker } from '../support/temporal';
import { spawnWorkerProcess } from '../support/worker-process-handle';
import {
  PRICE,
  fundWallet,
  insertSubscription,
  journalsFor,
  notificationKinds,
  renewals,
  startSubscription,
  state,
  stop,
  testSettings,
} from './subscription-helpers';

let tdb: TestDatabase;
let worker: TestWorker;
let api: TestApi;

beforeAll(async () => ({ tdb, worker, api } = await startTestSystem()));
afterAll(stopTestSystem);

const wallet = async (userId: string) => (await getBalance(tdb.db, accounts.userWallet(userId))).balance;

test.concurrent('renewals charge the wallet each period; vacation days move the next renewal forward', async () => {
  const sub = await insertSubscription(tdb.db);
  await fundWallet(tdb.db, sub.customerId, PRICE * 3);
  const h = await startSubscription(worker, sub);
  try {
    // Period 1 (Aug 2–4) is charged at once; one vacation day (Aug 3) in it moves period 2 to Aug 6.
    await h.executeUpdate(pauseUpdate, { args: [{ from: '2026-08-03', to: '2026-08-03', reason: 'vacation' }] });
    await eventually(async () => (await renewals(tdb.db, sub.id)).length >= 2, 20_000);
    const rows = await renewals(tdb.db, sub.id);
    expect(rows[0]).toMatchObject({ period: 1, period_start: '2026-08-02', status: 'paid', paid_via: 'wallet' });
    expect(rows[1]).toMatchObject({ period: 2, period_start: '2026-08-06' });
    await eventually(async () => (await renewals(tdb.db, sub.id))[1].status === 'paid');
    expect(await journalsFor(tdb.db, sub.id)).toEqual([
      `subscription-${sub.id}:renewal-1:attempt-1`,
      `subscription-${sub.id}:renewal-2:attempt-1`,
    ]);
    expect(await wallet(sub.customerId)).toBe(PRICE);
    const s = await eventually(async () => {
      const v = await state(h);
      return v.runs >= 3 ? v : null; // continued-as-new after each paid renewal
    });
    expect(s.creditedDaysTotal).toBe(1);
    const row = await tdb.db('subscriptions').where({ id: sub.id }).first();
    expect(row.paused_days_credited).toBe(1);
  } finally {
    await stop(h);
  }
  await expectLedgerInvariants(tdb.db);
});

test.concurrent('a pause spanning the renewal date: the renewal waits until the paid deliveries were made', async () => {
  const sub = await insertSubscription(tdb.db);
  await fundWallet(tdb.db, sub.customerId, PRICE * 3);
  const h = await startSubscription(worker, sub);
  try {
    // Period 1 = Aug 2–4 (3 deliveries). Vacation Aug 3–6 spans the nominal renewal (Aug 5): the customer
    // got Aug 2, then Aug 7 and 8 → period 2 starts Aug 9, with 4 days credited.
    await h.executeUpdate(pauseUpdate, { args: [{ from: '2026-08-03', to: '2026-08-06', reason: 'vacation' }] });
    expect((await state(h)).nextPeriodStart).toBe('2026-08-09');
    await eventually(async () => (await renewals(tdb.db, sub.id))[1]?.status === 'paid', 25_000);
    expect((await renewals(tdb.db, sub.id))[1].period_start).toBe('2026-08-09');
    expect((await state(h)).creditedDaysTotal).toBe(4);
    // It did not renew early: only two periods were charged.
    expect(await journalsFor(tdb.db, sub.id)).toHaveLength(2);
  } finally {
    await stop(h);
  }
  await expectLedgerInvariants(tdb.db);
});

test.concurrent('dunning: declined renewals retry on schedule, then a payment_failure pause; a new card resumes it', async () => {
  const sub = await insertSubscription(tdb.db, { paymentMethod: 'pm_declined' });
  const h = await startSubscription(worker, sub, testSettings({ dunningRetryDays: [0.5, 1] }));
  try {
    const failed = await eventually(async () => {
      const s = await state(h);
      return s.flowStatus === 'payment_failed' ? s : null;
    }, 20_000);
    expect(failed.dunning).toMatchObject({ period: 1, attempts: 3, retriesDone: 2 });
    const pause = failed.exceptions.find((e) => e.reason === 'payment_failure')!;
    expect(pause).toMatchObject({ type: 'skip', to: null, createdBy: 'system:dunning' });
    expect(failed.why).toMatch(/declined 3 times/);
    const attempts = await tdb
      .db('subscription_renewal_attempts')
      .where({ subscription_id: sub.id, method: 'provider' })
      .orderBy('attempt');
    expect(attempts.map((a: { attempt: number; outcome: string }) => [a.attempt, a.outcome])).toEqual([
      [1, 'declined'],
      [2, 'declined'],
      [3, 'declined'],
    ]);
    await eventually(async () => (await notificationKinds(tdb.db, sub.id)).length === 2);
    expect((await notificationKinds(tdb.db, sub.id)).map((n) => n.kind)).toEqual(['payment_declined', 'payment_method_required']);
    await eventually(async () => (await tdb.db('subscriptions').where({ id: sub.id }).first()).billing_state === 'payment_failed');
    expect((await tdb.db('subscriptions').where({ id: sub.id }).first()).status).toBe('active');

    // A bad token is rejected by the validator and changes nothing.
    await expect(h.executeUpdate(paymentMethodUpdate, { args: [{ paymentMethod: 'visa 4111' }] })).rejects.toBeInstanceOf(
      WorkflowUpdateFailedError,
    );

    const res = (await h.executeUpdate(paymentMethodUpdate, { args: [{ paymentMethod: 'pm_ok' }] })) as { retried: boolean };
    expect(res.retried).toBe(true);
    await eventually(async () => (await renewals(tdb.db, sub.id))[0].status === 'paid');
    const r = (await renewals(tdb.db, sub.id))[0];
    expect(r).toMatchObject({ paid_via: 'provider', paid_attempt: 4 });
    const pauseRow = await eventually(async () => {
      const p = await tdb.db.raw(
        `SELECT ended_at::text AS ended_at, from_date::text AS from_date FROM subscription_exceptions WHERE subscription_id = ? AND reason = 'payment_failure'`,
        [sub.id],
      );
      return p.rows[0]?.ended_at ? p.rows[0] : null;
    });
    expect(pauseRow.ended_at >= pauseRow.from_date).toBe(true);
    const s = await state(h);
    expect(['active', 'paused']).toContain(s.flowStatus);
    expect(s.billing).toBe('paid');
    expect(s.dunning).toBeNull();
    expect(await journalsFor(tdb.db, sub.id)).toEqual([`subscription-${sub.id}:renewal-1:attempt-4`]);
    // The customer is told after the payment lands.
    await eventually(async () => (await notificationKinds(tdb.db, sub.id)).some((n) => n.kind === 'payment_recovered'));
  } finally {
    await stop(h);
  }
  await expectLedgerInvariants(tdb.db);
});

test.concurrent('a pause during dunning stays when the payment succeeds; no payment_failure pause is added', async () => {
  const sub = await insertSubscription(tdb.db, { paymentMethod: 'pm_insufficient_funds' });
  // Two-second days: the Aug 4 pause must still be in the future once dunning has begun, also on a busy machine.
  const h = await startSubscription(worker, sub, testSettings({ dunningRetryDays: [1, 2], dayMs: 2_000 }));
  try {
    await eventually(async () => (await state(h)).flowStatus === 'retrying_payment');
    const { exceptionId } = (await h.executeUpdate(pauseUpdate, {
      args: [{ from: '2026-08-04', to: '2026-08-05', reason: 'vacation' }],
    })) as { exceptionId: string };
    // The customer tops up the wallet; the card update triggers an immediate retry, which now uses the wallet.
    await fundWallet(tdb.db, sub.customerId, PRICE);
    await h.executeUpdate(paymentMethodUpdate, { args: [{ paymentMethod: 'pm_ok' }] });
    await eventually(async () => (await renewals(tdb.db, sub.id))[0].status === 'paid');
    // The renewal row is paid by the charge activity a moment before the workflow clears its dunning.
    await eventually(async () => (await state(h)).dunning === null);
    const s = await state(h);
    expect(s.exceptions.filter((e) => e.reason === 'payment_failure')).toEqual([]);
    expect(s.exceptions.find((e) => e.id === exceptionId)).toMatchObject({ reason: 'vacation', endedAt: null });
    expect((await renewals(tdb.db, sub.id))[0]).toMatchObject({ paid_via: 'wallet', paid_attempt: 2 });
    expect(await wallet(sub.customerId)).toBe(0);
  } finally {
    await stop(h);
  }
  await expectLedgerInvariants(tdb.db);
});

test('a worker killed mid-renewal: the next worker finishes it and the customer is charged exactly once', async () => {
  const taskQueue = `${worker.taskQueue}-kill`;
  const doomed = await spawnWorkerProcess({ databaseUrl: tdb.url, taskQueue });
  const sub = await insertSubscription(tdb.db, { paymentMethod: 'pm_flaky_4' });
  const h = await startSubscription(worker, sub, testSettings({ dayMs: 5_000 }), taskQueue);
  const key = `subscription-${sub.id}:renewal-1:attempt-1`;
  try {
    // The provider is failing transiently (retries with the same key) when the worker dies.
    await eventually(async () => (await tdb.db('fake_provider.calls').where({ idempotency_key: key }).first())?.count >= 1);
    await doomed.kill();
    const rescuer = await startTestWorker({ db: tdb.db, taskQueue });
    try {
      // The attempt the dead worker held is retried once its 10 s start-to-close timeout runs out.
      await eventually(async () => (await renewals(tdb.db, sub.id))[0]?.status === 'paid', 45_000);
    } finally {
      await stop(h);
      await rescuer.shutdown();
    }
  } finally {
    await doomed.kill();
  }
  expect(await tdb.db('fake_provider.payments').where({ idempotency_key: key }).count()).toEqual([{ count: 1 }]);
  expect(await journalsFor(tdb.db, sub.id)).toEqual([key]);
  expect((await getBalance(tdb.db, accounts.platformRevenue)).balance).toBeGreaterThanOrEqual(PRICE);
  await expectLedgerInvariants(tdb.db);
});

test.concurrent("a renewal charged through the provider is found by the provider's webhook while it is pending", async () => {
  // A provider that settles only when the test says so (and, pm_timeout, never sends its own webhook).
  const payments = new FakePaymentProvider(tdb.db, { settleDelayMs: 600_000 });
  const slow = await startTestWorker({ db: tdb.db, taskQueue: `${worker.taskQueue}-slow-psp`, payments });
  const sub = await insertSubscription(tdb.db, { paymentMethod: 'pm_timeout' });
  const h = await startSubscription(slow, sub, testSettings({ dayMs: 60_000 }));
  try {
    // The wallet is empty, so the card is charged; the renewal row names the payment before it settles.
    const pending = await eventually(async () => {
      const r = (await renewals(tdb.db, sub.id))[0];
      return r?.provider_payment_id ? r : null;
    });
    expect(pending).toMatchObject({ period: 1, status: 'pending', amount: PRICE });
    const paymentId = pending.provider_payment_id!;

    // The provider settles it and tells us, signed as it signs its events.
    await tdb.db('fake_provider.payments').where({ id: paymentId }).update({ settles_at: tdb.db.fn.now() });
    const { PSP_WEBHOOK_SECRET: secret } = loadConfig({ NODE_ENV: 'test' });
    const raw = JSON.stringify({
      id: webhookEventId(paymentId, 'payment.succeeded'),
      type: 'payment.succeeded',
      paymentId,
      amount: PRICE,
      metadata: {},
    });
    const res = await api.request('POST', '/v1/webhooks/psp', {
      rawBody: raw,
      headers: { 'x-provider-signature': signWebhook(raw, secret) },
    });
    expect([res.status, res.body]).toEqual([200, { received: true, matched: true, duplicate: false }]);
    expect(await tdb.db('webhook_events').where({ payment_id: paymentId }).pluck('workflow_id')).toEqual([h.workflowId]);

    await eventually(async () => (await renewals(tdb.db, sub.id))[0].status === 'paid');
    expect((await renewals(tdb.db, sub.id))[0]).toMatchObject({ paid_via: 'provider', paid_attempt: 1, provider_payment_id: paymentId });
    // The signal reached the run that was charging (or the next one, had the 1 s poll seen the payment first).
    const runs = [worker.client.workflow.getHandle(h.workflowId, h.firstExecutionRunId), worker.client.workflow.getHandle(h.workflowId)];
    const signals = await Promise.all(
      runs.map(
        async (r) =>
          ((await r.fetchHistory()).events ?? []).filter(
            (e) => e.workflowExecutionSignaledEventAttributes?.signalName === paymentConfirmedSignal.name,
          ).length,
      ),
    );
    expect(signals.some((n) => n === 1)).toBe(true);
    expect(await journalsFor(tdb.db, sub.id)).toEqual([`subscription-${sub.id}:renewal-1:attempt-1`]);
  } finally {
    await stop(h);
    await slow.shutdown();
  }
  await expectLedgerInvariants(tdb.db);
});
