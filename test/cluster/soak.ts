/**
 * The production-shape soak: `npm run test:cluster [-- --minutes N]` (default 3; CI runs it).
 *
 * A Temporal cluster of four processes (frontend, history, matching, worker) on the local Postgres,
 * a Redis of its own, and Mandi as 2 API and 2 worker processes, with a round-robin client in front
 * of the APIs. For the given time it drives every flow at once — top-ups with every sandbox
 * behaviour, checkouts to settlement, returns and cancellations, subscriptions created, paused,
 * resumed and cancelled, subscriptions on a fast clock renewing every few seconds, payouts to
 * flaky banks, two markets with bursts of crossing orders and WebSocket watchers on each API
 * instance — while, on a schedule, it SIGKILLs a worker (and starts it again), SIGKILLs an API,
 * SIGKILLs and restarts the history service, restarts matching, pauses Redis and restarts an API
 * gracefully (SIGTERM). Then it lets every flow finish and holds the database to what each flow's
 * inputs call for (soak-checks.ts, soak-renewals.ts). Prints one JSON line
 * {"bench":"cluster-soak",…}; exits 1 on any lost flow, doubled effect, money problem or WebSocket gap.
 */
import { execFile } from 'node:child_process';
import { parseArgs, promisify } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { SERVICE_RESTART } from '../../api/ws/gateway';
import { checkoutWorkflowId } from '../../contracts/checkout';
import { subscriptionWorkflowId } from '../../contracts/subscription';
import { verify } from './soak-checks';
import { RoundRobinClient } from './soak-client';
import { startFleet, type Fleet } from './soak-fleet';
import {
  auctionFlow,
  checkoutFlow,
  createMarket,
  fundTraders,
  marketBurst,
  payoutRound,
  seedShop,
  settleMarket,
  subscriptionFlow,
  topupFlow,
  type Started,
} from './soak-flows';
import { renewalsDone, renewingSubscription, verifyRenewals, type Renewing } from './soak-renewals';
import { MarketWatcher } from './soak-watchers';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const startedAt = Date.now();
const log = (line: string) => process.stderr.write(`[soak +${((Date.now() - startedAt) / 1000).toFixed(1)}s] ${line}\n`);

interface FaultResult {
  fault: string;
  atSeconds: number;
  tookMs: number;
  /** Requests answered / refused (connection refused, reset, 5xx) from the fault's start to 5 s after it ended. */
  answered: number;
  refused: number;
  /** After the fault ended: how long until a workflow ran end to end on the cluster again. */
  workflowAgainMs: number;
}

function faultSchedule(fleet: Fleet): Array<{ name: string; run: () => Promise<void> }> {
  const cluster = fleet.cluster;
  return [
    { name: 'sigkill-worker', run: async () => (await fleet.workers[0].kill(), await sleep(5000), await fleet.restartWorker(0)) },
    { name: 'sigkill-api', run: async () => (await fleet.apis[0].kill(), await sleep(5000), await fleet.restartApi(0)) },
    {
      name: 'sigkill-history',
      run: async () => {
        await cluster.stop('history', { signal: 'SIGKILL' });
        await sleep(2000);
        await cluster.start('history');
      },
    },
    { name: 'restart-matching', run: async () => (await cluster.stop('matching'), void (await cluster.start('matching'))) },
    {
      name: 'pause-redis',
      run: async () => {
        await promisify(execFile)('redis-cli', ['-p', String(fleet.redisPort), 'CLIENT', 'PAUSE', '4000', 'ALL']);
        await sleep(4000);
      },
    },
    {
      // A deploy's restart: SIGTERM, the drain (requests in flight answered, WebSockets told 1012), a clean exit.
      name: 'sigterm-api-2',
      run: async () => {
        const code = await fleet.apis[1].stop();
        if (code !== 0) throw new Error(`api 2 exited with ${code} on SIGTERM:\n${fleet.apis[1].output().slice(-2000)}`);
        await fleet.restartApi(1);
      },
    },
    { name: 'sigkill-worker-2', run: async () => (await fleet.workers[1].kill(), await sleep(5000), await fleet.restartWorker(1)) },
  ];
}

/** Starts `fn(n)` every `everyMs` until `endAt`, each in the background; failures are recorded as lost flows. */
function drive(
  name: string,
  everyMs: number,
  endAt: number,
  started: Started,
  tasks: Set<Promise<void>>,
  fn: (n: number) => Promise<void>,
) {
  return (async () => {
    for (let n = 0; Date.now() < endAt; n++) {
      const task = fn(n).catch((err) => void started.failures.push(`${name} #${n}: ${String(err).slice(0, 400)}`));
      tasks.add(task);
      void task.finally(() => tasks.delete(task));
      await sleep(everyMs);
    }
  })();
}

async function until(what: string, probe: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await probe().catch(() => false)) return true;
    await sleep(500);
  }
  log(`gave up waiting for ${what}`);
  return false;
}

/** For the first few flows that went wrong: where their workflow is (status, pending activities and why). */
async function diagnose(address: string, problems: string[]): Promise<void> {
  const workflowIds = [
    ...new Set(
      problems.flatMap((p) => {
        const sub = /\b(sub_[a-z0-9]+)/.exec(p);
        const order = /\b(ord_[a-z0-9]+)/.exec(p);
        return sub ? [subscriptionWorkflowId(sub[1])] : order ? [checkoutWorkflowId(order[1])] : [];
      }),
    ),
  ].slice(0, 10);
  if (workflowIds.length === 0) return;
  const connection = await Connection.connect({ address });
  try {
    const client = new Client({ connection });
    for (const id of workflowIds) {
      const d = await client.workflow
        .getHandle(id)
        .describe()
        .catch((err) => ({ error: String(err) }));
      if ('error' in d) log(`diagnose ${id}: ${d.error}`);
      else {
        const pending = (d.raw.pendingActivities ?? []).map(
          (a) => `${a.activityType?.name} attempt ${a.attempt}: ${a.lastFailure?.message ?? ''}`,
        );
        log(`diagnose ${id}: ${d.status.name}, ${d.historyLength} events, pending [${pending.join('; ')}]`);
      }
    }
  } finally {
    await connection.close();
  }
}

/**
 * The checks must be able to fail: told a succeeded top-up should have been declined they report it
 * lost, and a second top-up row for one request (written here, after the verdict) is a double.
 */
async function canary(db: Fleet['db'], started: Started): Promise<boolean> {
  const ok = started.topups.find((t) => t.method === 'pm_ok');
  if (!ok) return false;
  const claimed = await verify(db, { ...empty(), topups: [{ ...ok, method: 'pm_declined' }] });
  const [row] = await db('topups').where({ id: ok.topupId }).select('*');
  await db('topups').insert({ ...row, id: `${row.id}x` });
  const doubled = await verify(db, { ...empty(), topups: [ok] });
  return claimed.lost.length === 1 && doubled.doubled.length === 1;
}

const empty = (): Started => ({
  topups: [],
  checkouts: [],
  subscriptions: [],
  payouts: [],
  marketOrders: [],
  markets: [],
  auctions: [],
  failures: [],
  lateReturns: 0,
});

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { minutes: { type: 'string', default: '3' } } });
  const minutes = Number(values.minutes);
  if (!(minutes > 0)) throw new Error(`--minutes must be a positive number, got ${values.minutes}`);
  const runMs = minutes * 60_000;

  const fleet = await startFleet(String(process.pid), log);
  let temporal: Client | undefined;
  try {
    temporal = new Client({ connection: await Connection.connect({ address: fleet.cluster.address }) });
    const cluster = temporal;
    const db = fleet.db;
    const rr = new RoundRobinClient(fleet.apiUrls);
    const renewing: Renewing[] = [];
    const started = empty();
    const shop = await seedShop(db);
    const traders = await fundTraders(db, 20);
    const runStart = Date.now();
    const endAt = runStart + runMs;
    started.markets.push(await createMarket(rr, endAt), await createMarket(rr, endAt));
    const watchers = [0, 1, 2, 3].map((i) => new MarketWatcher(fleet.apiUrls, started.markets, i));
    await sleep(2000); // the markets open

    const tasks = new Set<Promise<void>>();
    const drivers = [
      drive('topup', 400, endAt, started, tasks, (n) => topupFlow(db, rr, started, n)),
      drive('checkout', 700, endAt, started, tasks, (n) => checkoutFlow(db, rr, shop, started, n)),
      drive('subscription', 2000, endAt, started, tasks, (n) => subscriptionFlow(db, rr, shop, started, n)),
      ...started.markets.map((m) => drive('market', 1000, endAt - 3000, started, tasks, (n) => marketBurst(rr, m, traders, started, n))),
      drive('renewal', 6000, endAt - 20_000, started, tasks, () => renewingSubscription(db, cluster, renewing)),
      drive('auction', 4000, endAt, started, tasks, (n) => auctionFlow(db, rr, shop, started, n)),
      drive('payout', 15_000, endAt, started, tasks, (n) => payoutRound(rr, shop.sellers[n % shop.sellers.length], started)),
    ];

    // Faults spread over the run, the first after a warm-up, the last well before the end.
    const schedule = faultSchedule(fleet);
    const faults: FaultResult[] = [];
    const faultRunner = (async () => {
      const first = Math.min(20_000, runMs * 0.1);
      const gap = (runMs * 0.8 - first) / schedule.length;
      for (const [i, fault] of schedule.entries()) {
        await sleep(Math.max(0, runStart + first + i * gap - Date.now()));
        const at = Date.now();
        log(`fault: ${fault.name}`);
        await fault.run().catch((err) => void started.failures.push(`fault ${fault.name}: ${String(err).slice(0, 2000)}`));
        const ended = Date.now();
        const workflowAgainMs = await until(
          'the cluster to run a workflow',
          () => fleet.cluster.check(10_000).then(() => true),
          60_000,
        ).then(() => Date.now() - ended);
        faults.push({
          fault: fault.name,
          atSeconds: Math.round((at - runStart) / 1000),
          tookMs: ended - at,
          answered: 0,
          refused: 0,
          workflowAgainMs,
        });
      }
    })();

    await Promise.all(drivers);
    await faultRunner;
    log(`run over; ${tasks.size} flows still in their steps`);
    await Promise.all([...tasks]);
    for (const m of started.markets) await settleMarket(rr, m).catch((err) => started.failures.push(String(err)));

    // Let every flow reach its end: return windows, settlement, polling top-ups, payouts.
    const ids = (xs: Array<{ [k: string]: string | unknown }>, k: string) => xs.map((x) => x[k] as string);
    await until(
      'flows to finish',
      async () => {
        const topups = await db('topups')
          .whereIn('id', ids(started.topups, 'topupId'))
          .whereIn('status', ['pending', 'awaiting_confirmation'])
          .count();
        const lots = await db('auction_lots').whereIn('id', ids(started.auctions, 'lotId')).select('status', 'order_id');
        const orders = await db('orders')
          .whereIn('id', [...ids(started.checkouts, 'orderId'), ...lots.flatMap((l) => (l.order_id ? [l.order_id] : []))])
          .whereNotIn('status', ['completed', 'cancelled', 'returned', 'refunded'])
          .count();
        const markets = await db('markets').whereIn('id', started.markets).whereNot('status', 'settled').count();
        const lotsOpen = lots.filter((l) => l.status !== 'sold' && l.status !== 'unsold').length;
        const renewed = await db('subscription_renewals')
          .whereIn('subscription_id', ids(started.subscriptions, 'subscriptionId'))
          .where({ period: 1, status: 'paid' })
          .count();
        const cancelled = await db('subscriptions')
          .whereIn(
            'id',
            ids(
              started.subscriptions.filter((x) => x.cancelled),
              'subscriptionId',
            ),
          )
          .where({ status: 'cancelled' })
          .count();
        const subscriptionsDone =
          Number(renewed[0].count) === started.subscriptions.length &&
          Number(cancelled[0].count) === started.subscriptions.filter((x) => x.cancelled).length;
        return (
          subscriptionsDone &&
          (await renewalsDone(db, renewing)) &&
          lotsOpen === 0 &&
          [topups, orders, markets].every((c) => Number(c[0].count) === 0)
        );
      },
      120_000,
    );
    // Pay out what the last settlements left, then wait for every payout to end.
    for (const sellerId of shop.sellers) await payoutRound(rr, sellerId, started).catch((err) => started.failures.push(String(err)));
    await until(
      'payouts to finish',
      async () =>
        Number(
          (await db('payouts').whereIn('id', ids(started.payouts, 'payoutId')).whereIn('status', ['pending', 'in_flight']).count())[0]
            .count,
        ) === 0,
      90_000,
    );
    for (const w of watchers) w.stop();

    for (const [i, f] of faults.entries()) {
      const from = runStart + f.atSeconds * 1000;
      const to = Math.min(from + f.tookMs + 5000, i + 1 < faults.length ? runStart + faults[i + 1].atSeconds * 1000 : Infinity);
      const window = rr.attempts.filter((a) => a.at >= from && a.at < to);
      f.answered = window.filter((a) => a.ok).length;
      f.refused = window.length - f.answered;
    }
    const verdict = await verify(db, started);
    const renewals = await verifyRenewals(db, renewing);
    for (const k of ['lost', 'doubled', 'money'] as const) verdict[k].push(...renewals[k]);
    const gaps = watchers.flatMap((w) => w.gaps());
    const checksBite = await canary(db, started);
    const result = {
      bench: 'cluster-soak',
      minutes,
      flows:
        started.topups.length +
        started.checkouts.length +
        started.subscriptions.length +
        renewing.length +
        started.payouts.length +
        started.markets.length +
        started.auctions.length,
      byFlow: {
        topups: started.topups.length,
        checkouts: started.checkouts.length,
        subscriptions: started.subscriptions.length,
        renewingSubscriptions: renewing.length,
        renewalsPaid: renewals.paid,
        payouts: started.payouts.length,
        markets: started.markets.length,
        auctions: started.auctions.length,
        marketOrders: started.marketOrders.length,
      },
      faults: faults.length,
      lost: verdict.lost.length,
      doubled: verdict.doubled.length,
      moneyProblems: verdict.money.length,
      wsGaps: gaps.length,
      wsReconnects: watchers.reduce((n, w) => n + w.reconnects, 0),
      wsServiceRestartCloses: watchers.reduce((n, w) => n + w.sessions.filter((x) => x.closeCode === SERVICE_RESTART).length, 0),
      wsFrames: watchers.reduce((n, w) => n + w.frames, 0),
      requests: { answered: rr.attempts.filter((a) => a.ok).length, refused: rr.attempts.filter((a) => !a.ok).length },
      serverErrors: rr.serverErrors.length,
      lateReturns: started.lateReturns,
      checksBite,
      faultWindows: faults,
      seconds: Math.round((Date.now() - startedAt) / 1000),
    };
    for (const line of [...verdict.lost, ...verdict.doubled, ...verdict.money, ...gaps, ...rr.serverErrors].slice(0, 40))
      log(`problem: ${line}`);
    await diagnose(fleet.cluster.address, [...verdict.lost, ...verdict.doubled]);
    console.log(JSON.stringify(result));
    return result.lost || result.doubled || result.moneyProblems || result.wsGaps || !checksBite ? 1 : 0;
  } finally {
    await temporal?.connection.close().catch(() => undefined);
    await fleet.teardown();
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
