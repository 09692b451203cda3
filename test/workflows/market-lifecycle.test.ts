import { MockActivityEnvironment } from '@temporalio/testing';
import { createMarketActivities } from '../../activities/markets';
import { marketStateQuery, marketWorkflowId } from '../../contracts/market';
import { accounts } from '../../domain/ledger/accounts';
import { getBalance } from '../../db/ledger-reports';
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
import { eventually, startTestWorker, uniqueId, type TestWorker } from '../support/temporal';

let tdb: TestDatabase;
let worker: TestWorker;
let api: TestApi;
let admin: string;

beforeAll(async () => {
  tdb = await createTestDatabase();
  worker = await startTestWorker({ db: tdb.db });
  api = await startTestApi({ db: tdb.db, temporal: worker.client, taskQueue: worker.taskQueue, pubsub: worker.deps.pubsub });
  admin = api.token(uniqueId('admin'), ['admin']);
});
afterAll(async () => {
  await api?.close();
  await worker?.shutdown();
  await tdb?.drop();
});
afterEach(async () => {
  await expectLedgerInvariants(tdb.db);
});

async function traders(n: number, funds = 100_000) {
  return Promise.all(
    Array.from({ length: n }, async () => {
      const id = uniqueId('u');
      await fundWallet(tdb.db, id, funds);
      return { id, token: api.token(id) };
    }),
  );
}

const state = (marketId: string) => worker.client.workflow.getHandle(marketWorkflowId(marketId)).query(marketStateQuery);

test('a market trades, closes, resolves and pays each winner exactly once', async () => {
  const [a, b, c] = await traders(3);
  const marketId = await createMarket(api, admin, { opensInMs: 300, closesInMs: 60_000, feeBps: 200 });
  await waitForStatus(tdb.db, marketId, 'open');

  // Mint: A bids YES 600 (rests), B buys NO 400 = asks YES 600 → a pair at 600/400.
  expect((await placeOrder(api, a.token, marketId, { side: 'YES', action: 'BUY', price: 600, quantity: 10 })).status).toBe(202);
  await waitForEngineIdle(tdb.db, marketId);
  expect((await placeOrder(api, b.token, marketId, { side: 'NO', action: 'BUY', price: 400, quantity: 10 })).status).toBe(202);
  await waitForEngineIdle(tdb.db, marketId);
  // Transfer: A sells 4 YES at 700 to C.
  expect((await placeOrder(api, a.token, marketId, { side: 'YES', action: 'SELL', price: 700, quantity: 4 })).status).toBe(202);
  await waitForEngineIdle(tdb.db, marketId);
  expect((await placeOrder(api, c.token, marketId, { side: 'YES', action: 'BUY', price: 700, quantity: 4 })).status).toBe(202);
  // A resting bid that the close must cancel, releasing its hold.
  expect((await placeOrder(api, c.token, marketId, { side: 'YES', action: 'BUY', price: 100, quantity: 5 })).status).toBe(202);
  await waitForEngineIdle(tdb.db, marketId);

  const pos = await api.request('GET', `/v1/markets/${marketId}/positions`, { token: a.token });
  expect(pos.body.positions).toEqual([expect.objectContaining({ side: 'YES', quantity: 6, locked: 0 })]);
  expect(await expectEscrowMatchesPairs(tdb.db, marketId)).toBe(10);
  expect((await wallet(tdb.db, c.id)).held).toBeGreaterThan(0);
  const book = await api.request('GET', `/v1/markets/${marketId}`, { token: c.token });
  expect(book.body.book).toMatchObject({ bestBid: 100, lastPrice: 700, volume: 14 });

  const closed = await api.request('POST', `/v1/markets/${marketId}/close`, { token: admin, idempotencyKey: uniqueId('close-'), body: {} });
  expect(closed.status).toBe(200);
  await waitForStatus(tdb.db, marketId, 'closed');
  await eventually(async () => (await state(marketId)).phase === 'closed');
  expect((await wallet(tdb.db, c.id)).held).toBe(0);
  const late = await placeOrder(api, b.token, marketId, { side: 'NO', action: 'BUY', price: 500, quantity: 1 });
  expect(late.status).toBe(409);
  expect(late.body.error.code).toBe('market_not_open');

  const resolved = await api.request('POST', `/v1/markets/${marketId}/resolve`, {
    token: admin,
    idempotencyKey: uniqueId('resolve-'),
    body: { outcome: 'YES', source: 'ball-by-ball feed' },
  });
  expect(resolved.status).toBe(200);
  await waitForStatus(tdb.db, marketId, 'settled');

  // fees (200 bps, ∝ p(1−p)): mint 10 @ 600/400 → 48 each side; transfer 4 @ 700 → 17 each side.
  expect((await wallet(tdb.db, a.id)).balance).toBe(100_000 - 6_048 + 2_783 + 6_000);
  expect((await wallet(tdb.db, b.id)).balance).toBe(100_000 - 4_048);
  expect((await wallet(tdb.db, c.id)).balance).toBe(100_000 - 2_817 + 4_000);
  expect(await escrow(tdb.db, marketId)).toBe(0);
  const settlements = await tdb.db('market_settlements').where({ market_id: marketId }).orderBy('amount');
  expect(settlements.map((s: any) => s.amount).sort((x: number, y: number) => x - y)).toEqual([0, 4_000, 6_000]);

  // Resolving again, or re-running the payout step, pays nobody anything more.
  const again = await api.request('POST', `/v1/markets/${marketId}/resolve`, {
    token: admin,
    idempotencyKey: uniqueId('resolve-'),
    body: { outcome: 'YES', source: 'ball-by-ball feed' },
  });
  expect(again.status).toBe(200);
  const rerun = await new MockActivityEnvironment().run(createMarketActivities(worker.deps).settleMarket, {
    marketId,
    outcome: 'YES' as const,
  });
  expect(rerun).toBe(0);
  const contrary = await api.request('POST', `/v1/markets/${marketId}/resolve`, {
    token: admin,
    idempotencyKey: uniqueId('resolve-'),
    body: { outcome: 'NO', source: 'someone else' },
  });
  expect(contrary.status).toBe(409);
  expect((await wallet(tdb.db, a.id)).balance).toBe(100_000 - 6_048 + 2_783 + 6_000);
  expect((await getBalance(tdb.db, accounts.platformRevenue)).balance).toBe(130);
  const result = await worker.client.workflow.getHandle(marketWorkflowId(marketId)).result();
  expect(result).toMatchObject({ phase: 'settled', outcome: 'YES', cancelledAtClose: 1 });
});

test('voiding refunds every user their net cost and empties the escrow', async () => {
  const [a, b, c] = await traders(3);
  const marketId = await createMarket(api, admin, { opensInMs: 200, feeBps: 200 });
  await waitForStatus(tdb.db, marketId, 'open');
  await placeOrder(api, a.token, marketId, { side: 'YES', action: 'BUY', price: 500, quantity: 10 });
  await waitForEngineIdle(tdb.db, marketId);
  await placeOrder(api, b.token, marketId, { side: 'NO', action: 'BUY', price: 500, quantity: 10 });
  await waitForEngineIdle(tdb.db, marketId);
  await placeOrder(api, a.token, marketId, { side: 'YES', action: 'SELL', price: 800, quantity: 10 });
  await waitForEngineIdle(tdb.db, marketId);
  await placeOrder(api, c.token, marketId, { side: 'YES', action: 'BUY', price: 800, quantity: 10 });
  await placeOrder(api, b.token, marketId, { side: 'NO', action: 'BUY', price: 50, quantity: 3 }); // rests, then cancelled
  await waitForEngineIdle(tdb.db, marketId);
  expect(await expectEscrowMatchesPairs(tdb.db, marketId)).toBe(10);

  const voided = await api.request('POST', `/v1/markets/${marketId}/void`, {
    token: admin,
    idempotencyKey: uniqueId('void-'),
    body: { reason: 'match abandoned (rain)' },
  });
  expect(voided.status).toBe(200);
  await waitForStatus(tdb.db, marketId, 'voided');

  // A sold at a profit and keeps it; B and C get back exactly what they paid, fees included.
  expect((await wallet(tdb.db, a.id)).balance).toBe(100_000 - 5_050 + 7_968);
  expect((await wallet(tdb.db, b.id)).balance).toBe(100_000);
  expect((await wallet(tdb.db, c.id)).balance).toBe(100_000);
  for (const u of [a, b, c]) expect((await wallet(tdb.db, u.id)).held).toBe(0);
  expect(await escrow(tdb.db, marketId)).toBe(0);
  const refunds = await new MockActivityEnvironment().run(createMarketActivities(worker.deps).refundMarket, marketId);
  expect(refunds).toBe(0);
  expect((await wallet(tdb.db, c.id)).balance).toBe(100_000);
  const audit = await tdb.db('audit_log').where({ target_id: marketId, action: 'market.void' });
  expect(audit).toHaveLength(1);
});

test('a market left without a result past its deadline raises an alert for ops', async () => {
  const marketId = await createMarket(api, admin, { opensInMs: 100, closesInMs: 1_000, resolutionDeadlineSeconds: 1 });
  await eventually(async () => (await state(marketId)).phase === 'resolution_overdue', 15_000);
  // The phase flips first; the alert row is written by the activity that follows it.
  const alert = await eventually(() => tdb.db('market_alerts').where({ market_id: marketId }).first(), 10_000);
  expect(alert).toMatchObject({ kind: 'resolution_overdue' });
  const desc = await worker.client.workflow.getHandle(marketWorkflowId(marketId)).describe();
  expect(desc.searchAttributes.FlowStatus).toEqual(['resolution_overdue']);
  // A result still settles it afterwards.
  const resolved = await api.request('POST', `/v1/markets/${marketId}/resolve`, {
    token: admin,
    idempotencyKey: uniqueId('r-'),
    body: { outcome: 'NO', source: 'scorer' },
  });
  expect(resolved.status).toBe(200);
  await waitForStatus(tdb.db, marketId, 'settled');
});

test('bad orders are refused with a clear 4xx and write nothing', async () => {
  const [a] = await traders(1, 1_000);
  const marketId = await createMarket(api, admin, { opensInMs: 100 });
  await waitForStatus(tdb.db, marketId, 'open');
  const cases: Array<[unknown, number, string]> = [
    [{ clientOrderId: 'x1', side: 'YES', action: 'BUY', price: 525, quantity: 1 }, 400, 'validation_failed'],
    [{ clientOrderId: 'x2', side: 'YES', action: 'BUY', price: 500, quantity: 0 }, 400, 'validation_failed'],
    [{ clientOrderId: 'x3', side: 'MAYBE', action: 'BUY', price: 500, quantity: 1 }, 400, 'validation_failed'],
    [{ clientOrderId: 'x4', side: 'YES', action: 'BUY', price: 500, quantity: 1, extra: true }, 400, 'validation_failed'],
    [{ clientOrderId: 'x5', side: 'YES', action: 'BUY', price: 900, quantity: 2 }, 409, 'insufficient_funds'],
    [{ clientOrderId: 'x6', side: 'YES', action: 'SELL', price: 500, quantity: 1 }, 409, 'insufficient_position'],
  ];
  for (const [body, status, code] of cases) {
    const res = await api.request('POST', `/v1/markets/${marketId}/orders`, { token: a.token, body });
    expect([res.status, res.body.error.code]).toEqual([status, code]);
  }
  expect(Number((await tdb.db('market_orders').where({ market_id: marketId }).count())[0].count)).toBe(0);
  expect((await wallet(tdb.db, a.id)).held).toBe(0);

  // The client order id makes placement idempotent.
  const first = await api.request('POST', `/v1/markets/${marketId}/orders`, {
    token: a.token,
    body: { clientOrderId: 'same', side: 'NO', action: 'BUY', price: 300, quantity: 2 },
  });
  const repeat = await api.request('POST', `/v1/markets/${marketId}/orders`, {
    token: a.token,
    body: { clientOrderId: 'same', side: 'NO', action: 'BUY', price: 300, quantity: 2 },
  });
  expect(first.status).toBe(202);
  expect(repeat.body).toEqual({ ...first.body, replayed: true });
  const forbidden = await api.request('POST', `/v1/markets/${marketId}/close`, {
    token: a.token,
    idempotencyKey: uniqueId('k-'),
    body: {},
  });
  expect(forbidden.status).toBe(403);
  await api.request('POST', `/v1/markets/${marketId}/void`, {
    token: admin,
    idempotencyKey: uniqueId('v-'),
    body: { reason: 'test over' },
  });
  await waitForStatus(tdb.db, marketId, 'voided');
  expect(await wallet(tdb.db, a.id)).toMatchObject({ balance: 1_000, held: 0 });
});
