import { randomUUID } from 'node:crypto';
import { accounts } from '../../domain/ledger/accounts';
import { MarketMatcher, type PendingCommand } from '../../domain/market/batch';
import { marketEngineStoreTotals } from '../../db/market-engine-store';
import { startTestApi, type TestApi } from '../support/api';
import { createTestDatabase, expectLedgerInvariants, type TestDatabase } from '../support/db';
import {
  createMarket,
  escrow,
  expectEscrowMatchesPairs,
  fundWallet,
  placeOrder,
  waitForEngineIdle,
  waitForStatus,
  wallet,
} from '../support/markets';
import { connectClient, eventually, startTestWorker, uniqueId, type TestWorker } from '../support/temporal';
import { spawnWorkerProcess, type WorkerProcess } from '../support/worker-process-handle';

/**
 * A match day: 20 markets open at once, a burst of orders on every one of them, and the process
 * running all their engines (whose batches commit together, db/market-engine-store.ts) SIGKILLed
 * mid-burst. Another worker takes the engines over; nothing accepted is lost or applied twice.
 */

const MARKETS = 20;
const ORDERS_PER_MARKET = 40;
const FUNDS = 10_000_000;
const FEE_BPS = 150;

let tdb: TestDatabase;
let api: TestApi;
let client: Awaited<ReturnType<typeof connectClient>>;
let child: WorkerProcess | undefined;
let worker: TestWorker | undefined;
const taskQueue = `test-${randomUUID()}`;

beforeAll(async () => {
  tdb = await createTestDatabase();
  client = await connectClient();
  api = await startTestApi({ db: tdb.db, temporal: client.client, taskQueue });
});
afterAll(async () => {
  await child?.kill();
  await api?.close();
  await worker?.shutdown();
  await client?.close();
  await tdb?.drop();
});

const engineTotals = async (marketIds: string[]) => {
  const [{ processed }] = await tdb.db('market_engines').whereIn('market_id', marketIds).sum({ processed: 'processed' });
  return Number(processed ?? 0);
};

test('20 markets bursting at once, their engines’ worker killed mid-burst: every accepted order processed once, ledger balanced, every hold accounted for', async () => {
  child = await spawnWorkerProcess({ databaseUrl: tdb.url, taskQueue });
  const admin = api.token(uniqueId('admin'), ['admin']);
  const marketIds = await Promise.all(
    Array.from({ length: MARKETS }, () => createMarket(api, admin, { opensInMs: 1_000, closesInMs: 180_000, feeBps: FEE_BPS })),
  );
  for (const m of marketIds) await waitForStatus(tdb.db, m, 'open');
  await eventually(async () => {
    const [{ n }] = await tdb.db('market_engines').whereIn('market_id', marketIds).where('epoch', '>=', 1).count({ n: '*' });
    return Number(n) === MARKETS;
  }, 60_000);
  const epochsBefore = new Map(
    (await tdb.db('market_engines').whereIn('market_id', marketIds)).map((e: any) => [e.market_id, e.epoch] as const),
  );

  const users = await Promise.all(
    Array.from({ length: 16 }, async () => {
      const id = uniqueId('u');
      await fundWallet(tdb.db, id, FUNDS);
      return { id, token: api.token(id) };
    }),
  );
  // Every market gets the same deterministic stream of crossing YES/NO buys (and some IOCs), from
  // the same wallets: the engines' commits of different markets touch the same wallet rows.
  const accepted = new Map<string, string[]>(marketIds.map((m) => [m, []]));
  let acceptedCount = 0;
  const jobs = Array.from({ length: ORDERS_PER_MARKET }, (_, i) =>
    marketIds.map((marketId, k) => ({
      marketId,
      user: users[(i + k) % users.length],
      order: {
        side: i % 2 === 0 ? 'YES' : 'NO',
        action: 'BUY',
        price: 350 + 50 * ((i + k) % 7),
        quantity: 1 + (i % 5),
        tif: i % 9 === 4 ? 'IOC' : 'GTC',
      } as const,
    })),
  ).flat();
  const burst = async () => {
    for (let i = 0; i < jobs.length; i += 40) {
      const res = await Promise.all(jobs.slice(i, i + 40).map((j) => placeOrder(api, j.user.token, j.marketId, j.order)));
      res.forEach((r, n) => {
        expect(r.status).toBe(202);
        accepted.get(jobs[i + n].marketId)!.push(r.body.orderId);
        acceptedCount++;
      });
    }
  };

  // SIGKILL the engines' worker once orders are streaming in and the engines are matching them;
  // intake carries on meanwhile.
  let processedAtKill = 0;
  const killed = (async () => {
    await eventually(async () => acceptedCount >= jobs.length * 0.4 && (await engineTotals(marketIds)) > 0, 90_000, 10);
    await child!.kill();
    processedAtKill = await engineTotals(marketIds);
  })();
  await burst();
  await killed;
  expect(processedAtKill).toBeGreaterThan(0);
  expect(processedAtKill).toBeLessThan(jobs.length);

  const fallbacksBefore = marketEngineStoreTotals.groupFallbacks;
  worker = await startTestWorker({ db: tdb.db, taskQueue });
  for (const m of marketIds) await waitForEngineIdle(tdb.db, m, 90_000);
  expect(marketEngineStoreTotals.groupFallbacks).toBe(fallbacksBefore);

  let fillCount = 0;
  for (const marketId of marketIds) {
    const ids = accepted.get(marketId)!;
    expect(ids).toHaveLength(ORDERS_PER_MARKET);
    // Taken over by a new instance (a newer epoch), which counted every accepted order once.
    await eventually(async () => {
      const e = await tdb.db('market_engines').where({ market_id: marketId }).first();
      return e.epoch > epochsBefore.get(marketId)! && e.processed === ids.length;
    }, 30_000);

    // Every accepted order was processed exactly once: none left queued, each has its own book sequence.
    const orders = await tdb.db('market_orders').where({ market_id: marketId }).orderBy('book_seq');
    expect(orders.map((o: any) => o.id).sort()).toEqual([...ids].sort());
    expect(orders.filter((o: any) => o.status === 'accepted' || o.book_seq === null || o.engine_pending)).toEqual([]);
    expect(new Set(orders.map((o: any) => o.book_seq)).size).toBe(orders.length);

    // Replaying the orders in the engine's order through a fresh book reproduces the committed fills exactly.
    const replay = new MarketMatcher(marketId, FEE_BPS);
    const result = replay.process(
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
        holdRemaining: Number(o.hold_remaining) + Number(o.filled_cost) + Number(o.fees) + FUNDS,
      })),
    );
    const fills = await tdb.db('market_fills').where({ market_id: marketId }).orderBy(['book_seq', 'idx']);
    expect(fills.map((f: any) => [f.taker_order_id, f.maker_order_id, f.yes_price, f.quantity])).toEqual(
      result.fills.map((f) => [f.fill.takerOrderId, f.fill.makerOrderId, f.fill.yesPrice, f.fill.quantity]),
    );
    fillCount += fills.length;
    const [{ journals }] = await tdb.db('journal').where({ ref_type: 'market', ref_id: marketId }).count({ journals: '*' });
    expect(Number(journals)).toBe(fills.length);

    // Every hold accounted for: each order's hold has exactly what the order says it still holds —
    // nothing for an order that is done (filled, cancelled IOC) — and each fill drew its cost once.
    for (const o of orders) {
      const filled = fills
        .filter((f: any) => f.taker_order_id === o.id || f.maker_order_id === o.id)
        .reduce((s: number, f: any) => s + f.quantity, 0);
      expect(filled).toBe(o.filled_qty);
      const hold = await tdb.db('holds').where({ id: o.hold_id }).first();
      expect(hold.remaining).toBe(o.hold_remaining);
      expect(hold.status).toBe(o.status === 'open' ? 'open' : 'closed');
      // What the hold gave up is what the order's fills cost, plus — once the order is done — the rest, released.
      if (o.status === 'open') expect(Number(hold.amount) - Number(hold.remaining)).toBe(Number(o.filled_cost) + Number(o.fees));
      else expect(Number(hold.remaining)).toBe(0);
    }
    await expectEscrowMatchesPairs(tdb.db, marketId);
  }
  expect(fillCount).toBeGreaterThan(MARKETS * 5);
  // Each wallet's held amount is exactly what its open holds still reserve, across all 20 markets.
  for (const u of users) {
    const [{ open }] = await tdb
      .db('holds')
      .where({ account_id: accounts.userWallet(u.id), status: 'open' })
      .sum({ open: 'remaining' });
    expect((await wallet(tdb.db, u.id)).held).toBe(Number(open ?? 0));
  }
  await expectLedgerInvariants(tdb.db);

  // Wind them down: voiding refunds everyone; every wallet is whole again and every escrow empty.
  for (const marketId of marketIds) {
    const voided = await api.request('POST', `/v1/markets/${marketId}/void`, {
      token: admin,
      idempotencyKey: uniqueId('v-'),
      body: { reason: 'test over' },
    });
    expect(voided.status).toBe(200);
  }
  for (const marketId of marketIds) {
    await waitForStatus(tdb.db, marketId, 'voided', 60_000);
    expect(await escrow(tdb.db, marketId)).toBe(0);
  }
  for (const u of users) expect(await wallet(tdb.db, u.id)).toMatchObject({ balance: FUNDS, held: 0 });
  await expectLedgerInvariants(tdb.db);
}, 300_000);
