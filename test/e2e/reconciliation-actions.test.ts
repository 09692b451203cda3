import { randomUUID } from 'node:crypto';
import { checkoutStateQuery, checkoutWorkflowId, markDeliveredSignal } from '../../contracts/checkout';
import { payoutKeys, payoutMarkSettledUpdate, payoutPollNowSignal } from '../../contracts/payout';
import { topupPollNowSignal, topupWorkflowId } from '../../contracts/topup';
import { abandonStepSignal, retryStepSignal } from '../../contracts/stuck';
import { paymentMethodUpdate } from '../../contracts/subscription';
import { resolveMarketUpdate, voidMarketUpdate } from '../../contracts/market';
import { accounts } from '../../domain/ledger/accounts';
import { addDays, localDateOf } from '../../domain/schedule';
import { checkoutWorkflow } from '../../workflows/checkout';
import { topupWorkflow } from '../../workflows/topup';
import type { TestApi } from '../support/api';
import { seedSubscribableProduct } from '../support/catalog';
import { unansweredPayout } from '../support/payouts';
import { balanceOf, fundWallet, placeOrder, seedProduct, seedSeller } from '../support/checkout';
import { expectLedgerInvariants, type TestDatabase } from '../support/db';
import { heldPaymentProvider } from '../support/held-payment-provider';
import { startTestSystem, stopTestSystem } from '../support/system';
import { eventually, startTestWorker, uniqueId, type TestWorker } from '../support/temporal';

/**
 * The reconciliation actions against running flows, each through the flow's own message: a
 * parked checkout retried (one effect however often the same click is sent, and a second agent's
 * click on a resolved item is refused) or abandoned (cancel and refund), a subscription in dunning charged again, a payout the bank
 * has not answered polled now, an overdue market resolved and another voided; each audited with its reason, each row gone from the list
 * once the flow has moved on, and the ledger holding at the end.
 */
let tdb: TestDatabase;
let worker: TestWorker;
let api: TestApi;

beforeAll(async () => {
  ({ tdb, worker, api } = await startTestSystem());
  await tdb.db.raw(`
    CREATE FUNCTION test_unfixable() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION 'invalid byte sequence for encoding "UTF8": 0x00' USING ERRCODE = '22021';
    END $$`);
}, 120_000);
afterAll(stopTestSystem);

const support = (id = uniqueId('agent_')) => api.token(id, ['support']);
const admin = () => api.token(uniqueId('admin_'), ['admin']);

function act(token: string, kind: string, ref: string, action: string, body: Record<string, unknown>, key = uniqueId('idem-')) {
  return api.request('POST', `/v1/ops/reconciliation/${kind}/${encodeURIComponent(ref)}/${action}`, { token, idempotencyKey: key, body });
}

async function listed(kind: string, ref: string): Promise<boolean> {
  const res = await api.request('GET', `/v1/ops/reconciliation?kind=${kind}&limit=200`, { token: support() });
  expect(res.status).toBe(200);
  return (res.body.items as Array<{ ref: string }>).some((i) => i.ref === ref);
}

/** A bug in waiting: writes to this product fail as bad data does. Returns the fix. */
async function breakProduct(productId: string): Promise<() => Promise<void>> {
  const name = `t_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  await tdb.db.raw(
    `CREATE TRIGGER ${name} BEFORE UPDATE ON products FOR EACH ROW WHEN (NEW.id = '${productId}') EXECUTE FUNCTION test_unfixable()`,
  );
  return async () => {
    await tdb.db.raw(`DROP TRIGGER ${name} ON products`);
  };
}

test('a parked checkout retried: the same click sent twice is one effect and one audit row; a second agent is told it is resolved', async () => {
  const sellerId = await seedSeller(tdb.db, { commissionBps: 1000 });
  const productId = await seedProduct(tdb.db, sellerId, 3_000, 2);
  const buyer = uniqueId('b_');
  await fundWallet(tdb.db, buyer, 3_000);
  const input = await placeOrder(tdb.db, { buyerId: buyer, sellerId, lines: [{ productId, quantity: 1 }], returnWindowMs: 100 });
  const fix = await breakProduct(productId);
  const workflowId = checkoutWorkflowId(input.orderId);
  const h = await worker.client.workflow.start(checkoutWorkflow, { taskQueue: worker.taskQueue, workflowId, args: [input] });
  const step = await eventually(async () => (await h.query(checkoutStateQuery)).stuckStep);
  await eventually(() => listed('checkout_stuck', workflowId));

  // The cause fixed, one agent's click is sent twice (a double submit, a retried request): same key, same answer.
  await fix();
  const first = support('agent_asha');
  const key = uniqueId('idem-');
  const reason = 'Trigger on products removed; retrying';
  const once = await act(first, 'checkout_stuck', workflowId, 'retry', { reason }, key);
  expect([once.status, once.body]).toEqual([
    200,
    expect.objectContaining({ accepted: true, workflowId, result: { message: retryStepSignal.name, step } }),
  ]);
  const again = await act(first, 'checkout_stuck', workflowId, 'retry', { reason }, key);
  expect([again.status, again.body]).toEqual([200, once.body]);

  await eventually(async () => !(await listed('checkout_stuck', workflowId)));
  await eventually(async () => (await h.query(checkoutStateQuery)).confirmed);
  // Another agent clicking the same retry a moment later changes nothing.
  const late = await act(support('agent_ravi'), 'checkout_stuck', workflowId, 'retry', { reason: 'retrying too' });
  expect([late.status, late.body.error.code]).toEqual([409, 'already_resolved']);

  const audit = await tdb.db('audit_log').where({ action: 'reconciliation.retry', target_id: workflowId });
  expect(audit).toEqual([expect.objectContaining({ actor: 'agent_asha', details: expect.objectContaining({ reason, step, workflowId }) })]);
  const alerts = await tdb.db('flow_alerts').where({ workflow_id: workflowId });
  expect(alerts).toEqual([expect.objectContaining({ resolved_at: expect.any(Date) })]);

  await h.signal(markDeliveredSignal, { by: sellerId });
  expect(await h.result()).toMatchObject({ status: 'completed', stuckStep: null });
  expect(await balanceOf(tdb.db, accounts.sellerPayable(sellerId))).toBe(2_700);

  // The customer 360 tells the same story: the order's timeline, and what support did about it.
  const story = await api.request('GET', `/v1/ops/customers?userId=${buyer}`, { token: support() });
  expect(story.status).toBe(200);
  const [order] = story.body.orders;
  expect(order).toMatchObject({ orderId: input.orderId, workflowId, total: 3_000 });
  const types = (order.timeline as Array<{ type: string }>).map((t) => t.type);
  expect(types).toEqual(expect.arrayContaining(['confirmed', 'delivered']));
  expect(types.indexOf('confirmed')).toBeLessThan(types.indexOf('delivered'));
  expect(story.body.audit).toEqual(
    expect.arrayContaining([expect.objectContaining({ actor: 'agent_asha', action: 'reconciliation.retry', targetId: workflowId })]),
  );
  await expectLedgerInvariants(tdb.db);
});

test('a subscription in dunning: retry_charge is the workflow’s payment-method update, the renewal is paid and the row goes', async () => {
  const milk = await seedSubscribableProduct(api, { unitPrice: 2_000, unit: '500 ml' });
  const customer = uniqueId('cust_');
  const today = localDateOf(Date.now(), 'Asia/Kolkata');
  const created = await api.request('POST', '/v1/subscriptions', {
    token: api.token(customer),
    idempotencyKey: uniqueId('idem-'),
    body: {
      productId: milk.productId,
      quantity: 1,
      recurrence: { kind: 'daily' },
      startDate: addDays(today, 3),
      region: 'blr',
      paymentMethod: 'pm_declined',
    },
  });
  expect(created.status).toBe(201);
  const subscriptionId: string = created.body.subscriptionId;
  await eventually(() => listed('subscription_dunning', subscriptionId));

  const wrongMethod = await act(support(), 'subscription_dunning', subscriptionId, 'retry_charge', {
    reason: 'customer gave a new card',
    paymentMethod: 'not-a-token',
  });
  expect(wrongMethod.status).toBe(400);

  const reason = 'Customer called with a new card';
  const res = await act(support('agent_meera'), 'subscription_dunning', subscriptionId, 'retry_charge', { reason, paymentMethod: 'pm_ok' });
  expect([res.status, res.body.result]).toEqual([200, { message: paymentMethodUpdate.name, paymentMethod: 'pm_ok', retried: true }]);
  await eventually(async () => (await tdb.db('subscriptions').where({ id: subscriptionId }).first()).billing_state === 'paid');
  await eventually(async () => !(await listed('subscription_dunning', subscriptionId)));
  const audit = await tdb.db('audit_log').where({ action: 'reconciliation.retry_charge', target_id: subscriptionId });
  expect(audit).toEqual([expect.objectContaining({ actor: 'agent_meera', details: expect.objectContaining({ reason, retried: true }) })]);
  await expectLedgerInvariants(tdb.db);
});

async function overdueMarket(question: string): Promise<string> {
  const now = Date.now();
  const res = await api.request('POST', '/v1/markets', {
    token: admin(),
    idempotencyKey: uniqueId('idem-'),
    body: {
      question,
      opensAt: new Date(now + 500).toISOString(),
      closesAt: new Date(now + 1_500).toISOString(),
      feeBps: 0,
      disputeWindowSeconds: 0,
      resolutionDeadlineSeconds: 1,
    },
  });
  expect(res.status).toBe(201);
  const marketId: string = res.body.marketId;
  await eventually(() => listed('market_unresolved', marketId), 30_000);
  return marketId;
}

test('an overdue market: resolve and void are the market’s own updates (admin only), audited; the rows go once it finishes', async () => {
  const [toResolve, toVoid] = await Promise.all([
    overdueMarket('Will the toss at Eden Gardens be heads?'),
    overdueMarket('Will the match at Wankhede start on time?'),
  ]);

  const refused = await act(support(), 'market_unresolved', toResolve, 'resolve', {
    reason: 'scorecard out',
    outcome: 'YES',
    source: 'BCCI scorecard',
  });
  expect(refused.status).toBe(403);

  const resolved = await act(admin(), 'market_unresolved', toResolve, 'resolve', {
    reason: 'Scorecard published',
    outcome: 'YES',
    source: 'BCCI scorecard',
  });
  expect([resolved.status, resolved.body.result]).toEqual([
    200,
    expect.objectContaining({ message: resolveMarketUpdate.name, outcome: 'YES' }),
  ]);
  const voided = await act(admin(), 'market_unresolved', toVoid, 'void', { reason: 'Match abandoned, rain' });
  expect([voided.status, voided.body.result]).toEqual([200, expect.objectContaining({ message: voidMarketUpdate.name })]);

  await eventually(async () => (await tdb.db('markets').where({ id: toResolve }).first()).status === 'settled', 30_000);
  await eventually(async () => (await tdb.db('markets').where({ id: toVoid }).first()).status === 'voided', 30_000);
  expect(await listed('market_unresolved', toResolve)).toBe(false);
  expect(await listed('market_unresolved', toVoid)).toBe(false);
  expect(await listed('market_settlement_unfinished', toResolve)).toBe(false);
  const audit = await tdb
    .db('audit_log')
    .whereIn('target_id', [toResolve, toVoid])
    .where('action', 'like', 'reconciliation.%')
    .orderBy('action');
  expect(audit.map((a: { action: string; details: { reason: string } }) => [a.action, a.details.reason])).toEqual([
    ['reconciliation.resolve', 'Scorecard published'],
    ['reconciliation.void', 'Match abandoned, rain'],
  ]);
  await expectLedgerInvariants(tdb.db);
});

test('a payout the bank has not answered: poll is the payout’s pollNow signal, it is paid at once instead of at its next poll', async () => {
  // Its next poll of the bank is ten minutes away: only support's poll can settle it within the test.
  const { sellerId, payoutId, h } = await unansweredListedPayout(7_000);
  // The bank has the answer by now (its portal would show it); only the flow has not asked yet.
  await eventually(async () => {
    const { rows } = await tdb.db.raw(`SELECT settles_at <= now() AS settled FROM fake_provider.payouts WHERE idempotency_key = ?`, [
      payoutKeys.provider(payoutId),
    ]);
    return rows[0]?.settled === true;
  });

  const reason = 'Bank portal shows it credited';
  const res = await act(support('agent_kiran'), 'payout_unsettled', payoutId, 'poll', { reason });
  expect([res.status, res.body.result]).toEqual([200, { message: payoutPollNowSignal.name }]);
  await eventually(async () => (await tdb.db('payouts').where({ id: payoutId }).first()).status === 'paid');
  expect(await h.result()).toMatchObject({ status: 'paid', amount: 7_000 });
  expect(await listed('payout_unsettled', payoutId)).toBe(false);
  const audit = await tdb.db('audit_log').where({ action: 'reconciliation.poll', target_id: payoutId });
  expect(audit).toEqual([expect.objectContaining({ actor: 'agent_kiran', details: expect.objectContaining({ reason }) })]);
  expect(await balanceOf(tdb.db, accounts.sellerPayable(sellerId))).toBe(0);
  await expectLedgerInvariants(tdb.db);
});

/** A payout the bank has not answered, listed for a human. */
async function unansweredListedPayout(amount: number) {
  const payout = await unansweredPayout(tdb, worker, amount);
  await eventually(() => listed('payout_unsettled', payout.payoutId));
  return payout;
}

test('a payout marked paid from the bank statement: the markSettled update, finalised once with the UTR, shown to the seller; a second click is told it is resolved', async () => {
  const { sellerId, payoutId, h } = await unansweredListedPayout(6_600);
  const reason = 'HDFC statement of 3 Dec shows the credit';
  const body = { reason, outcome: 'paid', utr: 'HDFCN27120312345' };
  const res = await act(support('agent_rita'), 'payout_unsettled', payoutId, 'mark_settled', body);
  expect([res.status, res.body.result]).toEqual([
    200,
    { message: payoutMarkSettledUpdate.name, outcome: 'paid', status: 'paid', utr: 'HDFCN27120312345' },
  ]);
  expect(await h.result()).toMatchObject({ status: 'paid', utr: 'HDFCN27120312345', markedBy: { by: 'agent_rita', reason } });
  expect(await tdb.db('payouts').where({ id: payoutId }).first()).toMatchObject({ status: 'paid', utr: 'HDFCN27120312345' });
  expect(
    await tdb
      .db('journal')
      .where({ idempotency_key: payoutKeys.finalise(payoutId) })
      .count(),
  ).toEqual([{ count: 1 }]);
  expect(await listed('payout_unsettled', payoutId)).toBe(false);
  const seen = await api.request('GET', `/v1/sellers/${sellerId}/payouts`, { token: api.token(sellerId, ['seller']) });
  expect(seen.body.payouts[0]).toMatchObject({ payoutId, status: 'paid', utr: 'HDFCN27120312345', failureCode: null });

  const again = await act(support('agent_sam'), 'payout_unsettled', payoutId, 'mark_settled', {
    ...body,
    outcome: 'failed',
    utr: undefined,
    failureCode: 'account_closed',
  });
  expect([again.status, again.body.error.code]).toEqual([409, 'already_resolved']);
  const audit = await tdb.db('audit_log').where({ action: 'reconciliation.mark_settled', target_id: payoutId });
  expect(audit).toEqual([
    expect.objectContaining({
      actor: 'agent_rita',
      details: expect.objectContaining({ reason, outcome: 'paid', utr: 'HDFCN27120312345' }),
    }),
  ]);
  expect(await balanceOf(tdb.db, accounts.sellerPayoutInFlight(sellerId))).toBe(0);
  expect(await balanceOf(tdb.db, accounts.sellerPayable(sellerId))).toBe(0);
  await expectLedgerInvariants(tdb.db);
});

test('a payout marked failed from the bank statement: the money is back in the payable, the seller sees the code', async () => {
  const { sellerId, payoutId, h } = await unansweredListedPayout(5_500);
  const res = await act(support('agent_rita'), 'payout_unsettled', payoutId, 'mark_settled', {
    reason: 'Statement shows the credit returned by the beneficiary bank',
    outcome: 'failed',
    failureCode: 'beneficiary_bank_rejected',
  });
  expect([res.status, res.body.result]).toEqual([
    200,
    { message: payoutMarkSettledUpdate.name, outcome: 'failed', status: 'failed', failureCode: 'beneficiary_bank_rejected' },
  ]);
  expect(await h.result()).toMatchObject({ status: 'failed', failureCode: 'beneficiary_bank_rejected' });
  expect(await balanceOf(tdb.db, accounts.sellerPayable(sellerId))).toBe(5_500);
  expect(await balanceOf(tdb.db, accounts.sellerPayoutInFlight(sellerId))).toBe(0);
  const seen = await api.request('GET', `/v1/payouts/${payoutId}`, { token: api.token(sellerId, ['seller']) });
  expect(seen.body).toMatchObject({ status: 'failed', failureCode: 'beneficiary_bank_rejected', utr: null });
  // Still listed (a failed payout stays until the seller is paid again), but no longer markable.
  expect(await listed('payout_unsettled', payoutId)).toBe(true);
  const late = await act(support(), 'payout_unsettled', payoutId, 'mark_settled', {
    reason: 'late click',
    outcome: 'paid',
    utr: 'HDFCN27120399999',
  });
  expect([late.status, late.body.error.code]).toEqual([409, 'flow_not_running']);
  await expectLedgerInvariants(tdb.db);
});

test('a top-up the provider has not confirmed: poll is the top-up’s pollNow signal, it is credited at once instead of at its next poll', async () => {
  // A provider that says `processing` until the test lets it answer, and never sends a webhook.
  const held = heldPaymentProvider(tdb.db);
  const w = await startTestWorker({ db: tdb.db, payments: held.provider });
  try {
    const topupId = uniqueId('tu_');
    const userId = uniqueId('u_');
    await tdb.db('topups').insert({ id: topupId, user_id: userId, amount: 27_000, payment_method: 'pm_timeout', status: 'pending' });
    const h = await w.client.workflow.start(topupWorkflow, {
      taskQueue: w.taskQueue,
      workflowId: topupWorkflowId(topupId),
      args: [{ topupId, userId, amount: 27_000, paymentMethod: 'pm_timeout' }],
    });
    // Two polls in: the next is 8 s away.
    await eventually(async () => held.polls >= 2, 15_000);
    await tdb
      .db('topups')
      .where({ id: topupId })
      .update({ created_at: tdb.db.raw("now() - interval '16 minutes'") });
    await eventually(() => listed('topup_unconfirmed', topupId));
    held.answered = true;
    const asked = Date.now();
    const reason = 'Provider dashboard shows it captured';
    const res = await act(support('agent_dev'), 'topup_unconfirmed', topupId, 'poll', { reason });
    expect([res.status, res.body.result]).toEqual([200, { message: topupPollNowSignal.name }]);
    expect((await h.result()).status).toBe('succeeded');
    expect(Date.now() - asked).toBeLessThan(4_000);
    expect(await balanceOf(tdb.db, accounts.userWallet(userId))).toBe(27_000);
    expect(await listed('topup_unconfirmed', topupId)).toBe(false);
    const audit = await tdb.db('audit_log').where({ action: 'reconciliation.poll', target_id: topupId });
    expect(audit).toEqual([expect.objectContaining({ actor: 'agent_dev', details: expect.objectContaining({ reason }) })]);
  } finally {
    await w.shutdown();
  }
  await expectLedgerInvariants(tdb.db);
}, 40_000);

test('a parked checkout abandoned: cancel and refund, the stock and the buyer’s money come back, the row goes', async () => {
  const sellerId = await seedSeller(tdb.db, { commissionBps: 1000 });
  const productId = await seedProduct(tdb.db, sellerId, 1_800, 4);
  const buyer = uniqueId('b_');
  await fundWallet(tdb.db, buyer, 1_800);
  const input = await placeOrder(tdb.db, { buyerId: buyer, sellerId, lines: [{ productId, quantity: 1 }] });
  const fix = await breakProduct(productId);
  const workflowId = checkoutWorkflowId(input.orderId);
  const h = await worker.client.workflow.start(checkoutWorkflow, { taskQueue: worker.taskQueue, workflowId, args: [input] });
  await eventually(async () => (await h.query(checkoutStateQuery)).stuckStep);
  await eventually(() => listed('checkout_stuck', workflowId));

  const reason = 'Product row is corrupt; refunding the customer';
  const res = await act(support('agent_farah'), 'checkout_stuck', workflowId, 'abandon', { reason });
  expect([res.status, res.body.result]).toEqual([
    200,
    expect.objectContaining({ message: abandonStepSignal.name, meaning: expect.any(String) }),
  ]);
  expect(await h.result()).toMatchObject({ status: 'cancelled' });
  await fix();
  expect(await listed('checkout_stuck', workflowId)).toBe(false);
  expect((await tdb.db('orders').where({ id: input.orderId }).first()).status).toBe('cancelled');
  expect(await balanceOf(tdb.db, accounts.userWallet(buyer))).toBe(1_800);
  expect((await tdb.db('products').where({ id: productId }).first()).stock).toBe(4);
  const audit = await tdb.db('audit_log').where({ action: 'reconciliation.abandon', target_id: workflowId });
  expect(audit).toEqual([expect.objectContaining({ actor: 'agent_farah', details: expect.objectContaining({ reason }) })]);
  await expectLedgerInvariants(tdb.db);
});

test('a void that parks while closing the market out is listed as a settlement not finished (not as a stuck flow); retry finishes it', async () => {
  const created = await api.request('POST', '/v1/markets', {
    token: admin(),
    idempotencyKey: uniqueId('idem-'),
    body: {
      question: 'Will the Durand Cup final go to penalties?',
      opensAt: new Date(Date.now() + 500).toISOString(),
      closesAt: new Date(Date.now() + 3_600_000).toISOString(),
      feeBps: 0,
    },
  });
  expect(created.status).toBe(201);
  const marketId: string = created.body.marketId;
  const workflowId: string = created.body.workflowId;
  await eventually(async () => (await tdb.db('markets').where({ id: marketId }).first()).status === 'open');
  // Bad data where the void records its end: the flow parks on that step.
  const trigger = `t_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  await tdb.db.raw(
    `CREATE TRIGGER ${trigger} BEFORE UPDATE ON markets FOR EACH ROW
     WHEN (NEW.id = '${marketId}' AND NEW.status = 'voided') EXECUTE FUNCTION test_unfixable()`,
  );
  await worker.client.workflow.getHandle(workflowId).executeUpdate(voidMarketUpdate, { args: [{ reason: 'Fixture postponed' }] });

  await eventually(() => listed('market_settlement_unfinished', marketId));
  const page = await api.request('GET', '/v1/ops/reconciliation?limit=200', { token: support() });
  const mine = (page.body.items as Array<{ kind: string; ref: string; reason: string; workflowId: string }>).filter(
    (i) => i.ref === marketId || i.ref === workflowId,
  );
  expect(mine).toEqual([
    expect.objectContaining({
      kind: 'market_settlement_unfinished',
      workflowId,
      reason: expect.stringMatching(/^Void not finished, stuck on step finish: /),
      actions: ['retry'],
    }),
  ]);

  await tdb.db.raw(`DROP TRIGGER ${trigger} ON markets`);
  const reason = 'Bad trigger dropped; finishing the void';
  const res = await act(support('agent_vikram'), 'market_settlement_unfinished', marketId, 'retry', { reason });
  expect([res.status, res.body.result]).toEqual([200, { message: retryStepSignal.name, step: 'finish' }]);
  await eventually(async () => (await tdb.db('markets').where({ id: marketId }).first()).status === 'voided');
  await eventually(async () => !(await listed('market_settlement_unfinished', marketId)));
  const audit = await tdb.db('audit_log').where({ action: 'reconciliation.retry', target_id: marketId });
  expect(audit).toEqual([expect.objectContaining({ actor: 'agent_vikram', details: expect.objectContaining({ reason, step: 'finish' }) })]);
  await expectLedgerInvariants(tdb.db);
});
