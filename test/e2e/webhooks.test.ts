import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { loadConfig } from '../../app/config';
import { markDeliveredSignal, type CheckoutState } from '../../contracts/checkout';
import { paymentConfirmedSignal } from '../../contracts/provider-payment';
import { accounts } from '../../domain/ledger/accounts';
import { checkoutWorkflowId } from '../../contracts/checkout';
import { getBalance } from '../../db/ledger-reports';
import { FakePaymentProvider, signWebhook, webhookEventId } from '../../infra/fake-payment-provider';
import { checkoutWorkflow } from '../../workflows/checkout';
import type { TopupState } from '../../contracts/topup';
import { startTestApi, type TestApi } from '../support/api';
import { placeOrder, seedProduct, seedSeller } from '../support/checkout';
import { createTestDatabase, expectLedgerInvariants, type TestDatabase } from '../support/db';
import { connectClient, eventually, startTestWorker, uniqueId, type TestWorker } from '../support/temporal';
import { answer } from '../support/typed-client';

const { PSP_WEBHOOK_SECRET: secret, PSP_WEBHOOK_TOLERANCE_SECONDS: tolerance } = loadConfig({ NODE_ENV: 'test' });

let tdb: TestDatabase;
let temporal: { client: Client; close(): Promise<void> };
let api: TestApi;
let worker: TestWorker;

// The API starts first so that the worker's sandbox provider can send its own webhooks to it.
beforeAll(async () => {
  tdb = await createTestDatabase();
  temporal = await connectClient();
  const taskQueue = `test-${randomUUID()}`;
  api = await startTestApi({ db: tdb.db, temporal: temporal.client, taskQueue });
  // A settle delay well above the time a top-up takes to record its payment id, so the
  // provider's own webhook (pm_ok) finds it; pm_timeout payments never send one.
  const payments = new FakePaymentProvider(tdb.db, { settleDelayMs: 500, webhookUrl: `${api.url}/v1/webhooks/psp`, webhookSecret: secret });
  worker = await startTestWorker({ db: tdb.db, taskQueue, payments });
});
afterAll(async () => {
  await api?.close();
  await worker?.shutdown();
  await temporal?.close();
  await tdb?.drop();
});

const now = () => Math.floor(Date.now() / 1000);

interface Event {
  id: string;
  type: 'payment.succeeded' | 'payment.failed';
  paymentId: string;
  amount: number;
  metadata?: Record<string, string>;
}

const succeeded = (paymentId: string, amount: number, metadata: Record<string, string> = {}): Event => ({
  id: webhookEventId(paymentId, 'payment.succeeded'),
  type: 'payment.succeeded',
  paymentId,
  amount,
  metadata,
});

/** Posts `event` as the provider would, signed at `t` with `key`. */
function deliver(event: Event, opts: { t?: number; key?: string; signature?: string } = {}) {
  const raw = JSON.stringify(event);
  const signature = opts.signature ?? signWebhook(raw, opts.key ?? secret, opts.t ?? now());
  return answer(
    api.client().POST('/v1/webhooks/psp', {
      body: event,
      // The signature covers the exact bytes sent: these.
      bodySerializer: () => raw,
      // The document does not declare the signature header, so it is not among the typed parameters.
      headers: { 'x-provider-signature': signature },
    }),
  );
}

/** A pm_timeout top-up (no webhook of its own) once it is waiting for the provider's confirmation. */
async function waitingTopup(amount: number) {
  const userId = uniqueId('hook_');
  const res = await answer(
    api.client(api.token(userId)).POST('/v1/wallet/topups', {
      params: { header: { 'Idempotency-Key': uniqueId('k-') } },
      body: { amount, paymentMethod: 'pm_timeout' },
    }),
  );
  expect(res.status).toBe(202);
  const row = await eventually(async () => {
    const r = await tdb.db('topups').where({ id: res.body.topupId }).first();
    return r?.status === 'awaiting_confirmation' ? r : null;
  });
  return { userId, amount, workflowId: res.body.workflowId as string, paymentId: row.provider_payment_id as string };
}

async function history(workflowId: string) {
  return (await temporal.client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
}
const confirmations = async (workflowId: string) =>
  (await history(workflowId)).filter((e) => e.workflowExecutionSignaledEventAttributes?.signalName === paymentConfirmedSignal.name).length;
const activitiesRun = async (workflowId: string) =>
  (await history(workflowId)).map((e) => e.activityTaskScheduledEventAttributes?.activityType?.name).filter(Boolean);
const topupResult = (workflowId: string) => temporal.client.workflow.getHandle(workflowId).result() as Promise<TopupState>;
const walletOf = async (userId: string) => (await getBalance(tdb.db, accounts.userWallet(userId))).balance;
const storedEvents = (paymentId: string) => tdb.db('webhook_events').where({ payment_id: paymentId }).select('event_id', 'workflow_id');

test('a forged, missing or wrongly keyed signature is a 401 and acts on nothing', async () => {
  const topup = await waitingTopup(1_100);
  const event = succeeded(topup.paymentId, topup.amount);
  const attempts = [
    await deliver(event, { signature: `t=${now()},v1=${'f'.repeat(64)}` }),
    await deliver(event, { signature: 'f'.repeat(64) }),
    await deliver(event, { signature: '' }),
    await deliver(event, { key: 'not-the-provider-secret' }),
  ];
  for (const res of attempts) expect([res.status, res.body.error.code]).toEqual([401, 'invalid_signature']);
  // A body changed after signing no longer matches its signature.
  const t = now();
  const signedForOther = signWebhook(JSON.stringify({ ...event, amount: 1 }), secret, t);
  const tampered = await deliver(event, { signature: signedForOther });
  expect([tampered.status, tampered.body.error.code]).toEqual([401, 'invalid_signature']);
  // Signed but malformed: a 400 naming the field, nothing recorded.
  // @ts-expect-error an event without its id, on purpose: signed, and still refused
  const malformed = await deliver({ type: 'payment.succeeded', paymentId: topup.paymentId, amount: 1_100 });
  expect([malformed.status, malformed.body.error.code]).toEqual([400, 'validation_failed']);

  expect(await confirmations(topup.workflowId)).toBe(0);
  expect(await storedEvents(topup.paymentId)).toEqual([]);
  // The flow still finishes, by polling the provider.
  expect((await topupResult(topup.workflowId)).status).toBe('succeeded');
  await expectLedgerInvariants(tdb.db);
});

test('a correctly signed event with a stale or future timestamp is a 401 and signals nothing', async () => {
  const topup = await waitingTopup(1_200);
  const event = succeeded(topup.paymentId, topup.amount);
  for (const t of [now() - tolerance - 5, now() + tolerance + 5]) {
    const res = await deliver(event, { t });
    expect(res.status).toBe(401);
    expect(res.body.error).toMatchObject({ code: 'stale_signature', details: { toleranceSeconds: tolerance } });
  }
  expect(await confirmations(topup.workflowId)).toBe(0);
  expect(await storedEvents(topup.paymentId)).toEqual([]);
  // Just inside the window is accepted: clocks drift a little, and deliveries take time.
  const inWindow = await deliver(event, { t: now() - tolerance + 30 });
  expect(inWindow.body).toEqual({ received: true, matched: true, duplicate: false });
  expect((await topupResult(topup.workflowId)).status).toBe('succeeded');
  expect(await confirmations(topup.workflowId)).toBe(1);
  await expectLedgerInvariants(tdb.db);
});

test('the flow is found from our records: a workflow id in the payload is ignored', async () => {
  const owner = await waitingTopup(1_300);
  const bystander = await waitingTopup(1_400);
  // The payload points at another top-up's flow; only the payment's owner hears of it.
  const res = await deliver(succeeded(owner.paymentId, owner.amount, { workflowId: bystander.workflowId }));
  expect(res.body).toEqual({ received: true, matched: true, duplicate: false });
  expect((await topupResult(owner.workflowId)).status).toBe('succeeded');
  expect(await confirmations(owner.workflowId)).toBe(1);
  expect(await confirmations(bystander.workflowId)).toBe(0);
  expect(await storedEvents(owner.paymentId)).toEqual([
    { event_id: webhookEventId(owner.paymentId, 'payment.succeeded'), workflow_id: owner.workflowId },
  ]);

  // The bystander's wallet moves only when its own payment is confirmed (here: by its poll).
  expect(await walletOf(owner.userId)).toBe(1_300);
  expect((await topupResult(bystander.workflowId)).status).toBe('succeeded');
  expect(await walletOf(bystander.userId)).toBe(1_400);
  await expectLedgerInvariants(tdb.db);
});

test('a replayed event id is answered 200 duplicate and signals the flow once', async () => {
  const topup = await waitingTopup(1_500);
  const event = succeeded(topup.paymentId, topup.amount);
  // Three copies at once, as a provider's retries can overlap: one acts, the rest are repeats.
  const first = await Promise.all([deliver(event), deliver(event), deliver(event)]);
  expect(first.map((r) => r.status)).toEqual([200, 200, 200]);
  expect(first.filter((r) => r.body.duplicate === false)).toHaveLength(1);
  expect(first.filter((r) => r.body.duplicate === true)).toHaveLength(2);
  // A later retry, re-signed with a fresh timestamp, carries the same id: still a repeat.
  const retry = await deliver(event, { t: now() + 1 });
  expect(retry.body).toEqual({ received: true, matched: true, duplicate: true });

  expect((await topupResult(topup.workflowId)).status).toBe('succeeded');
  // After the flow finished, too.
  expect((await deliver(event)).body).toEqual({ received: true, matched: true, duplicate: true });
  expect(await confirmations(topup.workflowId)).toBe(1);
  expect(await storedEvents(topup.paymentId)).toHaveLength(1);
  expect(await walletOf(topup.userId)).toBe(1_500);
  await expectLedgerInvariants(tdb.db);
});

test('an event for a payment we never created is acknowledged, matched:false, and signals nothing', async () => {
  const bystander = await waitingTopup(1_600);
  const unknown = `pay_${randomUUID().replace(/-/g, '').slice(0, 20)}`;
  const res = await deliver(succeeded(unknown, 1_600, { workflowId: bystander.workflowId }));
  expect([res.status, res.body]).toEqual([200, { received: true, matched: false }]);
  expect(await storedEvents(unknown)).toEqual([]);
  expect(await confirmations(bystander.workflowId)).toBe(0);
  expect((await topupResult(bystander.workflowId)).status).toBe('succeeded');
  await expectLedgerInvariants(tdb.db);
});

test('a pm_timeout top-up completes through the webhook, without polling the provider', async () => {
  const topup = await waitingTopup(1_700);
  const res = await deliver(succeeded(topup.paymentId, topup.amount));
  expect(res.body).toEqual({ received: true, matched: true, duplicate: false });
  expect((await topupResult(topup.workflowId)).status).toBe('succeeded');
  const ran = await activitiesRun(topup.workflowId);
  expect(ran).not.toContain('getTopupPayment');
  expect(ran).toContain('creditTopup');
  expect(await walletOf(topup.userId)).toBe(1_700);
  await expectLedgerInvariants(tdb.db);
});

test("the sandbox provider's own webhook is signed, carries a stable event id and is routed to its top-up", async () => {
  const userId = uniqueId('hook_');
  const res = await answer(
    api.client(api.token(userId)).POST('/v1/wallet/topups', {
      params: { header: { 'Idempotency-Key': uniqueId('k-') } },
      body: { amount: 1_800, paymentMethod: 'pm_ok' },
    }),
  );
  expect(res.status).toBe(202);
  expect((await topupResult(res.body.workflowId)).status).toBe('succeeded');
  const row = await tdb.db('topups').where({ id: res.body.topupId }).first();
  const stored = await eventually(async () => {
    const rows = await storedEvents(row.provider_payment_id);
    return rows.length ? rows : null;
  });
  expect(stored).toEqual([{ event_id: webhookEventId(row.provider_payment_id, 'payment.succeeded'), workflow_id: res.body.workflowId }]);
  expect(await walletOf(userId)).toBe(1_800);
  await expectLedgerInvariants(tdb.db);
});

test('a checkout card charge is confirmed through the webhook, found by the order', async () => {
  const sellerId = await seedSeller(tdb.db);
  const productId = await seedProduct(tdb.db, sellerId, 1_900, 3);
  const buyerId = uniqueId('b_');
  // An empty wallet sends the charge to the card; a poll far away leaves the webhook to confirm it.
  const input = {
    ...(await placeOrder(tdb.db, {
      buyerId,
      sellerId,
      lines: [{ productId, quantity: 1 }],
      paymentMethod: 'pm_timeout',
      returnWindowMs: 200,
    })),
    paymentPollMs: 60_000,
  };
  const workflowId = checkoutWorkflowId(input.orderId);
  const handle = await temporal.client.workflow.start(checkoutWorkflow, { taskQueue: worker.taskQueue, workflowId, args: [input] });
  const order = await eventually(async () => {
    const o = await tdb.db('orders').where({ id: input.orderId }).first();
    return o?.provider_payment_id ? o : null;
  });
  // The payload names some other flow; the order's own record decides.
  const res = await deliver(succeeded(order.provider_payment_id, input.total, { workflowId: 'market-mk_elsewhere0' }));
  expect(res.body).toEqual({ received: true, matched: true, duplicate: false });
  await eventually(async () => (await tdb.db('orders').where({ id: input.orderId }).first()).status === 'confirmed');
  await handle.signal(markDeliveredSignal, { by: sellerId });
  expect((await handle.result()) as CheckoutState).toMatchObject({ status: 'completed' });
  expect(await confirmations(workflowId)).toBe(1);
  expect(await activitiesRun(workflowId)).not.toContain('getProviderPayment');
  await expectLedgerInvariants(tdb.db);
});
