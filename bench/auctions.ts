/**
 * Live-auction benchmark: the running system — Temporal dev server, a fresh Postgres database,
 * Redis, the worker (the lot's workflow owns its clock) in this process and the API in a child
 * process — with one hot lot, 200 funded bidders and 500 WebSocket watchers subscribed to it.
 *
 *   npm run bench:auctions -- [--paced-seconds=15] [--warmup-seconds=2] [--paced-rate=200]
 *                             [--sequential-seconds=4] [--seconds=3] [--rounds=3] [--jump=20]
 *                             [--feed=1] [--watchers-process=1]
 *
 * Every bidder bids the lot's next minimum as it last saw it plus a random
 * jump of 0 to --jump − 1 increments (default 20) and, refused with bid_too_low, tries again from the
 * minimum the refusal names (bench/support/lot-bidders.ts). With --jump=1 all bidders bid the same
 * minimum, and at most one bid per round trip can be accepted whatever the server does. What it
 * last saw: its own last answer and (--feed=1, default) the lot's feed on one more socket, as a
 * bidder watching the lot on a phone sees the price move before its own answer comes back. The 500
 * watchers run in a child process (--watchers-process=1, default: bench/auctions-watchers-process.ts)
 * so neither the watchers' frames nor the bidders' answers wait in the other's event loop; times
 * are compared on performance.timeOrigin + now().
 * Phase 1 (latency): bids paced at --paced-rate accepted bids a second, each by the next idle
 * bidder, for --paced-seconds after --warmup-seconds of the same (not counted; its slowest is
 * warmupLatencyMaxMs). Latency, per accepted bid: from its 2xx to the moment the last of the 500
 * watchers had an update showing it (its version, or a newer one); an update that arrives before
 * the 2xx counts as 0 ms.
 * Diagnostic (`oneAtATime`): for --sequential-seconds, one bid at a time, each bidder told the
 * minimum the previous answer gave — no race for the lot's row lock, so this is the speed of the bid
 * path and of the fan-out to 500 watchers on their own.
 * Phase 2 (throughput), unpaced: all 200 bidders bid as fast as they are answered, for --rounds
 * rounds of --seconds, alternated with rounds of plain one-row INSERT transactions from as many
 * connections as the API's pool on the same database (as bench/ledger.ts does); bidsPerSec and
 * rawInsertTxPerSec are the medians over rounds. Only accepted bids count; refusals are reported.
 *
 * The lot lasts an hour and bids rise by ₹1 whatever the price, so it neither closes nor runs
 * past the largest bid the API takes during the run.
 *
 * Prints one JSON line: {"bench":"auctions","bidsPerSec":…,"bidLatencyP50ms":…,"bidLatencyP99ms":…,
 * "watchers":500,"rawInsertTxPerSec":…,"ratio":…, …diagnostics}. The diagnostics include the cores
 * the API process, this process, the database's backends and the whole (shared) machine used in
 * each phase, and what the database's busy connections were doing (sampled pg_stat_activity).
 * BENCH_API_NODE_ARGS passes flags to the API process (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof").
 *
 * HTTP goes over a bare undici pool, not the typed client: the client's ~0.1 ms of CPU a call
 * (measured for bench:markets) would come out of the same two cores as the API under test.
 */
import { fork } from 'node:child_process';
import path from 'node:path';
import { Runtime, DefaultLogger } from '@temporalio/worker';
import { Pool } from 'undici';
import WebSocket from 'ws';
import { loadConfig } from '../app/config';
import { signToken } from '../api/auth';
import { freePort, startDevServer } from '../scripts/temporal-dev-server';
import { startBenchWorker } from './support/worker';
import { startApiProcess } from './support/api-process';
import { createBenchDatabase } from './support/database';
import { LotBidder, rejectedCount, type BidOutcome, type BidTally } from './support/lot-bidders';
import { watchLot, type LotWatchers } from './support/lot-watchers';
import { samplePgWaits } from './support/pg-waits';
import type { WatchersReport } from './auctions-watchers-process';
import { startCpuMeter, type CpuShares } from './support/process-cpu';
import { closedLoop, median, percentile, round } from './support/stats';
import { fundWallets } from './support/wallets';

const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
const BIDDERS = 200;
const WATCHERS = 500;
/**
 * The API process's Postgres pool; the raw INSERT baseline uses as many connections. Bids on one
 * lot queue on its row lock, so more connections would only add waiters — and the shared
 * Postgres allows 100 connections for everyone's tests and benches together.
 */
const API_POOL = 20;
const STARTING_PRICE = 100;

function arg(name: string, fallback: number): number {
  const hit = process.argv.find((a) => a.startsWith(`--${name}=`));
  return hit ? Number(hit.slice(name.length + 3)) : fallback;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const ms = (n: number) => round(n, 1);

/** The watchers, in this process or in their own (bench/auctions-watchers-process.ts); times on this process's performance.now(). */
interface Watching {
  /** Brings what the watchers have seen, up to version `upTo`, here. */
  refresh(upTo: number): Promise<void>;
  seenByAllAt(version: number): number | undefined;
  frames(): number;
  lost(): number;
  close(): void;
}

const inProcess = (w: LotWatchers): Watching => ({ ...w, refresh: async () => {} });

async function watchersProcess(wsUrl: string, lotId: string, n: number): Promise<Watching> {
  const child = fork(path.resolve(__dirname, 'auctions-watchers-process.ts'), [wsUrl, lotId, String(n)], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  await new Promise<void>((resolve, reject) => {
    child.once('message', (m) => (m === 'ready' ? resolve() : reject(new Error(`watchers process said ${JSON.stringify(m)}`))));
    child.once('exit', (code) => reject(new Error(`watchers process exited with ${code}`)));
  });
  let last: WatchersReport = { seenBy: [], seenByAllAt: [], frames: 0, lost: 0 };
  return {
    refresh: (upTo) =>
      new Promise<void>((resolve) => {
        child.once('message', (m) => {
          last = m as WatchersReport;
          resolve();
        });
        child.send({ op: 'report', upTo });
      }),
    seenByAllAt: (v) => {
      const at = last.seenByAllAt[v];
      return at === null || at === undefined ? undefined : at - performance.timeOrigin;
    },
    frames: () => last.frames,
    lost: () => last.lost,
    close: () => {
      if (child.connected) child.send({ op: 'close' });
      setTimeout(() => child.kill('SIGKILL'), 2_000).unref();
    },
  };
}

/** Waits until every watcher has seen each accepted bid's version (or `timeoutMs` passed); returns the latencies and how many never arrived. */
async function latenciesOf(watchers: Watching, outcomes: BidOutcome[], timeoutMs = 5_000) {
  const accepted = outcomes.filter((o) => o.accepted);
  const deadline = performance.now() + timeoutMs;
  const upTo = accepted.reduce((m, o) => Math.max(m, o.version), 0);
  await watchers.refresh(upTo);
  while (accepted.some((o) => watchers.seenByAllAt(o.version) === undefined) && performance.now() < deadline) {
    await sleep(20);
    await watchers.refresh(upTo);
  }
  const latencies: number[] = [];
  let undelivered = 0;
  for (const o of accepted) {
    const seen = watchers.seenByAllAt(o.version);
    if (seen === undefined) undelivered++;
    else latencies.push(Math.max(0, seen - o.acceptedAt));
  }
  return { latencies, undelivered, roundTrips: accepted.map((o) => o.roundTripMs) };
}

/** The lot's next minimum as its feed last showed it: what every bidder of a hot lot has on screen. */
interface Screen {
  minimum: number;
}

const MINIMUM_KEY = Buffer.from('"nextMinimum":');

/** One more socket on the lot, read for its next minimum (the bidders watch the lot they bid on). */
function watchMinimum(wsUrl: string, lotId: string, cleanups: Array<() => void>): Promise<Screen> {
  const screen: Screen = { minimum: 0 };
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(wsUrl);
    cleanups.push(() => ws.terminate());
    ws.on('message', (data: Buffer) => {
      const at = data.indexOf(MINIMUM_KEY);
      if (at < 0) return;
      let v = 0;
      let i = at + MINIMUM_KEY.length;
      for (; i < data.length && data[i] >= 48 && data[i] <= 57; i++) v = v * 10 + (data[i] - 48);
      if (i > at + MINIMUM_KEY.length && v > screen.minimum) screen.minimum = v;
      resolve(screen);
    });
    ws.once('open', () => ws.send(JSON.stringify({ op: 'subscribe', lot: lotId })));
    ws.once('error', reject);
  });
}

/** Before each bid the bidder looks at the screen: it bids from the higher of its own last answer's minimum and the feed's. */
function bidOnce(b: LotBidder, screen: Screen | null, attempts = 1) {
  if (screen && screen.minimum > b.lastSeenMinimum) b.sees(screen.minimum);
  return b.bidOnce(attempts);
}

/** As LotBidder#bidUntilAccepted, looking at the screen before every try. */
async function bidUntilAccepted(b: LotBidder, screen: Screen | null, maxAttempts = 20): Promise<BidOutcome> {
  for (let attempts = 1; attempts <= maxAttempts; attempts++) {
    const r = await bidOnce(b, screen, attempts);
    if (typeof r === 'object') return r;
    if (r === 'refused') return { accepted: false, version: -1, acceptedAt: NaN, roundTripMs: NaN, attempts };
  }
  return { accepted: false, version: -1, acceptedAt: NaN, roundTripMs: NaN, attempts: maxAttempts };
}

/** Bids at `rate` accepted bids a second: each tick the next idle bidder bids until accepted. */
async function pacedBids(bidders: LotBidder[], rate: number, durationMs: number, screen: Screen | null): Promise<BidOutcome[]> {
  const outcomes: BidOutcome[] = [];
  const busy = new Set<number>();
  const inflight = new Set<Promise<void>>();
  const end = performance.now() + durationMs;
  let next = performance.now();
  let turn = 0;
  while (performance.now() < end) {
    next += 1000 / rate;
    for (let tries = 0; tries < bidders.length && busy.has(turn % bidders.length); tries++) turn++;
    const b = turn++ % bidders.length;
    if (!busy.has(b)) {
      busy.add(b);
      const p: Promise<void> = bidUntilAccepted(bidders[b], screen)
        .then((o) => void outcomes.push(o))
        .finally(() => {
          busy.delete(b);
          inflight.delete(p);
        });
      inflight.add(p);
    }
    const wait = next - performance.now();
    if (wait > 0) await sleep(wait);
  }
  await Promise.all(inflight);
  return outcomes;
}

/**
 * One bid at a time, each by the next bidder told the minimum the last answer gave: no two bids
 * race, so this is the bid path's and the fan-out's own speed, without the lock queue.
 */
async function sequentialBids(bidders: LotBidder[], durationMs: number): Promise<{ outcomes: BidOutcome[]; seconds: number }> {
  const outcomes: BidOutcome[] = [];
  const started = performance.now();
  let minimum = bidders[0].lastSeenMinimum;
  for (let i = 0; performance.now() < started + durationMs; i++) {
    const b = bidders[i % bidders.length];
    b.sees(minimum);
    const r = await b.bidOnce();
    if (typeof r === 'object') outcomes.push(r);
    minimum = b.lastSeenMinimum;
  }
  return { outcomes, seconds: (performance.now() - started) / 1000 };
}

/** Every bidder bids as fast as it is answered; returns the accepted bids and the round's length. */
async function unpacedBids(
  bidders: LotBidder[],
  durationMs: number,
  screen: Screen | null,
): Promise<{ outcomes: BidOutcome[]; seconds: number }> {
  const outcomes: BidOutcome[] = [];
  const started = performance.now();
  const end = started + durationMs;
  await Promise.all(
    bidders.map(async (b) => {
      while (performance.now() < end) {
        const r = await bidOnce(b, screen);
        if (typeof r === 'object') outcomes.push(r);
        // Refused for something other than the price (it already leads at its maximum): it waits a moment.
        else if (r === 'refused') await sleep(5);
      }
    }),
  );
  return { outcomes, seconds: (performance.now() - started) / 1000 };
}

const averageOf = <T extends Record<string, number>>(rows: T[]): Record<string, number> => {
  const keys = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  return Object.fromEntries(keys.map((k) => [k, round(rows.reduce((s, r) => s + (r[k] ?? 0), 0) / rows.length)]));
};

async function main(): Promise<void> {
  const pacedSeconds = arg('paced-seconds', 15);
  const warmupSeconds = arg('warmup-seconds', 2);
  const pacedRate = arg('paced-rate', 200);
  const roundSeconds = arg('seconds', 3);
  const rounds = arg('rounds', 3);
  const sequentialSeconds = arg('sequential-seconds', 4);
  const jumpSteps = arg('jump', 20);
  // 1: the bidders also see the lot's feed (its next minimum) before each bid, as on a phone; 0: only their own answers.
  const feed = arg('feed', 1) === 1;
  // 1: the watchers run in a process of their own (the bench does not time its own client's event loop); 0: in this one.
  const ownProcess = arg('watchers-process', 1) === 1;
  const cleanups: Array<() => Promise<void> | void> = [];
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  // The dev server starts while the scratch database is created and migrated.
  const devStarting = freePort().then((port) => startDevServer({ port, headless: true }));
  // This process's pool serves the worker and the raw INSERT baseline (API_POOL clients at once).
  const bench = await createBenchDatabase('auctions', API_POOL + 2);
  const db = bench.db;
  try {
    const dev = await devStarting;
    cleanups.push(() => dev.stop());
    const taskQueue = `bench-auctions-${process.pid}`;
    await startBenchWorker({ db, address: dev.address, taskQueue, redisUrl: REDIS_URL, cleanups });
    const api = await startApiProcess(path.resolve(__dirname, 'auctions-api-process.ts'), {
      DATABASE_URL: bench.url,
      REDIS_URL,
      TEMPORAL_ADDRESS: dev.address,
      TEMPORAL_TASK_QUEUE: taskQueue,
      BENCH_API_POOL: String(API_POOL),
      // 200 bidders on one address: neither the per-user nor the per-address limit may shape the load.
      RATE_LIMIT_PER_MINUTE: '1000000',
      RATE_LIMIT_PER_IP_PER_MINUTE: '100000000',
      // ₹1 steps at every price: tens of thousands of bids stay far below the largest bid accepted.
      AUCTION_INCREMENTS: JSON.stringify([{ below: null, step: 100 }]),
    });
    cleanups.push(() => api.kill());
    const pool = new Pool(api.url, { connections: BIDDERS + 8 });
    cleanups.push(() => pool.close());

    // The seller's lot: one product, an hour long.
    const secret = loadConfig({ NODE_ENV: 'test' }).JWT_SECRET;
    const sellerId = `bench_seller_${process.pid}`;
    await db('sellers').insert({ id: sellerId, name: 'Bench seller', commission_bps: 1000, bank_account_ref: 'ok' });
    const productId = `bench_product_${process.pid}`;
    await db('products').insert({ id: productId, seller_id: sellerId, name: 'Bench lot', price: 10_000, stock: 10 });
    const created = await pool.request({
      path: '/v1/auctions',
      method: 'POST',
      headers: {
        // A development token naming the seller acts for it.
        authorization: `Bearer ${signToken(secret, { userId: sellerId, roles: ['seller'] })}`,
        'content-type': 'application/json',
        'idempotency-key': `bench-lot-${process.pid}`,
      },
      body: JSON.stringify({
        sellerId,
        productId,
        startingPrice: STARTING_PRICE,
        durationSeconds: 3600,
        startsAt: new Date(Date.now() + 300).toISOString(),
      }),
    });
    const lot = (await created.body.json()) as any;
    if (created.statusCode !== 201) throw new Error(`create lot answered ${created.statusCode}: ${JSON.stringify(lot)}`);
    const lotId: string = lot.lotId;
    for (let t = performance.now(); (await db('auction_lots').where({ id: lotId }).first('status')).status !== 'open'; await sleep(50))
      if (performance.now() - t > 30_000) throw new Error(`lot ${lotId} did not open`);

    const bidderIds = Array.from({ length: BIDDERS }, (_, i) => `bench_bidder${i}`);
    await fundWallets(db, bidderIds);
    const tally: BidTally = { accepted: 0, rejected: {} };
    const bidPath = `/v1/auctions/${lotId}/bids`;
    const bidders = bidderIds.map(
      (id, i) =>
        new LotBidder(pool, bidPath, signToken(secret, { userId: id, roles: ['customer'] }), `k${i}`, STARTING_PRICE, tally, jumpSteps),
    );
    const wsUrl = `${api.url.replace(/^http/, 'ws')}/v1/ws`;
    const watchers = ownProcess ? await watchersProcess(wsUrl, lotId, WATCHERS) : inProcess(await watchLot(wsUrl, lotId, WATCHERS));
    cleanups.push(() => watchers.close());
    const screen = feed ? await watchMinimum(wsUrl, lotId, cleanups) : null;
    console.error(`lot ${lotId} open, ${WATCHERS} watchers subscribed`);

    // Phase 1: paced bids — a warm-up (JIT, pools, plans; not counted), then the measured run.
    const warmup = await latenciesOf(watchers, await pacedBids(bidders, pacedRate, warmupSeconds * 1000, screen));
    const pacedBefore = { accepted: tally.accepted, rejected: rejectedCount(tally), byCode: { ...tally.rejected } };
    const pacedCpu = await startCpuMeter(db, api.pid);
    const pacedWaits = samplePgWaits(db);
    await watchers.refresh(0);
    const pacedFrames0 = watchers.frames();
    const pacedOutcomes = await pacedBids(bidders, pacedRate, pacedSeconds * 1000, screen);
    const pacedShares = await pacedCpu();
    await watchers.refresh(0);
    const pacedFramesPerSec = (watchers.frames() - pacedFrames0) / pacedSeconds;
    const pacedPg = await pacedWaits();
    const pacedAccepted = tally.accepted - pacedBefore.accepted;
    const pacedRejected = rejectedCount(tally) - pacedBefore.rejected;
    const paced = await latenciesOf(watchers, pacedOutcomes);
    console.error(
      `paced: ${pacedAccepted} accepted, ${pacedRejected} refused; cpu ${JSON.stringify(pacedShares)}; pg ${JSON.stringify(pacedPg)}`,
    );

    // Diagnostic: the same lot bid on one bid at a time (no lock queue), for the bid path's own speed and fan-out.
    const highest = bidders.reduce((m, b) => Math.max(m, b.lastSeenMinimum), 0);
    bidders[0].sees(highest);
    const seqCpu = await startCpuMeter(db, api.pid);
    await watchers.refresh(0);
    const seqFrames0 = watchers.frames();
    const seqRun = await sequentialBids(bidders, sequentialSeconds * 1000);
    const seqShares = await seqCpu();
    await watchers.refresh(0);
    const seqFramesPerSec = (watchers.frames() - seqFrames0) / seqRun.seconds;
    const sequential = await latenciesOf(watchers, seqRun.outcomes);
    console.error(`one at a time: ${Math.round(seqRun.outcomes.length / seqRun.seconds)} bids/s; cpu ${JSON.stringify(seqShares)}`);

    // Phase 2: unpaced bids, alternated with the raw INSERT baseline round by round.
    await db.raw(`CREATE TABLE bench_raw (id bigserial PRIMARY KEY, v bigint NOT NULL)`);
    const rawOp = async (_c: number, i: number) => {
      await db.raw('INSERT INTO bench_raw (v) VALUES (?)', [i]);
    };
    await closedLoop(API_POOL, 1, rawOp); // warm-up
    const unpacedBefore = { accepted: tally.accepted, rejected: rejectedCount(tally) };
    const rawRates: number[] = [];
    const bidRates: number[] = [];
    const answeredRates: number[] = [];
    const unpacedOutcomes: BidOutcome[] = [];
    const unpacedShares: CpuShares[] = [];
    const unpacedPg: Array<Record<string, number>> = [];
    for (let r = 0; r < rounds; r++) {
      rawRates.push((await closedLoop(API_POOL, roundSeconds, rawOp)).perSec);
      const cpu = await startCpuMeter(db, api.pid);
      const waits = samplePgWaits(db);
      const answeredBefore = tally.accepted + rejectedCount(tally);
      const { outcomes, seconds } = await unpacedBids(bidders, roundSeconds * 1000, screen);
      answeredRates.push((tally.accepted + rejectedCount(tally) - answeredBefore) / seconds);
      unpacedShares.push(await cpu());
      unpacedPg.push(await waits());
      bidRates.push(outcomes.length / seconds);
      unpacedOutcomes.push(...outcomes);
      console.error(
        `round ${r + 1}: raw ${Math.round(rawRates[r])} tx/s, bids ${Math.round(bidRates[r])}/s; cpu ${JSON.stringify(unpacedShares[r])}`,
      );
    }
    const unpacedRejected = rejectedCount(tally) - unpacedBefore.rejected;
    const unpaced = await latenciesOf(watchers, unpacedOutcomes);

    // The lot must still be open, and hold exactly the bids the bidders were told were accepted.
    const row = await db('auction_lots').where({ id: lotId }).first('status', 'bid_count', 'price');
    if (row.status !== 'open') throw new Error(`lot ${lotId} is ${row.status}: it closed during the run`);
    if (row.bid_count !== tally.accepted) throw new Error(`lot ${lotId} has ${row.bid_count} bids, bidders were told ${tally.accepted}`);

    const bidsPerSec = median(bidRates);
    const rawInsertTxPerSec = median(rawRates);
    console.log(
      JSON.stringify({
        bench: 'auctions',
        bidsPerSec: Math.round(bidsPerSec),
        bidLatencyP50ms: ms(percentile(paced.latencies, 50)),
        bidLatencyP99ms: ms(percentile(paced.latencies, 99)),
        watchers: WATCHERS,
        rawInsertTxPerSec: Math.round(rawInsertTxPerSec),
        // Four places: far below target the ratio would otherwise print as 0.
        ratio: round(bidsPerSec / rawInsertTxPerSec, 4),
        // Every bid the rules answered (accepted, or refused as too low by then): the intake's own rate.
        answeredPerSec: Math.round(median(answeredRates)),
        answeredRatio: round(median(answeredRates) / rawInsertTxPerSec, 3),
        jump: jumpSteps,
        feed,
        watchersProcess: ownProcess,
        bidders: BIDDERS,
        pacedRate,
        pacedBidsPerSec: Math.round(pacedAccepted / pacedSeconds),
        pacedFramesPerSec: Math.round(pacedFramesPerSec),
        pacedBids: paced.latencies.length,
        pacedRejected,
        pacedAttemptsPerAcceptedBid: round((pacedAccepted + pacedRejected) / Math.max(1, pacedAccepted), 1),
        bidLatencyMaxMs: ms(Math.max(...paced.latencies)),
        pacedRoundTripP50ms: ms(percentile(paced.roundTrips, 50)),
        pacedRoundTripP99ms: ms(percentile(paced.roundTrips, 99)),
        undelivered: paced.undelivered + unpaced.undelivered,
        lostWatchers: watchers.lost(),
        warmupLatencyMaxMs: ms(Math.max(...warmup.latencies)),
        rejected: unpacedRejected,
        unpacedAttemptsPerAcceptedBid: round((unpacedOutcomes.length + unpacedRejected) / Math.max(1, unpacedOutcomes.length), 1),
        rejectedByCode: tally.rejected,
        oneAtATime: {
          bidsPerSec: Math.round(seqRun.outcomes.length / seqRun.seconds),
          latencyP50ms: ms(percentile(sequential.latencies, 50)),
          latencyP99ms: ms(percentile(sequential.latencies, 99)),
          roundTripP50ms: ms(percentile(sequential.roundTrips, 50)),
          roundTripP99ms: ms(percentile(sequential.roundTrips, 99)),
          framesPerSec: Math.round(seqFramesPerSec),
          cores: seqShares,
        },
        unpacedLatencyP50ms: ms(percentile(unpaced.latencies, 50)),
        unpacedLatencyP99ms: ms(percentile(unpaced.latencies, 99)),
        unpacedRoundTripP50ms: ms(percentile(unpaced.roundTrips, 50)),
        unpacedRoundTripP99ms: ms(percentile(unpaced.roundTrips, 99)),
        cores: { paced: pacedShares, unpaced: averageOf(unpacedShares as unknown as Array<Record<string, number>>) },
        pgBusy: { paced: pacedPg, unpaced: averageOf(unpacedPg) },
        apiPool: API_POOL,
        rounds,
        roundSeconds,
        finalPrice: Number(row.price),
      }),
    );
  } finally {
    for (const c of cleanups.reverse()) {
      try {
        await c();
      } catch {
        // best effort
      }
    }
    await bench.drop();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
