import { accounts } from '../../domain/ledger/accounts';
import { maxBuyCost } from '../../domain/market/costs';
import { claimEngine, commitBatch, loadOpenOrders, readPending } from '../../db/market-engine-store';
import { MarketIntakeBatcher, intakePayload, placeMarketOrders, type OrderRequest } from '../../db/market-intake';
import { insertMarket, openMarket } from '../../db/market-lifecycle';
import { MarketMatcher } from '../../domain/market/batch';
import { createTestDatabase, expectLedgerInvariants, type TestDatabase } from '../support/db';
import { fundWallet, wallet } from '../support/markets';
import { uniqueId } from '../support/temporal';

/** Batched order intake (place_market_orders and the API's batcher) straight against Postgres. */

let tdb: TestDatabase;
beforeAll(async () => {
  tdb = await createTestDatabase(20);
});
afterAll(async () => {
  await tdb?.drop();
});
afterEach(async () => {
  await expectLedgerInvariants(tdb.db);
});

const FEE_BPS = 200;

async function newMarket(open = true): Promise<string> {
  const id = `mk_${uniqueId('')
    .replace(/[^a-z0-9]/gi, '')
    .toLowerCase()
    .slice(-20)
    .padStart(10, '0')}`;
  await insertMarket(tdb.db, {
    id,
    question: 'Will it rain tomorrow?',
    opensAt: new Date(Date.now() - 1_000),
    closesAt: new Date(Date.now() + 3_600_000),
    feeBps: FEE_BPS,
    disputeWindowSeconds: 0,
    resolutionDeadlineSeconds: 3600,
    createdBy: 'test',
  });
  if (open) await openMarket(tdb.db, id);
  return id;
}

function buy(marketId: string, userId: string, o: Partial<OrderRequest> = {}): OrderRequest {
  const price = o.price ?? 500;
  const quantity = o.quantity ?? 1;
  return {
    marketId,
    userId,
    clientOrderId: uniqueId('c'),
    side: 'YES',
    action: 'BUY',
    price,
    quantity,
    tif: 'GTC',
    seenPrice: null,
    slippageBps: 500,
    holdAmount: maxBuyCost(price, quantity, FEE_BPS),
    ...o,
  };
}

async function openHolds(userId: string): Promise<number> {
  const [{ sum }] = await tdb
    .db('holds')
    .where({ account_id: accounts.userWallet(userId), status: 'open' })
    .sum('remaining as sum');
  return Number(sum ?? 0);
}

test('concurrent batches for one wallet never overdraw it: exactly what it can afford is accepted', async () => {
  const marketId = await newMarket();
  const user = uniqueId('u');
  const hold = maxBuyCost(500, 1, FEE_BPS);
  const affordable = 37;
  await fundWallet(tdb.db, user, hold * affordable + hold - 1);

  // Several API instances' batchers, each with many requests in flight, all against one wallet.
  const batchers = [
    new MarketIntakeBatcher(tdb.db, { maxBatch: 7 }),
    new MarketIntakeBatcher(tdb.db),
    new MarketIntakeBatcher(tdb.db, { maxInFlight: 4, maxBatch: 3 }),
  ];
  const results = await Promise.all(Array.from({ length: 120 }, (_, i) => batchers[i % batchers.length].place(buy(marketId, user))));

  const accepted = results.filter((r) => r.result === 'accepted');
  expect(accepted).toHaveLength(affordable);
  expect(results.filter((r) => r.result === 'insufficient_funds')).toHaveLength(120 - affordable);
  const w = await wallet(tdb.db, user);
  expect(w.held).toBe(hold * affordable);
  expect(w.held).toBeLessThanOrEqual(w.balance);
  expect(await openHolds(user)).toBe(w.held);
  const rows = await tdb.db('market_orders').where({ market_id: marketId, user_id: user });
  expect(rows).toHaveLength(affordable);
  expect(new Set(rows.map((r: any) => r.pending_seq)).size).toBe(affordable);
});

test('a client order id repeated inside one batch is applied once', async () => {
  const marketId = await newMarket();
  const user = uniqueId('u');
  await fundWallet(tdb.db, user, 1_000_000);
  const first = buy(marketId, user, { price: 450, quantity: 4 });
  const results = await placeMarketOrders(tdb.db, [first, { ...first }, { ...first, quantity: 5 }, { ...first }]);

  expect(results[0]).toMatchObject({ result: 'accepted' });
  const { orderId, seq } = results[0] as { orderId: string; seq: number };
  expect(results[1]).toEqual({ result: 'replayed', orderId, seq });
  expect(results[2]).toEqual({ result: 'client_order_id_reused', orderId });
  expect(results[3]).toEqual({ result: 'replayed', orderId, seq });
  expect(await tdb.db('market_orders').where({ user_id: user, client_order_id: first.clientOrderId })).toHaveLength(1);
  expect((await wallet(tdb.db, user)).held).toBe(maxBuyCost(450, 4, FEE_BPS));

  // And across batches, through the batcher.
  const again = await new MarketIntakeBatcher(tdb.db).place({ ...first });
  expect(again).toEqual({ result: 'replayed', orderId, seq });
  expect((await wallet(tdb.db, user)).held).toBe(maxBuyCost(450, 4, FEE_BPS));
});

test('a client order id is unique per user and market: another market, or another user, may use it', async () => {
  const [m1, m2] = [await newMarket(), await newMarket()];
  const [alice, bob] = [uniqueId('u'), uniqueId('u')];
  await fundWallet(tdb.db, alice, 1_000_000);
  await fundWallet(tdb.db, bob, 1_000_000);
  const clientOrderId = uniqueId('c');
  // All in one batch: the same id in two markets and for two users is four orders; repeated in one
  // market for one user it is decided by what came first in the batch.
  const results = await placeMarketOrders(tdb.db, [
    buy(m1, alice, { clientOrderId }),
    buy(m2, alice, { clientOrderId, side: 'NO' }),
    buy(m1, bob, { clientOrderId, quantity: 3 }),
    buy(m2, alice, { clientOrderId, side: 'NO' }), // the same order again: a replay
    buy(m1, alice, { clientOrderId, quantity: 2 }), // a different order under a used id
  ]);
  expect(results.map((r) => r.result)).toEqual(['accepted', 'accepted', 'accepted', 'replayed', 'client_order_id_reused']);
  const ids = results.map((r) => (r as { orderId: string }).orderId);
  expect(new Set(ids.slice(0, 3)).size).toBe(3);
  expect(ids[3]).toBe(ids[1]);
  expect(ids[4]).toBe(ids[0]); // the clash names the order it clashes with
  const rows = await tdb.db('market_orders').where({ client_order_id: clientOrderId }).orderBy('seq');
  expect(rows.map((r: any) => [r.id, r.market_id, r.user_id])).toEqual([
    [ids[0], m1, alice],
    [ids[1], m2, alice],
    [ids[2], m1, bob],
  ]);
  expect((await wallet(tdb.db, alice)).held).toBe(maxBuyCost(500, 1, FEE_BPS) * 2);

  // Across batches and API instances at once: one order per (user, market, id), the rest replays.
  const again = buy(m2, bob, { clientOrderId: uniqueId('c') });
  const batchers = [new MarketIntakeBatcher(tdb.db), new MarketIntakeBatcher(tdb.db, { maxBatch: 2 })];
  const raced = await Promise.all(Array.from({ length: 12 }, (_, i) => batchers[i % 2].place({ ...again })));
  expect(raced.filter((r) => r.result === 'accepted')).toHaveLength(1);
  expect(raced.filter((r) => r.result === 'replayed')).toHaveLength(11);
  expect(new Set(raced.map((r) => (r as { orderId: string }).orderId)).size).toBe(1);
  expect(await tdb.db('market_orders').where({ client_order_id: again.clientOrderId })).toHaveLength(1);
});

test('the database itself refuses a second order under one (user, market, client order id)', async () => {
  const [m1, m2] = [await newMarket(), await newMarket()];
  const user = uniqueId('u');
  const row = (id: string, marketId: string) => ({
    id,
    market_id: marketId,
    user_id: user,
    client_order_id: 'same',
    side: 'YES',
    action: 'BUY',
    price: 500,
    quantity: 1,
    tif: 'GTC',
    slippage_bps: 500,
    pending_seq: 1,
    remaining: 1,
    engine_pending: false,
  });
  await tdb.db('market_orders').insert([row(`mo_${uniqueId('')}a`, m1), row(`mo_${uniqueId('')}b`, m2)]);
  await expect(tdb.db('market_orders').insert(row(`mo_${uniqueId('')}c`, m1))).rejects.toMatchObject({
    code: '23505',
    constraint: 'market_orders_user_market_client_uq',
  });
});

test('an order that cannot be accepted gets its own answer and does not affect the rest of its batch', async () => {
  const marketId = await newMarket();
  const closedMarket = await newMarket(false);
  const [rich, poor, seller] = [uniqueId('u'), uniqueId('u'), uniqueId('u')];
  await fundWallet(tdb.db, rich, 1_000_000);
  await fundWallet(tdb.db, poor, 100);
  const results = await placeMarketOrders(tdb.db, [
    buy(marketId, rich),
    buy(marketId, poor),
    buy('mk_doesnotexist00', rich),
    buy(closedMarket, rich),
    { ...buy(marketId, seller), action: 'SELL', holdAmount: 0 },
    buy(marketId, uniqueId('nowallet')),
    buy(marketId, rich, { side: 'NO', price: 300, quantity: 2 }),
  ]);
  expect(results.map((r) => r.result)).toEqual([
    'accepted',
    'insufficient_funds',
    'market_not_found',
    'market_not_open',
    'insufficient_position',
    'insufficient_funds',
    'accepted',
  ]);
  expect((await wallet(tdb.db, rich)).held).toBe(maxBuyCost(500, 1, FEE_BPS) + maxBuyCost(300, 2, FEE_BPS));
  expect((await wallet(tdb.db, poor)).held).toBe(0);
  expect(await tdb.db('market_orders').where({ market_id: marketId })).toHaveLength(2);
});

test('orders are decided in arrival order against what is still free: funds, contracts and client order ids', async () => {
  const marketId = await newMarket();
  const [buyer, seller] = [uniqueId('u'), uniqueId('u')];
  const small = maxBuyCost(500, 1, FEE_BPS);
  await fundWallet(tdb.db, buyer, small * 3);
  // Contracts the seller holds (as the engine would have left them after a fill).
  await tdb.db('market_positions').insert({ market_id: marketId, user_id: seller, side: 'YES', quantity: 5, locked: 0 });
  const refusedOnce = buy(marketId, buyer, { quantity: 4 });
  const sell = (quantity: number): OrderRequest => ({ ...buy(marketId, seller, { quantity }), action: 'SELL', holdAmount: 0 });
  const results = await placeMarketOrders(tdb.db, [
    buy(marketId, buyer, { quantity: 2 }),
    refusedOnce, // 4 more do not fit in what is left (1)…
    buy(marketId, buyer, { quantity: 1 }), // …but a later, smaller one does
    buy(marketId, buyer, { quantity: 1, clientOrderId: refusedOnce.clientOrderId }), // nothing left for this one
    sell(3),
    sell(3), // only 2 contracts are left unlocked
    sell(2),
  ]);
  expect(results.map((r) => r.result)).toEqual([
    'accepted',
    'insufficient_funds',
    'accepted',
    'insufficient_funds',
    'accepted',
    'insufficient_position',
    'accepted',
  ]);
  const accepted = results.filter((r): r is Extract<typeof r, { seq: number }> => r.result === 'accepted');
  expect(accepted.map((r) => r.seq)).toEqual([...accepted.map((r) => r.seq)].sort((a, b) => a - b));
  const w = await wallet(tdb.db, buyer);
  expect(w.held).toBe(small * 3);
  expect(await openHolds(buyer)).toBe(w.held);
  expect(await tdb.db('market_positions').where({ market_id: marketId, user_id: seller }).first('quantity', 'locked')).toEqual({
    quantity: 5,
    locked: 5,
  });
  const rows = await tdb.db('market_orders').where({ market_id: marketId }).orderBy('seq');
  expect(rows.map((r: any) => [r.user_id, r.action, r.quantity, r.hold_remaining > 0])).toEqual([
    [buyer, 'BUY', 2, true],
    [buyer, 'BUY', 1, true],
    [seller, 'SELL', 3, false],
    [seller, 'SELL', 2, false],
  ]);

  // A refused client order id can be used again later, once it fits.
  await tdb.db('market_positions').where({ market_id: marketId, user_id: seller }).delete();
  await fundWallet(tdb.db, buyer, small);
  const [later] = await placeMarketOrders(tdb.db, [buy(marketId, buyer, { quantity: 1, clientOrderId: refusedOnce.clientOrderId })]);
  expect(later.result).toBe('accepted');
});

test('when a batch fails as a whole, its orders are retried one by one so only the bad one fails', async () => {
  const marketId = await newMarket();
  const user = uniqueId('u');
  await fundWallet(tdb.db, user, 1_000_000);
  const batcher = new MarketIntakeBatcher(tdb.db);
  // A price the API would have refused: only the table's CHECK stops it, failing its whole batch.
  const placed = await Promise.allSettled([
    batcher.place(buy(marketId, user)),
    batcher.place(buy(marketId, user, { price: 333 })),
    batcher.place(buy(marketId, user, { side: 'NO' })),
  ]);
  expect(placed.map((p) => p.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
  expect(placed.filter((p) => p.status === 'fulfilled').map((p) => (p as PromiseFulfilledResult<any>).value.result)).toEqual([
    'accepted',
    'accepted',
  ]);
  expect((await wallet(tdb.db, user)).held).toBe(2 * maxBuyCost(500, 1, FEE_BPS));
  expect(await openHolds(user)).toBe(2 * maxBuyCost(500, 1, FEE_BPS));
});

test('intake batches and engine commits running together neither deadlock nor lose an order', async () => {
  const marketId = await newMarket();
  const users = Array.from({ length: 12 }, () => uniqueId('u'));
  for (const u of users) await fundWallet(tdb.db, u, 10_000_000);
  const claim = await claimEngine(tdb.db, marketId);
  const matcher = new MarketMatcher(marketId, FEE_BPS);
  matcher.restore(await loadOpenOrders(tdb.db, marketId), claim.lastBookSeq);

  const total = 600;
  let sent = 0;
  const batchers = [new MarketIntakeBatcher(tdb.db, { maxBatch: 25 }), new MarketIntakeBatcher(tdb.db, { maxBatch: 40 })];
  const intake = (async () => {
    while (sent < total) {
      const wave = Array.from({ length: 50 }, (_, k) => {
        const i = sent + k;
        // Crossing prices, so the engine's commits touch the same wallets intake is holding funds in.
        return batchers[i % 2].place(
          buy(marketId, users[i % users.length], { side: i % 2 ? 'NO' : 'YES', price: 450 + 50 * (i % 3), quantity: 1 + (i % 3) }),
        );
      });
      sent += wave.length;
      const results = await Promise.all(wave);
      expect(results.every((r) => r.result === 'accepted')).toBe(true);
    }
  })();
  let processed = 0;
  let intakeDone = false;
  void intake.finally(() => (intakeDone = true));
  let commands = await readPending(tdb.db, marketId, 64);
  while (!intakeDone || processed < total) {
    if (commands.length === 0) {
      await new Promise((r) => setTimeout(r, 5));
      commands = await readPending(tdb.db, marketId, 64);
      continue;
    }
    // The engine's loop: each commit hands back the next queued commands.
    const committed = await commitBatch(tdb.db, marketId, claim.epoch, matcher.process(commands), 64);
    processed += commands.length;
    commands = committed.next;
  }
  await intake;
  expect(processed).toBe(total);
  const [{ count }] = await tdb.db('market_orders').where({ market_id: marketId, engine_pending: true }).count();
  expect(Number(count)).toBe(0);
  // Every wallet's held amount is exactly what its open holds still reserve.
  for (const u of users) expect(await openHolds(u)).toBe((await wallet(tdb.db, u)).held);
  const positions = await tdb
    .db('market_positions')
    .where({ market_id: marketId })
    .groupBy('side')
    .select('side', tdb.db.raw('sum(quantity)::bigint AS q'));
  const q = Object.fromEntries(positions.map((r: any) => [r.side, r.q]));
  expect(q.YES ?? 0).toBe(q.NO ?? 0);
});

test('holding the funds last decides a batch exactly as holding them order by order: answers, holds, positions, no rows left by a refused buy', async () => {
  // The same batch, with its own users and market each time, through place_market_orders (wallets
  // last) and through place_market_orders_in_turn (every wallet locked first, decided one by one).
  const run = async (fn: 'place_market_orders' | 'place_market_orders_in_turn') => {
    const marketId = await newMarket();
    const closedMarket = await newMarket(false);
    const [a, b, seller] = [uniqueId('u'), uniqueId('u'), uniqueId('u')];
    const small = maxBuyCost(500, 1, FEE_BPS);
    await fundWallet(tdb.db, a, small * 3);
    await fundWallet(tdb.db, b, small);
    await tdb.db('market_positions').insert({ market_id: marketId, user_id: seller, side: 'NO', quantity: 4, locked: 0 });
    const sell = (quantity: number): OrderRequest => ({
      ...buy(marketId, seller, { side: 'NO', quantity }),
      action: 'SELL',
      holdAmount: 0,
    });
    const reqs = [
      buy(marketId, a, { quantity: 2 }),
      buy(marketId, b, { quantity: 2 }), // b cannot afford 2…
      buy(marketId, a, { quantity: 4 }), // …nor a 4 more
      sell(3),
      buy(closedMarket, a),
      buy(marketId, b), // …but 1 fits
      buy(marketId, a), // and a's last one
      sell(2), // 1 contract left unlocked
      buy(marketId, a), // nothing left
      buy(marketId, uniqueId('nowallet')),
    ];
    const payload = intakePayload(reqs);
    const { rows } = await tdb.db.raw(`SELECT r_idx, r_order_id, r_seq, r_result FROM ${fn}(?::jsonb) ORDER BY r_idx`, [
      JSON.stringify(payload),
    ]);
    const orders = await tdb.db('market_orders').whereIn('market_id', [marketId, closedMarket]).orderBy('seq');
    const seqs = rows.filter((r: any) => r.r_result === 'accepted').map((r: any) => Number(r.r_seq));
    expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
    expect(orders.map((o: any) => o.id)).toEqual(rows.filter((r: any) => r.r_result === 'accepted').map((r: any) => r.r_order_id));
    const who = (u: string) => (u === a ? 'a' : u === b ? 'b' : 'seller');
    return {
      results: rows.map((r: any) => r.r_result),
      orders: orders.map((o: any) => [who(o.user_id), o.action, o.quantity, Number(o.hold_remaining)]),
      held: [(await wallet(tdb.db, a)).held, (await wallet(tdb.db, b)).held],
      holds: [await openHolds(a), await openHolds(b)],
      allHolds: Number(
        (
          await tdb
            .db('holds')
            .whereIn('account_id', [accounts.userWallet(a), accounts.userWallet(b)])
            .count()
        )[0].count,
      ),
      position: await tdb.db('market_positions').where({ market_id: marketId, user_id: seller }).first('quantity', 'locked'),
    };
  };
  const last = await run('place_market_orders');
  const inTurn = await run('place_market_orders_in_turn');
  expect(last).toEqual(inTurn);
  expect(last.results).toEqual([
    'accepted',
    'insufficient_funds',
    'insufficient_funds',
    'accepted',
    'market_not_open',
    'accepted',
    'accepted',
    'insufficient_position',
    'insufficient_funds',
    'insufficient_funds',
  ]);
  expect(last.allHolds).toBe(3); // one per accepted buy: none left behind by a refused one
  expect(last.held).toEqual(last.holds);
});
