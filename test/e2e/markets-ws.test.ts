import { spawn } from 'node:child_process';
import path from 'node:path';
import { RedisPubSub } from '../../infra/pubsub';
import { freePort } from '../../scripts/temporal-dev-server';
import { startTestApi, type TestApi } from '../support/api';
import { createTestDatabase, expectLedgerInvariants, type TestDatabase } from '../support/db';
import { testEnv } from '../support/env';
import { createMarket, expectEscrowMatchesPairs, fundWallet, placeOrder, waitForEngineIdle, waitForStatus } from '../support/markets';
import { startTestWorker, uniqueId, type TestWorker } from '../support/temporal';
import { answer } from '../support/typed-client';
import { WsTestClient } from '../support/ws-client';

let tdb: TestDatabase;
let worker: TestWorker;
let apiA: TestApi;
let apiB: TestApi;
const buses: RedisPubSub[] = [];
const bus = () => {
  const b = new RedisPubSub(testEnv.redisUrl);
  buses.push(b);
  return b;
};

beforeAll(async () => {
  tdb = await createTestDatabase();
  // Engine, and two API instances, each with its own Redis connection: fan-out goes through Redis.
  worker = await startTestWorker({ db: tdb.db, pubsub: bus() });
  apiA = await startTestApi({ db: tdb.db, temporal: worker.client, taskQueue: worker.taskQueue, pubsub: bus() });
  apiB = await startTestApi({ db: tdb.db, temporal: worker.client, taskQueue: worker.taskQueue, pubsub: bus() });
});
afterAll(async () => {
  await apiA?.close();
  await apiB?.close();
  await worker?.shutdown();
  for (const b of buses) await b.close();
  await tdb?.drop();
});

test('crossing orders over HTTP show up as a fill and a new price on the WebSocket', async () => {
  const admin = apiA.token(uniqueId('admin'), ['admin']);
  const marketId = await createMarket(apiA, admin, { opensInMs: 200 });
  await waitForStatus(tdb.db, marketId, 'open');
  const [maker, taker] = [uniqueId('u'), uniqueId('u')];
  await fundWallet(tdb.db, maker, 50_000);
  await fundWallet(tdb.db, taker, 50_000);

  // The watcher is on instance B, the orders go to instance A.
  const watcher = await WsTestClient.connect(apiB.url);
  watcher.send({ op: 'subscribe', market: marketId });
  const snapshot = await watcher.waitFor((m) => m.type === 'snapshot');
  expect(snapshot).toMatchObject({ market: marketId, seq: 1, status: 'open', view: { bids: [], asks: [], lastPrice: null } });
  const mine = await WsTestClient.connect(apiB.url, apiB.token(taker));
  await mine.waitFor((m) => m.type === 'authenticated' && m.userId === taker);

  expect((await placeOrder(apiA, apiA.token(maker), marketId, { side: 'YES', action: 'BUY', price: 550, quantity: 5 })).status).toBe(202);
  const bid = await watcher.waitFor((m) => m.type === 'update' && m.view.bestBid === 550);
  expect(bid.view.bids).toEqual([{ price: 550, quantity: 5, orders: 1 }]);

  const placed = await placeOrder(apiA, apiA.token(taker), marketId, {
    side: 'NO',
    action: 'BUY',
    price: 450,
    quantity: 3,
    seenPrice: 450,
  });
  expect(placed.status).toBe(202);
  const traded = await watcher.waitFor((m) => m.type === 'update' && m.view.lastPrice === 550);
  expect(traded.trades).toEqual([expect.objectContaining({ yesPrice: 550, quantity: 3, kind: 'mint', takerSide: 'NO' })]);
  expect(traded.view).toMatchObject({ bestBid: 550, bids: [{ price: 550, quantity: 2, orders: 1 }], volume: 3 });
  expect(traded.view.bestAsk === null || traded.view.bestAsk > traded.view.bestBid).toBe(true);

  const fill = await mine.waitFor((m) => m.type === 'orders' && m.fills.length > 0);
  expect(fill.fills).toEqual([
    expect.objectContaining({ orderId: placed.body.orderId, role: 'taker', side: 'NO', price: 450, quantity: 3 }),
  ]);
  expect(fill.orders).toEqual([expect.objectContaining({ orderId: placed.body.orderId, status: 'filled', filledQty: 3 })]);

  // Gap-free per-subscription sequence numbers, never an older version after a newer one.
  const feed = watcher.messages.filter((m) => m.market === marketId);
  expect(feed.map((m) => m.seq)).toEqual(feed.map((_, i) => i + 1));
  const versions = feed.map((m) => m.view.version);
  expect([...versions].sort((a, b) => a - b)).toEqual(versions);
  expect(new Set(versions).size).toBe(versions.length);
  // Someone else's fills never reach this user's channel.
  expect(mine.messages.filter((m) => m.type === 'orders').flatMap((m) => m.orders.map((o: any) => o.orderId))).toEqual([
    placed.body.orderId,
  ]);

  await waitForEngineIdle(tdb.db, marketId);
  await expectEscrowMatchesPairs(tdb.db, marketId);
  await expectLedgerInvariants(tdb.db);
  watcher.close();
  mine.close();
});

test('a burst is conflated to at most 10 updates a second, ending on the committed book', async () => {
  const admin = apiA.token(uniqueId('admin'), ['admin']);
  const marketId = await createMarket(apiA, admin, { opensInMs: 200 });
  await waitForStatus(tdb.db, marketId, 'open');
  const users = [uniqueId('u'), uniqueId('u'), uniqueId('u'), uniqueId('u')];
  for (const u of users) await fundWallet(tdb.db, u, 1_000_000);
  const watcher = await WsTestClient.connect(apiA.url);
  watcher.send({ op: 'subscribe', market: marketId });
  await watcher.waitFor((m) => m.type === 'snapshot');

  const started = Date.now();
  for (let i = 0; i < 200; i += 20) {
    await Promise.all(
      Array.from({ length: 20 }, (_, k) => {
        const j = i + k;
        return placeOrder(apiA, apiA.token(users[j % 4]), marketId, {
          side: j % 2 ? 'NO' : 'YES',
          action: 'BUY',
          price: 300 + 50 * (j % 5),
          quantity: 1 + (j % 3),
        });
      }),
    );
  }
  await waitForEngineIdle(tdb.db, marketId);
  const committed = (await answer(apiA.client(admin).GET('/v1/markets/{marketId}', { params: { path: { marketId } } }))).body.book;
  const last = await watcher.waitFor((m) => m.type === 'update' && m.view.version === committed.version);
  expect(last.view).toEqual(committed);
  const updates = watcher.messages.filter((m) => m.type === 'update');
  const seconds = (last.receivedAt - started) / 1000;
  expect(updates.length).toBeLessThanOrEqual(Math.ceil(seconds * 10) + 1);
  // At most 10 in any second, by the engine's clock.
  for (let i = 10; i < updates.length; i++) expect(updates[i].publishedAt - updates[i - 10].publishedAt).toBeGreaterThanOrEqual(1000);
  for (const u of updates) if (u.view.bestBid !== null && u.view.bestAsk !== null) expect(u.view.bestBid).toBeLessThan(u.view.bestAsk);
  await expectEscrowMatchesPairs(tdb.db, marketId);
  await expectLedgerInvariants(tdb.db);
  watcher.close();
});

/**
 * The `watch` script as a user runs it: a child process without a TTY (stdin closed, stdout and
 * stderr pipes), in a process group of its own so a Ctrl-C can be sent to all of it as a terminal would.
 */
function runWatcher(command: 'npm' | 'direct', args: string[]) {
  const root = path.resolve(__dirname, '../..');
  const [file, argv] =
    command === 'npm'
      ? ['npm', ['run', '-s', 'watch', '--', ...args]]
      : [process.execPath, ['--import', 'tsx', 'scripts/watch.ts', ...args]];
  const child = spawn(file, argv, { cwd: root, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: any[] = [];
  const raw: string[] = [];
  let stderr = '';
  let pending = '';
  const waiters: Array<{ pred: (m: any) => boolean; resolve: (m: any) => void }> = [];
  child.stdout.on('data', (chunk: Buffer) => {
    pending += chunk.toString();
    const complete = pending.split('\n');
    pending = complete.pop()!;
    for (const text of complete) {
      raw.push(text);
      const m = JSON.parse(text); // every line must be one JSON document
      lines.push(m);
      for (const w of waiters.splice(0)) {
        if (w.pred(m)) w.resolve(m);
        else waiters.push(w);
      }
    }
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal })),
  );
  return {
    lines,
    raw,
    stderr: () => stderr,
    exited,
    waitForLine(pred: (m: any) => boolean, timeoutMs = 30_000): Promise<any> {
      const seen = lines.find(pred);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no watcher line matching ${pred}; stdout ${JSON.stringify(raw.slice(-3))}, stderr ${stderr}`)),
          timeoutMs,
        );
        waiters.push({ pred, resolve: (m) => (clearTimeout(timer), resolve(m)) });
      });
    },
    /** Ctrl-C: SIGINT to the whole process group. */
    interrupt: () => process.kill(-child.pid!, 'SIGINT'),
  };
}

test("npm run watch prints the snapshot and each update as one JSON line, with the caller's own fills, and stops on Ctrl-C", async () => {
  const admin = apiA.token(uniqueId('admin'), ['admin']);
  const marketId = await createMarket(apiA, admin, { opensInMs: 200 });
  await waitForStatus(tdb.db, marketId, 'open');
  const [maker, taker] = [uniqueId('u'), uniqueId('u')];
  await fundWallet(tdb.db, maker, 50_000);
  await fundWallet(tdb.db, taker, 50_000);

  const watcher = runWatcher('npm', [marketId, '--token', apiB.token(taker), '--url', apiB.url]);
  const snapshot = await watcher.waitForLine((m) => m.type === 'snapshot');
  expect(snapshot).toMatchObject({ market: marketId, seq: 1, status: 'open', view: { bids: [], asks: [] } });

  expect((await placeOrder(apiA, apiA.token(maker), marketId, { side: 'YES', action: 'BUY', price: 550, quantity: 5 })).status).toBe(202);
  await watcher.waitForLine((m) => m.type === 'update' && m.view.bestBid === 550);
  const placed = await placeOrder(apiA, apiA.token(taker), marketId, { side: 'NO', action: 'BUY', price: 450, quantity: 2 });
  expect(placed.status).toBe(202);
  const traded = await watcher.waitForLine((m) => m.type === 'update' && m.view.lastPrice === 550);
  expect(traded.trades).toEqual([expect.objectContaining({ yesPrice: 550, quantity: 2 })]);
  const mine = await watcher.waitForLine((m) => m.type === 'orders' && m.fills.length > 0);
  expect(mine.orders).toEqual([expect.objectContaining({ orderId: placed.body.orderId, status: 'filled' })]);
  const feed = watcher.lines.filter((m) => m.market === marketId);
  expect(feed.map((m) => m.seq)).toEqual(feed.map((_, i) => i + 1));
  expect(watcher.stderr()).toContain(`authenticated as ${taker}`);

  watcher.interrupt();
  // 'close' waits for every process holding the output pipes, so this is the watcher gone too, not
  // just npm. The watcher exits 0 (next test); npm itself ends on the SIGINT as a shell would.
  const exit = await watcher.exited;
  expect(exit.code === 0 || exit.code === 130 || exit.signal === 'SIGINT').toBe(true);
  expect(watcher.stderr()).not.toMatch(/Error|\n\s+at /);

  await waitForEngineIdle(tdb.db, marketId);
  await expectEscrowMatchesPairs(tdb.db, marketId);
  await expectLedgerInvariants(tdb.db);
});

test('the watcher exits 0 on Ctrl-C, and 1 with a clear message for a market that does not exist or an API it cannot reach', async () => {
  const admin = apiA.token(uniqueId('admin'), ['admin']);
  const marketId = await createMarket(apiA, admin, { opensInMs: 200 });
  const nobody = `http://127.0.0.1:${await freePort()}`;

  const watching = runWatcher('direct', [marketId, '--url', apiA.url]);
  const missing = runWatcher('direct', ['mk_doesnotexist00', '--url', apiA.url]);
  const unreachable = runWatcher('direct', [marketId, '--url', nobody]);
  const badToken = runWatcher('direct', [marketId, '--url', apiA.url, '--token', 'not-a-valid-token']);

  expect(await missing.exited).toEqual({ code: 1, signal: null });
  expect(missing.stderr()).toContain(`market mk_doesnotexist00 not found at ${apiA.url}`);
  expect(missing.lines).toEqual([]);
  expect(await unreachable.exited).toEqual({ code: 1, signal: null });
  expect(unreachable.stderr()).toContain(`cannot reach the API at ${nobody.replace('http', 'ws')}/v1/ws`);
  expect(await badToken.exited).toEqual({ code: 1, signal: null });
  expect(badToken.stderr()).toContain('the token was refused (invalid_token)');

  await watching.waitForLine((m) => m.type === 'snapshot' && m.market === marketId);
  watching.interrupt();
  expect(await watching.exited).toEqual({ code: 0, signal: null });
  expect(watching.stderr()).toBe('');

  const voided = await answer(
    apiA.client(admin).POST('/v1/markets/{marketId}/void', {
      params: { path: { marketId }, header: { 'Idempotency-Key': uniqueId('v-') } },
      body: { reason: 'test over' },
    }),
  );
  expect(voided.status).toBe(200);
  await expectLedgerInvariants(tdb.db);
});
