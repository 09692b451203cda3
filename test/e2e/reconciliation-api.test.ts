import { raiseFlowAlert } from '../../db/flow-alerts';
import { userForPhone } from '../../db/identity';
import { insertMarket } from '../../db/market-lifecycle';
import { createPayout } from '../../db/payouts';
import { insertSubscriptionRow } from '../../db/subscriptions';
import { insertTopup } from '../../db/topups';
import { snapshotBalances } from '../../db/ledger-reports';
import { accounts } from '../../domain/ledger/accounts';
import { addDays, localDateOf } from '../../domain/schedule';
import type { TestApi } from '../support/api';
import { fundWallet, placeOrder, seedProduct, seedSeller } from '../support/checkout';
import { expectLedgerInvariants, type TestDatabase } from '../support/db';
import { startTestSystem, stopTestSystem } from '../support/system';
import { uniqueId } from '../support/temporal';
import { answer } from '../support/typed-client';

/**
 * GET /v1/ops/reconciliation with one item of every kind, each written the way its flow writes it,
 * paged by cursor and filtered; the per-kind actions' refusals (wrong action, not staff, not
 * admin, nothing to act on); the ledger re-check end to end; and the customer 360.
 */
let tdb: TestDatabase;
let api: TestApi;
beforeAll(async () => ({ tdb, api } = await startTestSystem()));
afterAll(stopTestSystem);

const hoursAgo = (h: number) => new Date(Date.now() - h * 3_600_000);
const key = () => uniqueId('idem-');

interface Seeded {
  refs: Record<string, string>;
  buyer: string;
  subscriptionId: string;
}

async function seedEveryKind(): Promise<Seeded> {
  const sellerId = await seedSeller(tdb.db);
  const productId = await seedProduct(tdb.db, sellerId, 4_200, 5);
  const buyer = uniqueId('buyer_');
  const order = await placeOrder(tdb.db, { buyerId: buyer, sellerId, lines: [{ productId, quantity: 1 }] });
  const checkout = `checkout-${order.orderId}`;
  await raiseFlowAlert(tdb.db, { workflowId: checkout, flowType: 'checkout', step: 'reserve', reason: 'bad byte', code: '22021' });
  const topupFlow = `topup-${uniqueId('tu_')}`;
  await raiseFlowAlert(tdb.db, { workflowId: topupFlow, flowType: 'topup', step: 'credit', reason: 'bad byte', code: '22021' });

  const payoutSeller = await seedSeller(tdb.db);
  const { payout } = await createPayout(tdb.db, { sellerId: payoutSeller, bankAccountRef: 'ok:HDFC0001', requestedBy: 'ops' });
  await tdb.db('payouts').where({ id: payout.id }).update({ status: 'in_flight', amount: 9_900, provider_state: 'unknown' });

  const subscriptionId = uniqueId('sub_');
  await insertSubscriptionRow(tdb.db, {
    id: subscriptionId,
    customerId: buyer,
    productId: 'milk-500ml',
    quantity: 1,
    pricePerPeriod: 90_000,
    recurrence: { kind: 'daily' },
    startDate: '2027-01-02',
    endDate: null,
    timezone: 'Asia/Kolkata',
    region: 'blr',
    paymentMethod: 'pm_declined',
  });
  await tdb.db('subscriptions').where({ id: subscriptionId }).update({ billing_state: 'payment_failed', billing_reason: 'card_declined' });

  const market = (id: string) => ({
    id,
    question: 'Will it rain at the Chinnaswamy?',
    opensAt: hoursAgo(5),
    closesAt: hoursAgo(3),
    feeBps: 200,
    disputeWindowSeconds: 0,
    resolutionDeadlineSeconds: 60,
    createdBy: 'ops',
  });
  const overdue = uniqueId('mk_');
  await insertMarket(tdb.db, market(overdue));
  await tdb
    .db('markets')
    .where({ id: overdue })
    .update({ status: 'closed', closed_at: hoursAgo(3) });
  const unsettled = uniqueId('mk_');
  await insertMarket(tdb.db, market(unsettled));
  await tdb
    .db('markets')
    .where({ id: unsettled })
    .update({ status: 'resolved', outcome: 'YES', closed_at: hoursAgo(3), resolved_at: hoursAgo(2) });

  const topupId = uniqueId('tu_');
  await insertTopup(tdb.db, { id: topupId, userId: buyer, amount: 50_000, paymentMethod: 'pm_timeout' });
  await tdb
    .db('topups')
    .where({ id: topupId })
    .update({ status: 'awaiting_confirmation', created_at: hoursAgo(1) });

  // Drift: a stored balance no longer what its journal lines say; found by a re-check.
  const drifting = uniqueId('drift_');
  await fundWallet(tdb.db, drifting, 1_000);
  await tdb
    .db('account_balances')
    .where({ account_id: accounts.userWallet(drifting) })
    .increment('balance', 250);

  return {
    buyer,
    subscriptionId,
    refs: {
      checkout_stuck: checkout,
      flow_stuck: topupFlow,
      payout_unsettled: payout.id,
      subscription_dunning: subscriptionId,
      market_unresolved: overdue,
      market_settlement_unfinished: unsettled,
      topup_unconfirmed: topupId,
      ledger_drift: accounts.userWallet(drifting),
    },
  };
}

let seeded: Seeded;
beforeAll(async () => {
  seeded = await seedEveryKind();
});

const support = () => api.client(api.token(uniqueId('agent_'), ['support']));
const admin = () => api.client(api.token(uniqueId('admin_'), ['admin']));

async function everything(client = support(), limit = 3) {
  const items: Array<Record<string, any>> = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const res = await answer(client.GET('/v1/ops/reconciliation', { params: { query: { limit, ...(cursor ? { cursor } : {}) } } }));
    expect(res.status).toBe(200);
    items.push(...res.body.items);
    cursor = res.body.nextCursor ?? undefined;
    pages++;
  } while (cursor);
  return { items, pages };
}

test('the ledger re-check finds the drift; every kind is listed with its reason, amount and action, paged by cursor', async () => {
  const recheck = await answer(
    support().POST('/v1/ops/reconciliation/{kind}/{ref}/{action}', {
      params: { path: { kind: 'ledger_drift', ref: 'all', action: 'recheck' }, header: { 'Idempotency-Key': key() } },
      body: { reason: 'nightly job reported drift' },
    }),
  );
  expect([recheck.status, recheck.body]).toEqual([
    200,
    expect.objectContaining({ kind: 'ledger_drift', action: 'recheck', accepted: true, result: { open: 1, resolved: 0 } }),
  ]);

  const { items, pages } = await everything();
  expect(pages).toBe(3);
  const byKind = Object.fromEntries(items.map((i) => [i.kind, i]));
  expect(Object.keys(byKind).sort()).toEqual(Object.keys(seeded.refs).sort());
  for (const [kind, ref] of Object.entries(seeded.refs)) {
    if (kind !== 'ledger_drift') expect([kind, byKind[kind].ref]).toEqual([kind, ref]);
  }
  expect(byKind.ledger_drift).toMatchObject({
    amount: 250,
    actions: ['recheck'],
    details: { account: seeded.refs.ledger_drift, stored: 1_250, derived: 1_000 },
  });
  expect(byKind.checkout_stuck).toMatchObject({
    workflowId: seeded.refs.checkout_stuck,
    amount: 4_200,
    customerId: seeded.buyer,
    reason: 'Stuck on step reserve: bad byte',
    actions: ['retry', 'abandon'],
    temporalUrl: null, // TEMPORAL_UI_URL is not set in tests
  });
  expect(byKind.payout_unsettled).toMatchObject({ amount: 9_900, reason: 'Bank outcome unknown', actions: ['poll', 'mark_settled'] });
  expect(byKind.subscription_dunning).toMatchObject({ amount: 90_000, customerId: seeded.buyer, actions: ['retry_charge'] });
  expect(byKind.market_unresolved).toMatchObject({ actions: ['resolve', 'void'], ageSeconds: expect.any(Number) });
  expect(byKind.market_unresolved.ageSeconds).toBeGreaterThan(3 * 3600 - 60);
  expect(byKind.topup_unconfirmed).toMatchObject({ amount: 50_000, workflowId: `topup-${seeded.refs.topup_unconfirmed}` });
  // Oldest first.
  const since = items.map((i) => Date.parse(i.since));
  expect(since).toEqual([...since].sort((a, b) => a - b));
});

test('counts per kind cover every kind whatever the kind filter; age and amount filters narrow both', async () => {
  const client = support();
  const all = await answer(client.GET('/v1/ops/reconciliation', { params: { query: { kind: 'payout_unsettled' } } }));
  expect(all.body.items.map((i: { kind: string }) => i.kind)).toEqual(['payout_unsettled']);
  expect(all.body.counts).toEqual({
    ledger_drift: 1,
    checkout_stuck: 1,
    flow_stuck: 1,
    payout_unsettled: 1,
    subscription_dunning: 1,
    market_unresolved: 1,
    market_settlement_unfinished: 1,
    topup_unconfirmed: 1,
  });
  expect(all.body.total).toBe(8);
  const old = await answer(client.GET('/v1/ops/reconciliation', { params: { query: { olderThan: '90m' } } }));
  expect(old.body.items.map((i: { kind: string }) => i.kind).sort()).toEqual(['market_settlement_unfinished', 'market_unresolved']);
  const big = await answer(client.GET('/v1/ops/reconciliation', { params: { query: { minAmount: 40_000 } } }));
  expect(big.body.items.map((i: { kind: string }) => i.kind).sort()).toEqual(['subscription_dunning', 'topup_unconfirmed']);
  expect(big.body.total).toBe(2);

  for (const query of [
    { olderThan: '5 minutes' },
    { minAmount: '-1' },
    { limit: '0' },
    { cursor: 'bm90LW91cnM' },
    { kind: 'everything' },
  ] as Array<Record<string, string>>) {
    const res = await api.request('GET', `/v1/ops/reconciliation?${new URLSearchParams(query)}`, {
      token: api.token('agent', ['support']),
    });
    expect([query, res.status]).toEqual([query, 400]);
  }
});

test('staff only; each kind takes its own actions; a market needs an admin; an action with nothing to act on is a 409', async () => {
  const customer = api.client(api.token(seeded.buyer));
  expect((await answer(customer.GET('/v1/ops/reconciliation'))).status).toBe(403);
  expect((await answer(customer.GET('/v1/ops/customers', { params: { query: { userId: seeded.buyer } } }))).status).toBe(403);
  const act = (
    client: ReturnType<typeof support>,
    kind: any,
    ref: string,
    action: any,
    body: Record<string, unknown> = { reason: 'checked' },
  ) =>
    answer(
      client.POST('/v1/ops/reconciliation/{kind}/{ref}/{action}', {
        params: { path: { kind, ref, action }, header: { 'Idempotency-Key': key() } },
        body: body as { reason: string },
      }),
    );
  expect((await act(customer, 'payout_unsettled', seeded.refs.payout_unsettled, 'poll')).status).toBe(403);

  const wrong = await act(support(), 'payout_unsettled', seeded.refs.payout_unsettled, 'resolve');
  expect([wrong.status, wrong.body.error.code]).toEqual([400, 'unknown_action']);
  const noReason = await act(support(), 'payout_unsettled', seeded.refs.payout_unsettled, 'poll', {});
  expect(noReason.status).toBe(400);
  const noKey = await api.request('POST', `/v1/ops/reconciliation/payout_unsettled/${seeded.refs.payout_unsettled}/poll`, {
    token: api.token('agent', ['support']),
    body: { reason: 'checked' },
  });
  expect(noKey.status).toBe(400);

  // Marking from the statement needs what the statement shows for its outcome; a bad mark writes nothing.
  const ref = seeded.refs.payout_unsettled;
  for (const bad of [
    { reason: 'statement read', outcome: 'paid' },
    { reason: 'statement read', outcome: 'failed', utr: 'HDFCN27120312345' },
    { reason: 'statement read', outcome: 'YES', utr: 'HDFCN27120312345' },
    { reason: 'statement read', outcome: 'paid', utr: 'not a utr!' },
    { reason: 'statement read', outcome: 'failed', failureCode: 'Account Closed' },
  ]) {
    const res = await act(support(), 'payout_unsettled', ref, 'mark_settled', bad);
    expect([JSON.stringify(bad), res.status, res.body.error.code]).toEqual([JSON.stringify(bad), 400, 'validation_failed']);
  }
  expect(await tdb.db('audit_log').where({ action: 'reconciliation.mark_settled', target_id: ref })).toEqual([]);
  const marked = await act(support(), 'payout_unsettled', ref, 'mark_settled', {
    reason: 'statement read',
    outcome: 'paid',
    utr: 'HDFCN27120312345',
  });
  expect([marked.status, marked.body.error.code]).toEqual([409, 'flow_not_running']);
  const topupPoll = await act(support(), 'topup_unconfirmed', seeded.refs.topup_unconfirmed, 'poll');
  expect([topupPoll.status, topupPoll.body.error.code]).toEqual([409, 'flow_not_running']);

  // These rows were written without their workflows: the API says so rather than failing.
  const poll = await act(support(), 'payout_unsettled', seeded.refs.payout_unsettled, 'poll');
  expect([poll.status, poll.body.error.code]).toEqual([409, 'flow_not_running']);
  const retry = await act(support(), 'checkout_stuck', seeded.refs.checkout_stuck, 'retry');
  expect([retry.status, retry.body.error.code]).toEqual([404, 'not_found']);
  const gone = await act(support(), 'topup_unconfirmed', uniqueId('tu_'), 'retry');
  expect([gone.status, gone.body.error.code]).toEqual([409, 'already_resolved']);

  const notAdmin = await act(support(), 'market_unresolved', seeded.refs.market_unresolved, 'resolve', {
    reason: 'scorecard published',
    outcome: 'YES',
    source: 'ESPNcricinfo scorecard',
  });
  expect(notAdmin.status).toBe(403);
  const noOutcome = await act(admin(), 'market_unresolved', seeded.refs.market_unresolved, 'resolve', { reason: 'scorecard published' });
  expect([noOutcome.status, noOutcome.body.error.code]).toEqual([400, 'validation_failed']);
  const payoutOutcome = await act(admin(), 'market_unresolved', seeded.refs.market_unresolved, 'resolve', {
    reason: 'scorecard published',
    outcome: 'paid',
    source: 'ESPNcricinfo scorecard',
  });
  expect([payoutOutcome.status, payoutOutcome.body.error.code]).toEqual([400, 'validation_failed']);
  // None of the refused actions was written to the audit log.
  const audited = await tdb.db('audit_log').where('action', 'like', 'reconciliation.%').whereNot({ action: 'reconciliation.recheck' });
  expect(audited).toEqual([]);
});

test('customer 360 by user id and by phone: wallet, subscriptions with next deliveries, orders, audit; an unknown phone is a 404', async () => {
  await fundWallet(tdb.db, seeded.buyer, 12_345);
  const client = support();
  const res = await answer(client.GET('/v1/ops/customers', { params: { query: { userId: seeded.buyer } } }));
  expect(res.status).toBe(200);
  expect(res.body).toMatchObject({
    userId: seeded.buyer,
    user: null,
    wallet: { balance: 12_345, held: 0, available: 12_345, balanceOn: null },
    subscriptions: [{ subscriptionId: seeded.subscriptionId, billingState: 'payment_failed', pricePerPeriod: 90_000 }],
    orders: [{ status: expect.any(String), total: 4_200 }],
  });
  expect(res.body.wallet.entries).toEqual([expect.objectContaining({ amount: 12_345, reason: 'topup' })]);
  const next = res.body.subscriptions[0].nextDeliveries;
  expect(next).toHaveLength(4);
  expect(next.every((d: { deliver: boolean }) => d.deliver)).toBe(true);

  const again = await answer(client.GET('/v1/ops/customers', { params: { query: { userId: seeded.buyer, balanceOn: '2027-01-01' } } }));
  expect(again.body.wallet.balanceOn).toEqual({ date: '2027-01-01', balance: null, source: null });
  // A past date without a nightly snapshot is summed from the journal up to the end of that day.
  const today = localDateOf(Date.now(), 'Asia/Kolkata');
  for (const [date, balance] of [
    [addDays(today, -1), 0],
    [today, 12_345],
  ] as const) {
    const on = await answer(client.GET('/v1/ops/customers', { params: { query: { userId: seeded.buyer, balanceOn: date } } }));
    expect(on.body.wallet.balanceOn).toEqual({ date, balance, source: 'journal' });
  }
  // The nightly snapshot of a date wins over the journal (here one that says otherwise, to tell them apart).
  await snapshotBalances(tdb.db, addDays(today, -1));
  await tdb
    .db('balance_snapshots')
    .insert({ account_id: accounts.userWallet(seeded.buyer), as_of: addDays(today, -1), balance: 777 })
    .onConflict(['account_id', 'as_of'])
    .merge();
  const snap = await answer(
    client.GET('/v1/ops/customers', { params: { query: { userId: seeded.buyer, balanceOn: addDays(today, -1) } } }),
  );
  expect(snap.body.wallet.balanceOn).toEqual({ date: addDays(today, -1), balance: 777, source: 'snapshot' });
  expect(again.body.audit).toEqual([expect.objectContaining({ action: 'customer.view', targetId: seeded.buyer, roles: ['support'] })]);

  // By phone: the user who holds the number now (E.164, or national for the default country).
  const phone = `+9197${String(Math.floor(Math.random() * 1e8)).padStart(8, '0')}`;
  const { user } = await tdb.db.transaction((trx) => userForPhone(trx, phone));
  for (const asTyped of [phone, phone.slice(3)]) {
    const byPhone = await answer(client.GET('/v1/ops/customers', { params: { query: { phone: asTyped } } }));
    expect([asTyped, byPhone.status, byPhone.body.userId, byPhone.body.user?.phone]).toEqual([asTyped, 200, user.id, phone]);
  }
  const unknown = await answer(client.GET('/v1/ops/customers', { params: { query: { phone: '+919000000001' } } }));
  expect([unknown.status, unknown.body.error.code]).toEqual([404, 'not_found']);
  const neither = await api.request('GET', '/v1/ops/customers', { token: api.token('agent', ['support']) });
  expect(neither.status).toBe(400);
  const both = await api.request('GET', `/v1/ops/customers?userId=${seeded.buyer}&phone=%2B919000000001`, {
    token: api.token('agent', ['support']),
  });
  expect(both.status).toBe(400);
});

test('customer 360: market positions with their P&L, auction bids and wins, and staff actions on the customer’s things', async () => {
  const trader = uniqueId('trader_');
  const marketId = uniqueId('mk_');
  await insertMarket(tdb.db, {
    id: marketId,
    question: 'Will Mumbai City top the table?',
    opensAt: hoursAgo(5),
    closesAt: hoursAgo(3),
    feeBps: 200,
    disputeWindowSeconds: 3600,
    resolutionDeadlineSeconds: 60,
    createdBy: 'ops',
  });
  await tdb
    .db('markets')
    .where({ id: marketId })
    .update({ status: 'resolved', outcome: 'YES', closed_at: hoursAgo(3), resolved_at: hoursAgo(1) });
  await tdb.db('market_positions').insert([
    { market_id: marketId, user_id: trader, side: 'YES', quantity: 10, cost: 4_100 },
    { market_id: marketId, user_id: trader, side: 'NO', quantity: 2, cost: 900 },
  ]);

  const sellerId = await seedSeller(tdb.db);
  const productId = await seedProduct(tdb.db, sellerId, 10_000, 2);
  const lot = (id: string, status: string, winner: string | null) => ({
    id,
    seller_id: sellerId,
    product_id: productId,
    title: `Alphonso mangoes, box ${id.slice(-4)}`,
    starting_price: 10_000,
    duration_ms: 60_000,
    soft_close_ms: 10_000,
    increments: JSON.stringify([{ from: 0, step: 500 }]),
    status,
    winner_id: winner,
    sold_price: winner ? 12_000 : null,
    closed_at: hoursAgo(2),
  });
  const won = `lot_${uniqueId('w')
    .replace(/[^a-z0-9]/g, '')
    .slice(-12)}`;
  const lost = `lot_${uniqueId('l')
    .replace(/[^a-z0-9]/g, '')
    .slice(-12)}`;
  await tdb.db('auction_lots').insert([lot(won, 'sold', trader), lot(lost, 'sold', 'someone_else')]);
  const bid = (lotId: string, seq: number, amount: number) => ({
    lot_id: lotId,
    bidder_id: trader,
    client_bid_id: uniqueId('cb-'),
    amount,
    max_amount: amount,
    seq,
    price_after: amount,
    leader_after: trader,
    ends_at_after: hoursAgo(2),
  });
  await tdb.db('auction_bids').insert([bid(won, 1, 12_000), bid(lost, 1, 11_000)]);
  await tdb.db('audit_log').insert({
    actor: 'agent_old',
    roles: ['support'],
    action: 'reconciliation.retry',
    target_type: 'checkout_stuck',
    target_id: trader,
    details: JSON.stringify({ reason: 'earlier fix' }),
  });

  const res = await answer(support().GET('/v1/ops/customers', { params: { query: { userId: trader } } }));
  expect(res.status).toBe(200);
  // Resolved YES: the YES contracts are worth the payout each, the NO ones nothing.
  expect(res.body.positions).toEqual([
    expect.objectContaining({ marketId, status: 'resolved', cost: 5_000, value: 10 * 1_000, pnl: 10 * 1_000 - 5_000 }),
  ]);
  expect(res.body.positions[0].positions).toEqual([
    expect.objectContaining({ side: 'NO', quantity: 2, markPrice: 0 }),
    expect.objectContaining({ side: 'YES', quantity: 10, markPrice: 1_000 }),
  ]);
  expect(res.body.auctions.wins).toEqual([expect.objectContaining({ lotId: won, price: 12_000 })]);
  expect(res.body.auctions.bids.map((b: { lotId: string; amount: number }) => [b.lotId, b.amount]).sort()).toEqual(
    [
      [won, 12_000],
      [lost, 11_000],
    ].sort(),
  );
  expect(res.body.audit).toEqual([
    expect.objectContaining({ actor: 'agent_old', action: 'reconciliation.retry', details: { reason: 'earlier fix' } }),
  ]);
});

test('the drift finding closes once the balance is put back and re-checked; the ledger holds', async () => {
  await tdb.db('account_balances').where({ account_id: seeded.refs.ledger_drift }).decrement('balance', 250);
  const recheck = await answer(
    support().POST('/v1/ops/reconciliation/{kind}/{ref}/{action}', {
      params: { path: { kind: 'ledger_drift', ref: 'all', action: 'recheck' }, header: { 'Idempotency-Key': key() } },
      body: { reason: 'balance restored' },
    }),
  );
  expect(recheck.body.result).toEqual({ open: 0, resolved: 1 });
  await expectLedgerInvariants(tdb.db);
});
