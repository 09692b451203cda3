import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { WorkflowHandle } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import { temporal } from '@temporalio/proto';
import { accounts } from '../../domain/ledger/accounts';
import { transfer } from '../../domain/ledger/journal';
import { checkoutWorkflowId } from '../../contracts/checkout';
import { generationWorkflowId, holidayWorkflowId } from '../../contracts/delivery-generation';
import { payoutWorkflowId } from '../../contracts/payout';
import { subscriptionWorkflowId } from '../../contracts/subscription';
import { topupWorkflowId } from '../../contracts/topup';
import { postJournal } from '../../db/ledger';
import { insertSubscriptionRow } from '../../db/subscriptions';
import { cancelSignal, checkoutStateQuery, markDeliveredSignal } from '../../contracts/checkout';
import { marketStateQuery } from '../../contracts/market';
import type { PayoutState } from '../../contracts/payout';
import { stuckQuery, type StuckStep } from '../../contracts/stuck';
import { stateQuery as subscriptionStateQuery, type SubscriptionWorkflowInput } from '../../contracts/subscription';
import type { SubscriptionRecord } from '../../domain/subscription';
import { topupStateQuery } from '../../contracts/topup';
import { checkoutWorkflow } from '../../workflows/checkout';
import { payoutWorkflow } from '../../workflows/payout';
import { subscriptionWorkflow } from '../../workflows/subscription';
import { generateDeliveriesWorkflow, regionHolidayWorkflow } from '../../workflows/subscription-generation';
import { topupWorkflow } from '../../workflows/topup';
import { startTestApi, type TestApi } from '../support/api';
import { balanceOf, fundWallet, placeOrder as placeCheckoutOrder, seedProduct, seedSeller } from '../support/checkout';
import { createTestDatabase, expectLedgerInvariants, type TestDatabase } from '../support/db';
import { testEnv } from '../support/env';
import { createMarket, placeOrder as placeMarketOrder, waitForEngineIdle, waitForStatus } from '../support/markets';
import { eventually, startTestWorker, uniqueId, type TestWorker } from '../support/temporal';

/**
 * Every flow, made to fail on a step the way a real bug would — a trigger in this file's own
 * database raising SQLSTATE 22021 on the table the step writes, or a NUL in a signal's text sent
 * straight through the Temporal client as the CLI would — parks as FlowStatus `stuck`, shows in
 * GET /v1/ops/alerts, and finishes once the cause is fixed and support retries (or abandons) it
 * through the API. The scenarios run concurrently; each trigger fires for its own rows only.
 */
let tdb: TestDatabase;
let worker: TestWorker;
let api: TestApi;
let support: string;
let admin: string;

beforeAll(async () => {
  tdb = await createTestDatabase(20);
  worker = await startTestWorker({ db: tdb.db });
  api = await startTestApi({
    db: tdb.db,
    temporal: worker.client,
    taskQueue: worker.taskQueue,
    pubsub: worker.deps.pubsub,
    env: { RATE_LIMIT_PER_MINUTE: '100000' },
  });
  support = api.token(uniqueId('agent_'), ['support']);
  admin = api.token(uniqueId('admin_'), ['admin']);
  await tdb.db.raw(`
    CREATE FUNCTION test_unfixable() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION 'invalid byte sequence for encoding "UTF8": 0x00' USING ERRCODE = '22021';
    END $$`);
});
afterAll(async () => {
  await api?.close();
  await worker?.shutdown();
  await tdb?.drop();
});

/** A bug in waiting: every matching write to `table` fails as bad data does. Returns the fix. */
async function breakWrites(table: string, when: string): Promise<() => Promise<void>> {
  const name = `t_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  await tdb.db.raw(
    `CREATE TRIGGER ${name} BEFORE INSERT OR UPDATE ON ${table} FOR EACH ROW WHEN (${when}) EXECUTE FUNCTION test_unfixable()`,
  );
  return async () => {
    await tdb.db.raw(`DROP TRIGGER ${name} ON ${table}`);
  };
}

/** The start options every flow here shares: this file's worker, and the flow's own workflow id. */
const on = (workflowId: string) => ({ taskQueue: worker.taskQueue, workflowId });
const flowStatus = async (h: WorkflowHandle) => (await h.describe()).searchAttributes.FlowStatus?.[0];
const summary = async (h: WorkflowHandle) => ((await h.describe()).memo as { summary?: string } | undefined)?.summary;

/** Waits until the flow is parked on `step`: FlowStatus, the shared query, the memo and the ops alert all say so. */
async function expectStuck(h: WorkflowHandle, step: string, flowType: string): Promise<StuckStep> {
  const stuck = await eventually(async () => {
    const s = await h.query(stuckQuery);
    return s?.step === step && (await flowStatus(h)) === 'stuck' ? s : null;
  });
  expect(stuck).toMatchObject({ step, code: '22021', reason: expect.stringContaining('invalid byte sequence') });
  expect(await summary(h)).toMatch(new RegExp(`^Stuck on step ${step}: invalid byte sequence`));
  const alert = await eventually(async () => {
    const res = await api.request('GET', '/v1/ops/alerts', { token: support });
    return res.body.alerts.find((a: { flow?: { workflowId: string } }) => a.flow?.workflowId === h.workflowId);
  });
  expect(alert).toMatchObject({
    kind: 'flow_stuck',
    message: expect.stringContaining(`Stuck on step ${step}`),
    flow: { flowType, step, code: '22021' },
  });
  return stuck;
}

async function decide(h: WorkflowHandle, action: 'retry' | 'abandon', reason = 'cause fixed') {
  const res = await api.request('POST', `/v1/ops/flows/${h.workflowId}/${action}`, { token: support, body: { reason } });
  expect([res.status, res.body]).toEqual([202, expect.objectContaining({ workflowId: h.workflowId, action, accepted: true })]);
  return res.body;
}

/** The alert is closed with how the park ended, and no longer listed as open. */
async function expectResolved(h: WorkflowHandle, resolution: 'retried' | 'abandoned' | 'decided' | 'cancelled') {
  await eventually(async () => {
    const all = await api.request('GET', '/v1/ops/alerts?open=false&limit=200', { token: support });
    return all.body.alerts.some(
      (a: { flow?: { workflowId: string; resolution: string } }) => a.flow?.workflowId === h.workflowId && a.flow.resolution === resolution,
    );
  });
  const open = await api.request('GET', '/v1/ops/alerts', { token: support });
  expect(open.body.alerts.filter((a: { flow?: { workflowId: string } }) => a.flow?.workflowId === h.workflowId)).toEqual([]);
}

/** After a retry that could not help: the same step is parked again (a later park, a second alert row). */
async function parkedAgain(h: WorkflowHandle, before: StuckStep): Promise<StuckStep> {
  const again = await eventually(async () => {
    const s = await h.query(stuckQuery);
    return s && s.since !== before.since ? s : null;
  });
  expect(again.step).toBe(before.step);
  const rows = await eventually(async () => {
    const r = await tdb.db('flow_alerts').where({ workflow_id: h.workflowId, step: before.step }).orderBy('id');
    return r.length === 2 && r[1].resolved_at === null ? r : null;
  });
  expect(rows[0].resolution).toBe('retried');
  return again;
}

async function newTopup(amount: number) {
  const topupId = uniqueId('tu_');
  const userId = uniqueId('u');
  await tdb.db('topups').insert({ id: topupId, user_id: userId, amount, payment_method: 'pm_ok', status: 'pending' });
  return { topupId, userId, amount, paymentMethod: 'pm_ok' };
}

test.concurrent('top-up: the credit hits bad data, parks, and credits once after the fix and a retry', async () => {
  const input = await newTopup(50_000);
  const fix = await breakWrites('topups', `NEW.id = '${input.topupId}' AND NEW.status = 'succeeded'`);
  const h = await worker.client.workflow.start(topupWorkflow, { ...on(topupWorkflowId(input.topupId)), args: [input] });
  const first = await expectStuck(h, 'credit', 'topup');
  expect(await h.query(topupStateQuery)).toMatchObject({
    status: 'awaiting_confirmation',
    stuckStep: 'credit',
    stuckReason: expect.stringContaining('0x00'),
  });
  expect(await balanceOf(tdb.db, accounts.userWallet(input.userId))).toBe(0);
  // Retrying before the fix parks it again on the same step, with a new alert.
  await decide(h, 'retry', 'too early');
  await parkedAgain(h, first);
  await expectStuck(h, 'credit', 'topup');

  await fix();
  await decide(h, 'retry');
  expect(await h.result()).toMatchObject({ status: 'succeeded', stuckStep: null });
  expect(await flowStatus(h)).toBe('succeeded');
  expect(await summary(h)).toBe(`Top-up ${input.topupId} of ₹500.00: succeeded`);
  expect(await balanceOf(tdb.db, accounts.userWallet(input.userId))).toBe(50_000);
  await expectResolved(h, 'retried');
  await expectLedgerInvariants(tdb.db);
});

test.concurrent('top-up abandoned by support: it ends failed with nothing credited; the API refuses what it should', async () => {
  const input = await newTopup(20_000);
  const fix = await breakWrites('topups', `NEW.id = '${input.topupId}' AND NEW.status = 'succeeded'`);
  const h = await worker.client.workflow.start(topupWorkflow, { ...on(topupWorkflowId(input.topupId)), args: [input] });
  const stuck = await expectStuck(h, 'credit', 'topup');
  expect(stuck.abandon).toMatch(/failed; nothing is credited/);

  const bad = await api.request('POST', '/v1/ops/flows/ledger-maintenance-1/retry', { token: support, body: {} });
  expect([bad.status, bad.body.error.code]).toEqual([400, 'validation_failed']);
  expect((await api.request('POST', `/v1/ops/flows/${h.workflowId}/abandon`, { token: api.token(input.userId), body: {} })).status).toBe(
    403,
  );
  const unknown = await api.request('POST', `/v1/ops/flows/${topupWorkflowId(uniqueId('tu_'))}/retry`, { token: support, body: {} });
  expect([unknown.status, unknown.body.error.code]).toEqual([404, 'not_found']);
  const extra = await api.request('POST', `/v1/ops/flows/${h.workflowId}/abandon`, { token: support, body: { reason: 'x', force: true } });
  expect(extra.status).toBe(400);

  await decide(h, 'abandon', 'customer asked for a refund instead');
  expect(await h.result()).toMatchObject({ status: 'failed', failureCode: 'abandoned', stuckStep: null });
  expect(await balanceOf(tdb.db, accounts.userWallet(input.userId))).toBe(0);
  const row = await tdb.db('topups').where({ id: input.topupId }).first();
  expect(row).toMatchObject({ status: 'failed', failure_code: 'abandoned' });
  expect(row.failure_message).toMatch(/abandoned the top-up at step credit: nothing was credited/);
  expect(await flowStatus(h)).toBe('failed');
  await expectResolved(h, 'abandoned');
  const audit = await tdb.db('audit_log').where({ target_id: h.workflowId, action: 'flow.abandon_step' });
  expect(audit).toHaveLength(1);
  const again = await api.request('POST', `/v1/ops/flows/${h.workflowId}/retry`, { token: support, body: {} });
  expect([again.status, again.body.error.code]).toEqual([409, 'not_stuck']);
  await fix();
  await expectLedgerInvariants(tdb.db);
});

test.concurrent('subscription: the renewal row cannot be written; after the fix and a retry the period is paid', async () => {
  const sub: SubscriptionRecord = {
    id: uniqueId('sub_'),
    customerId: uniqueId('cust'),
    productId: 'milk-500ml',
    quantity: 1,
    pricePerPeriod: 9_000,
    recurrence: { kind: 'daily' },
    startDate: '2026-08-02',
    endDate: null,
    timezone: 'Asia/Kolkata',
    region: 'blr',
    paymentMethod: 'pm_ok',
  };
  await insertSubscriptionRow(tdb.db, sub);
  await fundWallet(tdb.db, sub.customerId, 9_000);
  const fix = await breakWrites('subscription_renewals', `NEW.subscription_id = '${sub.id}'`);
  const input: SubscriptionWorkflowInput = {
    subscription: sub,
    settings: {
      billingPeriod: { unit: 'day', count: 3 },
      dayMs: 60_000,
      simStartMs: Date.parse('2026-08-01T00:00:01+05:30'),
      dunningRetryDays: [1, 2],
    },
  };
  const h = await worker.client.workflow.start(subscriptionWorkflow, { ...on(subscriptionWorkflowId(sub.id)), args: [input] });
  await expectStuck(h, 'open_renewal', 'subscription');
  expect(await h.query(subscriptionStateQuery)).toMatchObject({
    flowStatus: 'stuck',
    stuckStep: 'open_renewal',
  });

  await fix();
  await decide(h, 'retry');
  // Paid: the workflow continues as new with the period paid and shows its status again.
  await eventually(
    async () => (await tdb.db('subscription_renewals').where({ subscription_id: sub.id, period: 1 }).first())?.status === 'paid',
  );
  const latest = worker.client.workflow.getHandle(h.workflowId);
  await eventually(async () => (await flowStatus(latest)) === 'active');
  expect(await latest.query(subscriptionStateQuery)).toMatchObject({
    periodPaid: true,
    stuckStep: null,
  });
  expect(await summary(latest)).toMatch(new RegExp(`^Subscription ${sub.id}: active`));
  expect(await balanceOf(tdb.db, accounts.userWallet(sub.customerId))).toBe(0);
  await expectResolved(h, 'retried');
  await latest.terminate('test over');
  await expectLedgerInvariants(tdb.db);
});

test.concurrent('checkout: stock cannot be reserved; after the fix and a retry the order goes on to settle', async () => {
  const sellerId = await seedSeller(tdb.db, { commissionBps: 1000 });
  const productId = await seedProduct(tdb.db, sellerId, 2_500, 3);
  const buyer = uniqueId('b_');
  await fundWallet(tdb.db, buyer, 2_500);
  const input = await placeCheckoutOrder(tdb.db, { buyerId: buyer, sellerId, lines: [{ productId, quantity: 1 }], returnWindowMs: 100 });
  const fix = await breakWrites('products', `NEW.id = '${productId}'`);
  const h = await worker.client.workflow.start(checkoutWorkflow, { ...on(checkoutWorkflowId(input.orderId)), args: [input] });
  await expectStuck(h, 'place', 'checkout');
  expect(await h.query(checkoutStateQuery)).toMatchObject({
    status: 'stuck',
    stuckStep: 'place',
    stuckError: expect.stringContaining('0x00'),
  });
  expect((await tdb.db('orders').where({ id: input.orderId }).first()).status).toBe('stuck');

  await fix();
  await decide(h, 'retry');
  await eventually(async () => (await h.query(checkoutStateQuery)).confirmed);
  await h.signal(markDeliveredSignal, { by: sellerId });
  expect(await h.result()).toMatchObject({ status: 'completed', stuckStep: null });
  expect(await balanceOf(tdb.db, accounts.sellerPayable(sellerId))).toBe(2_250);
  expect(await summary(h)).toBe(`Order ${input.orderId} of ₹25.00: completed`);
  await expectResolved(h, 'retried');
  await expectLedgerInvariants(tdb.db);
});

test.concurrent('checkout stuck, then the workflow is cancelled from the UI: compensated, and the alert closed', async () => {
  const sellerId = await seedSeller(tdb.db);
  const productId = await seedProduct(tdb.db, sellerId, 700, 1);
  const buyer = uniqueId('b_');
  await fundWallet(tdb.db, buyer, 700);
  const input = await placeCheckoutOrder(tdb.db, { buyerId: buyer, sellerId, lines: [{ productId, quantity: 1 }] });
  const fix = await breakWrites('products', `NEW.id = '${productId}'`);
  const h = await worker.client.workflow.start(checkoutWorkflow, { ...on(checkoutWorkflowId(input.orderId)), args: [input] });
  await expectStuck(h, 'place', 'checkout');
  await fix(); // the release of stock (a no-op: nothing was reserved) must be able to write
  await h.cancel();
  expect(await h.result()).toMatchObject({ status: 'cancelled', failureCode: 'workflow_cancelled', stuckStep: null });
  expect(await balanceOf(tdb.db, accounts.userWallet(buyer))).toBe(700);
  await expectResolved(h, 'cancelled');
  await expectLedgerInvariants(tdb.db);
});

test.concurrent('checkout cancelled with a NUL in its reason (CLI): the close parks; abandoning closes it without the text', async () => {
  const sellerId = await seedSeller(tdb.db);
  const productId = await seedProduct(tdb.db, sellerId, 1_000, 2);
  const buyer = uniqueId('b_');
  await fundWallet(tdb.db, buyer, 1_000);
  const input = await placeCheckoutOrder(tdb.db, { buyerId: buyer, sellerId, lines: [{ productId, quantity: 1 }] });
  const h = await worker.client.workflow.start(checkoutWorkflow, { ...on(checkoutWorkflowId(input.orderId)), args: [input] });
  await eventually(async () => (await h.query(checkoutStateQuery)).confirmed);
  await h.signal(cancelSignal, { by: buyer, role: 'buyer', reason: 'changed my mind\u0000' });

  // Postgres refuses the NUL itself (no trigger here): the refund and restock ran, the close cannot.
  const stuck = await eventually(async () => {
    const s = await h.query(stuckQuery);
    return s?.step === 'close_order' && (await flowStatus(h)) === 'stuck' ? s : null;
  });
  expect(stuck.code).toMatch(/^22/);
  expect(await h.query(checkoutStateQuery)).toMatchObject({ status: 'compensating', compensationsRun: ['refund', 'release_stock'] });
  expect(await balanceOf(tdb.db, accounts.userWallet(buyer))).toBe(1_000);
  // A retry cannot help (the text is the problem): it parks again.
  await decide(h, 'retry');
  await parkedAgain(h, stuck);

  await decide(h, 'abandon', 'drop the reason');
  expect(await h.result()).toMatchObject({ status: 'cancelled', compensationsRun: ['refund', 'release_stock', 'close_order'] });
  const order = await tdb.db('orders').where({ id: input.orderId }).first();
  expect(order).toMatchObject({
    status: 'cancelled',
    failure_code: 'cancelled_by_buyer',
    failure_message: 'cancelled (cancelled_by_buyer)',
  });
  expect((await tdb.db('products').where({ id: productId }).first()).stock).toBe(2);
  await expectResolved(h, 'abandoned');
  await expectLedgerInvariants(tdb.db);
});

test.concurrent('payout: the bank paid but the books cannot record it; the money stays in flight until the retry', async () => {
  const sellerId = await seedSeller(tdb.db, { bank: 'ok:SBIN0001' });
  await postJournal(tdb.db, {
    idempotencyKey: `test-${randomUUID()}`,
    reason: 'order_settlement',
    lines: transfer(accounts.externalPsp, accounts.sellerPayable(sellerId), 12_000),
  });
  const payoutId = `po_${randomUUID().replace(/-/g, '').slice(0, 24)}`;
  await tdb
    .db('payouts')
    .insert({ id: payoutId, seller_id: sellerId, status: 'pending', bank_account_ref: 'ok:SBIN0001', requested_by: 'test' });
  const fix = await breakWrites('payouts', `NEW.id = '${payoutId}' AND NEW.status = 'paid'`);
  const h = await worker.client.workflow.start(payoutWorkflow, {
    ...on(payoutWorkflowId(payoutId)),
    args: [{ payoutId, sellerId, pollMs: 50, maxPollMs: 400 }],
  });
  const stuck = await expectStuck(h, 'finalise', 'payout');
  expect(stuck.abandon).toBeNull();
  expect(await balanceOf(tdb.db, accounts.sellerPayoutInFlight(sellerId))).toBe(12_000);
  const refused = await api.request('POST', `/v1/ops/flows/${h.workflowId}/abandon`, { token: support, body: {} });
  expect([refused.status, refused.body.error.code]).toEqual([409, 'not_abandonable']);

  await fix();
  await decide(h, 'retry');
  expect(await h.result()).toMatchObject<Partial<PayoutState>>({ status: 'paid', amount: 12_000, stuckStep: null });
  expect(await balanceOf(tdb.db, accounts.sellerPayoutInFlight(sellerId))).toBe(0);
  expect(await balanceOf(tdb.db, accounts.sellerPayable(sellerId))).toBe(0);
  expect(await summary(h)).toBe(`Payout ${payoutId} of ₹120.00 to seller ${sellerId}: paid`);
  await expectResolved(h, 'retried');
  await expectLedgerInvariants(tdb.db);
});

test.concurrent('market: settlement cannot write its rows; the money waits in escrow and is paid once after the retry', async () => {
  const [yes, no] = [uniqueId('u'), uniqueId('u')];
  await fundWallet(tdb.db, yes, 10_000);
  await fundWallet(tdb.db, no, 10_000);
  const marketId = await createMarket(api, admin, { opensInMs: 200, closesInMs: 60_000, feeBps: 0 });
  await waitForStatus(tdb.db, marketId, 'open');
  expect((await placeMarketOrder(api, api.token(yes), marketId, { side: 'YES', action: 'BUY', price: 600, quantity: 2 })).status).toBe(202);
  await waitForEngineIdle(tdb.db, marketId);
  expect((await placeMarketOrder(api, api.token(no), marketId, { side: 'NO', action: 'BUY', price: 400, quantity: 2 })).status).toBe(202);
  await waitForEngineIdle(tdb.db, marketId);
  const fix = await breakWrites('market_settlements', `NEW.market_id = '${marketId}'`);
  expect(
    (await api.request('POST', `/v1/markets/${marketId}/close`, { token: admin, idempotencyKey: uniqueId('close-'), body: {} })).status,
  ).toBe(200);
  const h = worker.client.workflow.getHandle(`market-${marketId}`);
  const resolving = api.request('POST', `/v1/markets/${marketId}/resolve`, {
    token: admin,
    idempotencyKey: uniqueId('resolve-'),
    body: { outcome: 'YES', source: 'scorer' },
  });
  await expectStuck(h, 'settle', 'market');
  expect(await h.query(marketStateQuery)).toMatchObject({ phase: 'settling', stuckStep: 'settle' });
  expect(await balanceOf(tdb.db, accounts.marketEscrow(marketId))).toBe(2_000);
  expect((await resolving).status).toBe(200);

  await fix();
  await decide(h, 'retry');
  expect(await h.result()).toMatchObject({ phase: 'settled', outcome: 'YES', usersPaid: 2, stuckStep: null });
  expect(await balanceOf(tdb.db, accounts.userWallet(yes))).toBe(10_000 - 1_200 + 2_000);
  expect(await balanceOf(tdb.db, accounts.marketEscrow(marketId))).toBe(0);
  expect(await summary(h)).toBe(`Market ${marketId}: settled YES, 2 holders paid`);
  await expectResolved(h, 'retried');
  await expectLedgerInvariants(tdb.db);
});

test.concurrent('market: the resolution cannot be recorded; a void while it is stuck voids it and refunds everyone', async () => {
  const buyer = uniqueId('u');
  await fundWallet(tdb.db, buyer, 5_000);
  const marketId = await createMarket(api, admin, { opensInMs: 200, closesInMs: 60_000, feeBps: 0 });
  await waitForStatus(tdb.db, marketId, 'open');
  // A resting bid: its hold is released when the market closes.
  expect((await placeMarketOrder(api, api.token(buyer), marketId, { side: 'YES', action: 'BUY', price: 300, quantity: 5 })).status).toBe(
    202,
  );
  await waitForEngineIdle(tdb.db, marketId);
  const fix = await breakWrites('markets', `NEW.id = '${marketId}' AND NEW.status = 'resolved'`);
  expect(
    (await api.request('POST', `/v1/markets/${marketId}/close`, { token: admin, idempotencyKey: uniqueId('close-'), body: {} })).status,
  ).toBe(200);
  const h = worker.client.workflow.getHandle(`market-${marketId}`);
  const resolving = api.request('POST', `/v1/markets/${marketId}/resolve`, {
    token: admin,
    idempotencyKey: uniqueId('resolve-'),
    body: { outcome: 'NO', source: 'scorer' },
  });
  const stuck = await expectStuck(h, 'record_resolution', 'market');
  expect(stuck.abandon).toMatch(/voids the market/);

  const voided = await api.request('POST', `/v1/markets/${marketId}/void`, {
    token: admin,
    idempotencyKey: uniqueId('void-'),
    body: { reason: 'result disputed' },
  });
  expect(voided.status).toBe(200);
  expect(await h.result()).toMatchObject({ phase: 'voided', voidReason: 'result disputed', stuckStep: null });
  await resolving;
  expect((await tdb.db('markets').where({ id: marketId }).first()).status).toBe('voided');
  expect(await balanceOf(tdb.db, accounts.userWallet(buyer))).toBe(5_000);
  await expectResolved(h, 'decided');
  await fix();
  await expectLedgerInvariants(tdb.db);
});

test.concurrent('holiday: the skips cannot be inserted; after the fix and a retry every subscription of the region has it', async () => {
  const region = uniqueId('hol');
  const date = '2026-09-15';
  const ids = [uniqueId('sub_'), uniqueId('sub_')];
  for (const id of ids) {
    await insertSubscriptionRow(tdb.db, {
      id,
      customerId: uniqueId('cust'),
      productId: 'milk-500ml',
      quantity: 1,
      pricePerPeriod: 9_000,
      recurrence: { kind: 'daily' },
      startDate: '2026-08-02',
      endDate: null,
      timezone: 'Asia/Kolkata',
      region,
      paymentMethod: 'pm_ok',
    });
  }
  const fix = await breakWrites('subscription_exceptions', `NEW.subscription_id IN ('${ids.join("','")}')`);
  const h = await worker.client.workflow.start(regionHolidayWorkflow, {
    ...on(holidayWorkflowId(region, date)),
    args: [{ region, date, createdBy: 'admin:test', createdAt: new Date().toISOString() }],
  });
  await expectStuck(h, 'add_skips', 'holiday');
  expect(await tdb.db('subscription_exceptions').whereIn('subscription_id', ids)).toEqual([]);

  await fix();
  await decide(h, 'retry');
  expect(await h.result()).toEqual({ added: 2, signalled: 0 });
  expect(
    await tdb
      .db('subscription_exceptions')
      .whereIn('subscription_id', ids)
      .where({ id: `H-${date}` }),
  ).toHaveLength(2);
  expect(await flowStatus(h)).toBe('completed');
  expect(await summary(h)).toBe(`Holiday in ${region} on ${date}: completed, 2 skips added, 0 subscriptions told`);
  await expectResolved(h, 'retried');
});

test.concurrent('nightly generation: a batch cannot insert its deliveries; after the fix and a retry the night is complete', async () => {
  const date = '2026-08-20';
  const fix = await breakWrites('deliveries', `NEW.delivery_date = '${date}'::date`);
  const h = await worker.client.workflow.start(generateDeliveriesWorkflow, {
    ...on(generationWorkflowId('Asia/Kolkata', date)),
    args: [{ timezone: 'Asia/Kolkata', date, batchSize: 1_000 }],
  });
  await expectStuck(h, 'generate_batch', 'generation');
  await fix();
  await decide(h, 'retry');
  expect(await h.result()).toMatchObject({ date, done: true });
  expect(await flowStatus(h)).toBe('completed');
  await expectResolved(h, 'retried');
});

// Histories recorded from every flow before the stuck mechanism existed (a run of each path:
// top-ups, checkouts incl. stuck-then-cancelled/retried, a refund after settlement, payouts, markets, holiday, generation,
// subscriptions with dunning). Running flows replay on the new code: new commands are patched in.
test('histories recorded before the stuck mechanism replay without non-determinism', async () => {
  const dir = path.join(__dirname, 'histories', 'before-stuck');
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json'));
  expect(files.length).toBeGreaterThanOrEqual(20);
  for (const file of files) {
    const { workflowId, history } = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8'));
    const h = temporal.api.history.v1.History.fromObject(history);
    await Worker.runReplayHistory({ workflowBundle: { codePath: testEnv.workflowBundlePath } }, h, workflowId);
  }
});
