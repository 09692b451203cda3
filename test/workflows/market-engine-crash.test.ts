import { randomUUID } from 'node:crypto';
import { MarketMatcher, type PendingCommand } from '../../domain/market/batch';
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

test('killing the engine worker mid-burst loses no accepted order and applies none twice', async () => {
  child = await spawnWorkerProcess({ databaseUrl: tdb.url, taskQueue });
  const admin = api.token(uniqueId('admin'), ['admin']);
  const marketId = await createMarket(api, admin, { opensInMs: 300, closesInMs: 120_000, feeBps: 150 });
  await waitForStatus(tdb.db, marketId, 'open');
  await eventually(async () => (await tdb.db('market_engines').where({ market_id: marketId }).first()).epoch >= 1);

  const users = await Promise.all(
    Array.from({ length: 12 }, async () => {
      const id = uniqueId('u');
      await fundWallet(tdb.db, id, 10_000_000);
      return { id, token: api.token(id) };
    }),
  );
  // A deterministic stream of crossing YES/NO buys around 500 → many mints at several prices.
  let n = 0;
  const nextOrder = () => {
    const i = n++;
    const side = i % 2 === 0 ? 'YES' : 'NO';
    const price = 350 + 50 * (i % 7);
    return { user: users[i % users.length], order: { side, action: 'BUY', price, quantity: 1 + (i % 5) } as const };
  };
  const accepted: string[] = [];
  const burst = async (count: number) => {
    const jobs = Array.from({ length: count }, () => nextOrder());
    for (let i = 0; i < jobs.length; i += 20) {
      const res = await Promise.all(jobs.slice(i, i + 20).map((j) => placeOrder(api, j.user.token, marketId, j.order)));
      for (const r of res) {
        expect(r.status).toBe(202);
        accepted.push(r.body.orderId);
      }
    }
  };

  // SIGKILL the engine's worker while orders are streaming in and being matched; intake carries on.
  const killed = (async () => {
    await eventually(async () => accepted.length >= 200, 60_000, 5);
    await child!.kill();
  })();
  await burst(600);
  await killed;

  worker = await startTestWorker({ db: tdb.db, taskQueue });
  await waitForEngineIdle(tdb.db, marketId, 60_000);
  const engine = await tdb.db('market_engines').where({ market_id: marketId }).first();
  expect(engine.epoch).toBeGreaterThanOrEqual(2);
  expect(engine.processed).toBe(accepted.length);

  // Every accepted order was processed exactly once: none left queued, each has a book sequence.
  const orders = await tdb.db('market_orders').where({ market_id: marketId }).orderBy('book_seq');
  expect(orders.map((o: any) => o.id).sort()).toEqual([...accepted].sort());
  expect(orders.filter((o: any) => o.status === 'accepted' || o.book_seq === null)).toEqual([]);
  expect(new Set(orders.map((o: any) => o.book_seq)).size).toBe(orders.length);

  // Replaying the orders in the engine's order through a fresh book reproduces the committed fills exactly.
  const replay = new MarketMatcher(marketId, 150);
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
      holdRemaining: Number(o.hold_remaining) + Number(o.filled_cost) + Number(o.fees) + 10_000_000,
    })),
  );
  const fills = await tdb.db('market_fills').where({ market_id: marketId }).orderBy(['book_seq', 'idx']);
  expect(fills.map((f: any) => [f.taker_order_id, f.maker_order_id, f.yes_price, f.quantity])).toEqual(
    result.fills.map((f) => [f.fill.takerOrderId, f.fill.makerOrderId, f.fill.yesPrice, f.fill.quantity]),
  );
  expect(fills.length).toBeGreaterThan(50);
  const journals = await tdb.db('journal').where({ ref_type: 'market', ref_id: marketId }).count();
  expect(Number(journals[0].count)).toBe(fills.length);
  for (const o of orders) {
    const filled = fills
      .filter((f: any) => f.taker_order_id === o.id || f.maker_order_id === o.id)
      .reduce((s: number, f: any) => s + f.quantity, 0);
    expect(filled).toBe(o.filled_qty);
    const hold = await tdb.db('holds').where({ id: o.hold_id }).first();
    expect(hold.remaining).toBe(o.hold_remaining);
  }
  const pairs = await expectEscrowMatchesPairs(tdb.db, marketId);
  expect(pairs).toBeGreaterThan(0);
  await expectLedgerInvariants(tdb.db);

  // Wind it down: void refunds everyone; escrow ends at zero.
  const voided = await api.request('POST', `/v1/markets/${marketId}/void`, {
    token: admin,
    idempotencyKey: uniqueId('v-'),
    body: { reason: 'test over' },
  });
  expect(voided.status).toBe(200);
  await waitForStatus(tdb.db, marketId, 'voided', 60_000);
  for (const u of users) expect(await wallet(tdb.db, u.id)).toMatchObject({ balance: 10_000_000, held: 0 });
  expect(await escrow(tdb.db, marketId)).toBe(0);
  await expectLedgerInvariants(tdb.db);
}, 150_000);
