import { accounts } from '../../domain/ledger/accounts';
import { transfer } from '../../domain/ledger/journal';
import { maxBuyCost } from '../../domain/market/costs';
import { MarketMatcher, type BatchResult, type PendingCommand } from '../../domain/market/batch';
import { InsufficientFundsError } from '../../db/errors';
import { MarketEngineStore, StaleEngineError, claimEngine, loadOpenOrders, readPending } from '../../db/market-engine-store';
import { placeMarketOrders, type OrderRequest } from '../../db/market-intake';
import { insertMarket, openMarket } from '../../db/market-lifecycle';
import { createTestDatabase, expectLedgerInvariants, type TestDatabase } from '../support/db';
import { escrow, expectEscrowMatchesPairs, fundWallet, wallet } from '../support/markets';
import { uniqueId } from '../support/temporal';

/**
 * The engines' group commit (MarketEngineStore, commit_market_batches) straight against Postgres:
 * many markets' batches in one statement, each keeping its own guarantees.
 */

let tdb: TestDatabase;
beforeAll(async () => {
  tdb = await createTestDatabase(10);
});
afterAll(async () => {
  await tdb?.drop();
});
afterEach(async () => {
  await expectLedgerInvariants(tdb.db);
});

const FEE_BPS = 200;
const FUNDS = 5_000_000;

async function newMarket(): Promise<string> {
  const id = `mk_${uniqueId('')
    .replace(/[^a-z0-9]/gi, '')
    .toLowerCase()
    .slice(-20)
    .padStart(10, '0')}`;
  await insertMarket(tdb.db, {
    id,
    question: 'Will the next ball be a six?',
    opensAt: new Date(Date.now() - 1_000),
    closesAt: new Date(Date.now() + 3_600_000),
    feeBps: FEE_BPS,
    disputeWindowSeconds: 0,
    resolutionDeadlineSeconds: 3600,
    createdBy: 'test',
  });
  await openMarket(tdb.db, id);
  return id;
}

function buy(marketId: string, userId: string, i: number): OrderRequest {
  const price = 400 + 50 * (i % 5);
  const quantity = 1 + (i % 4);
  return {
    marketId,
    userId,
    clientOrderId: uniqueId('c'),
    side: i % 2 === 0 ? 'YES' : 'NO',
    action: 'BUY',
    price,
    quantity,
    tif: i % 7 === 0 ? 'IOC' : 'GTC',
    seenPrice: null,
    slippageBps: 500,
    holdAmount: maxBuyCost(price, quantity, FEE_BPS),
  };
}

async function users(n: number): Promise<string[]> {
  const ids = Array.from({ length: n }, () => uniqueId('u'));
  for (const u of ids) await fundWallet(tdb.db, u, FUNDS);
  return ids;
}

interface Engine {
  marketId: string;
  epoch: number;
  matcher: MarketMatcher;
}

async function startEngine(marketId: string): Promise<Engine> {
  const claim = await claimEngine(tdb.db, marketId);
  const matcher = new MarketMatcher(marketId, claim.feeBps);
  matcher.restore(await loadOpenOrders(tdb.db, marketId), claim.lastBookSeq);
  return { marketId, epoch: claim.epoch, matcher };
}

const openHolds = async (userId: string) =>
  Number(
    (
      await tdb
        .db('holds')
        .where({ account_id: accounts.userWallet(userId), status: 'open' })
        .sum({ s: 'remaining' })
    )[0].s ?? 0,
  );

test('many markets commit together in few statements, each exactly as its own engine would', async () => {
  const markets = await Promise.all(Array.from({ length: 8 }, () => newMarket()));
  const traders = await users(10);
  const engines = await Promise.all(markets.map(startEngine));
  const store = new MarketEngineStore(tdb.db);

  // Waves of crossing orders on every market at once (the same wallets in all of them), each wave
  // read and committed by all engines together.
  let i = 0;
  for (let wave = 0; wave < 6; wave++) {
    const reqs = markets.flatMap((m) => Array.from({ length: 12 }, () => buy(m, traders[i % traders.length], i++)));
    expect((await placeMarketOrders(tdb.db, reqs)).every((r) => r.result === 'accepted')).toBe(true);
    await Promise.all(
      engines.map(async (e) => {
        let commands = await store.readPending(e.marketId, 5);
        while (commands.length > 0) commands = (await store.commit(e.marketId, e.epoch, e.matcher.process(commands), 5)).next;
      }),
    );
  }
  expect(store.stats.groupFallbacks).toBe(0);
  expect(store.stats.commitBatches).toBeGreaterThanOrEqual(6 * 8 * 3);
  // Grouped: several markets' batches per statement, and the reads of engines woken together too.
  expect(store.stats.commitBatches / store.stats.commitStatements).toBeGreaterThan(4);
  expect(store.stats.reads / store.stats.readStatements).toBeGreaterThan(4);

  for (const e of engines) {
    const engineRow = await tdb.db('market_engines').where({ market_id: e.marketId }).first();
    expect(engineRow.processed).toBe(6 * 12);
    expect(engineRow.epoch).toBe(e.epoch);
    expect(await readPending(tdb.db, e.marketId, 100)).toEqual([]);
    // The fills are those a single engine replaying the market's orders in book order makes.
    const orders = await tdb.db('market_orders').where({ market_id: e.marketId }).orderBy('book_seq');
    const replay = new MarketMatcher(e.marketId, FEE_BPS);
    const replayed = replay.process(
      orders.map((o: any): PendingCommand => ({
        orderId: o.id,
        userId: o.user_id,
        side: o.side,
        action: o.action,
        price: o.price,
        quantity: o.quantity,
        tif: o.tif,
        seenPrice: o.seen_price,
        slippageBps: o.slippage_bps,
        pendingSeq: o.seq,
        status: 'accepted',
        cancelRequested: false,
        holdId: o.hold_id,
        holdRemaining: Number(o.hold_remaining) + Number(o.filled_cost) + Number(o.fees),
      })),
    );
    const fills = await tdb.db('market_fills').where({ market_id: e.marketId }).orderBy(['book_seq', 'idx']);
    expect(fills.length).toBeGreaterThan(0);
    expect(fills.map((f: any) => [f.taker_order_id, f.maker_order_id, f.yes_price, f.quantity])).toEqual(
      replayed.fills.map((f) => [f.fill.takerOrderId, f.fill.makerOrderId, f.fill.yesPrice, f.fill.quantity]),
    );
    await expectEscrowMatchesPairs(tdb.db, e.marketId);
  }
  // Every wallet's held amount is exactly what its open holds still reserve.
  for (const u of traders) expect(await openHolds(u)).toBe((await wallet(tdb.db, u)).held);
});

test('a stale engine in a group fails alone and writes nothing; the other markets commit in the same statement', async () => {
  const markets = await Promise.all(Array.from({ length: 3 }, () => newMarket()));
  const traders = await users(4);
  const engines = await Promise.all(markets.map(startEngine));
  let i = 0;
  const reqs = markets.flatMap((m) => Array.from({ length: 6 }, () => buy(m, traders[i % traders.length], i++)));
  expect((await placeMarketOrders(tdb.db, reqs)).every((r) => r.result === 'accepted')).toBe(true);
  const batches = await Promise.all(engines.map(async (e) => e.matcher.process(await readPending(tdb.db, e.marketId, 100))));
  // Another instance takes over the second market (bumping its epoch) before the group commits.
  const takeover = await claimEngine(tdb.db, markets[1]);
  expect(takeover.epoch).toBe(engines[1].epoch + 1);

  const store = new MarketEngineStore(tdb.db);
  const results = await Promise.allSettled(engines.map((e, k) => store.commit(e.marketId, e.epoch, batches[k], 10)));
  expect(store.stats).toMatchObject({ commitStatements: 1, commitBatches: 3, groupFallbacks: 0 });
  expect(results[0].status).toBe('fulfilled');
  expect(results[2].status).toBe('fulfilled');
  expect(results[1]).toMatchObject({ status: 'rejected', reason: expect.any(StaleEngineError) });

  const engineOf = (m: string) => tdb.db('market_engines').where({ market_id: m }).first();
  expect((await engineOf(markets[0])).processed).toBe(6);
  expect((await engineOf(markets[2])).processed).toBe(6);
  // The stale batch wrote nothing: its orders are still queued, no fill, no escrow.
  expect(await engineOf(markets[1])).toMatchObject({ processed: 0, epoch: takeover.epoch, version: takeover.version });
  expect(await readPending(tdb.db, markets[1], 100)).toHaveLength(6);
  expect(await tdb.db('market_fills').where({ market_id: markets[1] })).toEqual([]);
  expect(await escrow(tdb.db, markets[1])).toBe(0);
  expect(await escrow(tdb.db, markets[0])).toBeGreaterThan(0);
});

test('a batch that would overdraw a wallet fails alone (the group is committed again batch by batch); the others commit', async () => {
  const markets = await Promise.all(Array.from({ length: 3 }, () => newMarket()));
  const traders = await users(4);
  const engines = await Promise.all(markets.map(startEngine));
  let i = 0;
  const reqs = markets.flatMap((m) => Array.from({ length: 6 }, () => buy(m, traders[i % traders.length], i++)));
  expect((await placeMarketOrders(tdb.db, reqs)).every((r) => r.result === 'accepted')).toBe(true);
  const batches = await Promise.all(engines.map(async (e) => e.matcher.process(await readPending(tdb.db, e.marketId, 100))));
  // The middle market's batch also moves more than a wallet holds into its escrow.
  const broke = uniqueId('broke');
  await fundWallet(tdb.db, broke, 1_000);
  const overdraw: BatchResult = {
    ...batches[1],
    journals: [
      ...batches[1].journals,
      {
        idempotencyKey: `test-${broke}:overdraw`,
        reason: 'test',
        lines: transfer(accounts.userWallet(broke), accounts.marketEscrow(markets[1]), 5_000),
      },
    ],
  };

  const store = new MarketEngineStore(tdb.db);
  const results = await Promise.allSettled([
    store.commit(markets[0], engines[0].epoch, batches[0], 10),
    store.commit(markets[1], engines[1].epoch, overdraw, 10),
    store.commit(markets[2], engines[2].epoch, batches[2], 10),
  ]);
  expect(store.stats.groupFallbacks).toBe(1);
  expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
  expect((results[1] as PromiseRejectedResult).reason).toBeInstanceOf(InsufficientFundsError);
  expect(await wallet(tdb.db, broke)).toMatchObject({ balance: 1_000, held: 0 });
  expect((await tdb.db('market_engines').where({ market_id: markets[1] }).first()).processed).toBe(0);
  expect(await readPending(tdb.db, markets[1], 100)).toHaveLength(6);
  for (const k of [0, 2]) {
    expect((await tdb.db('market_engines').where({ market_id: markets[k] }).first()).processed).toBe(6);
    expect(await readPending(tdb.db, markets[k], 100)).toEqual([]);
  }
  for (const u of traders) expect(await openHolds(u)).toBe((await wallet(tdb.db, u)).held);
});
