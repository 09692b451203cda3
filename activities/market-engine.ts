import { CancelledFailure, Context } from '@temporalio/activity';
import { ENGINE_RUNNING_STATUSES, type EngineInput, type EngineResult, type MarketStatus } from '../contracts/market';
import { MarketEngineStore, claimEngine, freshFeedView, loadOpenOrders, watchMarkets } from '../db/market-engine-store';
import type { Db } from '../db/knex';
import { MarketMatcher, type BatchResult, type PendingCommand } from '../domain/market/batch';
import {
  ENGINE_WAKE_CHECK_STATUS,
  FEED_DEPTH,
  marketUserChannel,
  marketWakeChannel,
  viewFromSnapshot,
  type TradeView,
} from '../domain/market/feed';
import type { PubSub } from '../infra/pubsub';
import type { ActivityDeps } from './deps';
import { ConflatingFeed } from './market-feed';

const DEFAULT_BATCH = 1000;
/** The fallback look at Postgres for engines that got no wake-up: never more often than this. */
export const MIN_FALLBACK_POLL_MS = 1000;

export interface MarketEngineOptions {
  /**
   * How often this process's engines look at Postgres for orders whose wake-up was lost (one
   * statement for all of them); at least MIN_FALLBACK_POLL_MS. A lost wake-up delays an order by
   * at most this long.
   */
  fallbackPollMs?: number;
  /** The engines' shared reads and group commits (tests pass their own to look at its stats). */
  store?: MarketEngineStore;
}

/**
 * The market's single-threaded matching engine, as a long-running heartbeating activity.
 * Start: bump the epoch (fencing out any older instance), rebuild the book from the open orders.
 * It may start before the market opens (status scheduled) and then waits, book rebuilt, for the
 * first order. Loop: read queued commands in order, match in memory, commit everything for the
 * batch in one transaction with the epoch check, then publish. The engines of one process read and
 * commit through one MarketEngineStore: the reads of engines woken together go in one statement,
 * and the batches ready together commit in one transaction (each fenced by its own epoch, and a
 * failing one fails alone), so a hundred busy markets cost Postgres a few statements a round. Good-till-date orders are expired
 * by a timer set to the earliest expiry in the book (a batch of its own, holds released); after a
 * restart the first batch expires whatever came due meanwhile.
 *
 * Idle, an engine costs Postgres nothing of its own: it reads only when woken — by the API's
 * wake-up on Redis after each accepted order, or by this process's shared watch (EngineWatch),
 * which looks at every market it runs in one statement a second and wakes the engines with queued
 * commands. The accepted orders in Postgres stay the truth; the wake-up only makes them fast.
 * Heartbeats go to Temporal on a timer, not through the database.
 *
 * Stops when the market is no longer trading and the queue is empty (drained), or when the
 * workflow cancels it (after draining). On any other cancellation (worker shutting down, heartbeat
 * timed out) it fails after the batch in hand, so Temporal runs it again elsewhere, which resumes
 * from the database.
 */
export function createMarketEngineActivities({ db, pubsub, logger }: ActivityDeps, options: MarketEngineOptions = {}) {
  // This process's engines read their queues and commit their batches together (group commit).
  const store = options.store ?? new MarketEngineStore(db);
  const watch = new EngineWatch(db, Math.max(MIN_FALLBACK_POLL_MS, options.fallbackPollMs ?? MIN_FALLBACK_POLL_MS), (err) =>
    logger.warn({ err }, 'market engine watch failed'),
  );
  return {
    async runMarketEngine(input: EngineInput): Promise<EngineResult> {
      const ctx = Context.current();
      const { marketId } = input;
      const batchSize = input.batchSize ?? DEFAULT_BATCH;

      const claim = await claimEngine(db, marketId);
      const matcher = new MarketMatcher(marketId, claim.feeBps);
      matcher.restore(await loadOpenOrders(db, marketId), claim.lastBookSeq);
      warmUpMatcher();
      const log = logger.child({ marketId, epoch: claim.epoch });
      log.info({ openOrders: matcher.openOrderCount, attempt: ctx.info.attempt }, 'market engine started');

      let lastPrice = claim.lastPrice;
      let volume = claim.volume;
      let suspended = claim.suspended;
      let processed = 0;
      // Something may be queued: read before waiting. Set at start, by a wake-up, by the watch
      // seeing queued commands — also while a read or commit is in flight, so no wake-up is lost:
      // the order it announces may have committed just after that read.
      let readWanted = true;
      // A good-till-date order's expiry has come (or may have, after a restart): run a batch for it.
      let expiryDue = true;
      let expiryTimer: NodeJS.Timeout | null = null;
      // The watch saw the market stopped trading with nothing queued: intake is closed (it locks
      // the market row), so nothing will ever be queued again.
      let drained = false;
      let cancelReason: string | null = null;
      let wake: () => void = () => {};
      // A view superseded on the feed (a suspension's went out first) hands its trades to a fresh one.
      const feed = new ConflatingFeed(
        pubsub,
        marketId,
        (err) => log.warn({ err }, 'feed publish failed'),
        () => freshFeedView(db, marketId),
      );
      const onReading = ({ status, pending }: MarketReading) => {
        if (pending) readWanted = true;
        else if (!ENGINE_RUNNING_STATUSES.includes(status)) drained = true;
        if (pending || drained) wake();
      };
      const unsubscribe = await pubsub.subscribe(marketWakeChannel(marketId), (message) => {
        readWanted = true;
        // The close asks for a look at the market now, so the engine stops at once rather than
        // at the watch's next round.
        if (message === ENGINE_WAKE_CHECK_STATUS)
          watchMarkets(db, [marketId]).then(
            (rs) => rs.forEach(onReading),
            (err) => log.warn({ err }, 'market status read failed'),
          );
        wake();
      });
      const unwatch = watch.add(marketId, onReading);
      ctx.cancelled.catch((err: unknown) => {
        cancelReason = err instanceof CancelledFailure ? err.message : 'CANCELLED';
        readWanted = true;
        wake();
      });
      const scheduleExpiry = () => {
        if (expiryTimer) clearTimeout(expiryTimer);
        expiryTimer = null;
        const next = matcher.nextExpiry();
        if (next === null) return;
        // Capped so a far-off expiry re-arms rather than overflowing setTimeout.
        expiryTimer = setTimeout(
          () => {
            expiryDue = true;
            wake();
          },
          Math.min(Math.max(0, next - Date.now()), 60_000),
        );
      };
      const heartbeat = () => ctx.heartbeat({ epoch: claim.epoch, processed });
      heartbeat();
      const heartbeats = setInterval(heartbeat, heartbeatEveryMs(ctx.info.heartbeatTimeoutMs));
      // Publish the restored book so watchers converge after a restart.
      feed.offer(viewFromSnapshot(matcher.book.snapshot(FEED_DEPTH), claim.version, lastPrice, volume, suspended), []);

      try {
        let commands: PendingCommand[] = [];
        for (;;) {
          if (cancelReason !== null && cancelReason !== 'CANCELLED') throw new CancelledFailure(cancelReason);
          if (commands.length === 0 && readWanted) {
            readWanted = false;
            commands = await store.readPending(marketId, batchSize);
          }
          if (commands.length === 0 && !expiryDue) {
            if (readWanted) continue;
            if (cancelReason !== null || drained) break;
            await new Promise<void>((resolve) => (wake = resolve));
            wake = () => {};
            continue;
          }
          expiryDue = false;
          const batch = matcher.process(commands, Date.now());
          if (commands.length === 0 && batch.orders.length === 0) {
            scheduleExpiry(); // the timer fired early (capped): nothing expired yet
            continue;
          }
          // A failure here leaves the in-memory book ahead of the database: fail the attempt and
          // let the retry rebuild from the committed state.
          const committed = await store.commit(marketId, claim.epoch, batch, batchSize);
          processed += commands.length;
          commands = committed.next;
          suspended = committed.suspended;
          if (batch.lastPrice !== null) lastPrice = batch.lastPrice;
          volume += batch.volume;
          scheduleExpiry();
          feed.offer(viewFromSnapshot(matcher.book.snapshot(FEED_DEPTH), committed.version, lastPrice, volume, suspended), tradesOf(batch));
          publishUserEvents(pubsub, marketId, committed.version, batch).catch((err) => log.warn({ err }, 'user event publish failed'));
        }
      } finally {
        if (expiryTimer) clearTimeout(expiryTimer);
        clearInterval(heartbeats);
        unwatch();
        // The last trades are out before the workflow's next step (a close's empty book) publishes.
        await feed.close();
        await unsubscribe();
      }
      log.info({ processed }, 'market engine stopped');
      return { epoch: claim.epoch, processed };
    },
  };
}

/**
 * Heartbeats often enough for the timeout (the SDK sends at most one every 0.8 × timeout and
 * holds the rest), and no more: an idle engine's only work is this timer.
 */
function heartbeatEveryMs(heartbeatTimeoutMs: number | undefined): number {
  return heartbeatTimeoutMs ? Math.max(250, Math.floor(heartbeatTimeoutMs / 2)) : 10_000;
}

export interface MarketReading {
  status: MarketStatus;
  /** Commands are queued for the engine. */
  pending: boolean;
}

/**
 * The fallback for lost wake-ups, shared by every engine of one worker process: one statement
 * every `intervalMs` over all the markets they run (its status and whether anything is queued, in
 * one snapshot), whatever their number — so a hundred idle markets cost one transaction a second,
 * not a hundred. It runs only while an engine is registered, and never overlaps itself.
 */
export class EngineWatch {
  private readonly listeners = new Map<string, Set<(reading: MarketReading) => void>>();
  private timer: NodeJS.Timeout | null = null;
  private polling = false;

  constructor(
    private readonly db: Db,
    private readonly intervalMs: number,
    private readonly onError: (err: unknown) => void,
  ) {}

  /** Calls `listener` with each reading of the market; returns the function that stops it. */
  add(marketId: string, listener: (reading: MarketReading) => void): () => void {
    let set = this.listeners.get(marketId);
    if (!set) this.listeners.set(marketId, (set = new Set()));
    set.add(listener);
    this.schedule();
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.listeners.get(marketId) === set) this.listeners.delete(marketId);
      if (this.listeners.size === 0 && this.timer) {
        clearTimeout(this.timer);
        this.timer = null;
      }
    };
  }

  private schedule(): void {
    if (this.timer || this.polling || this.listeners.size === 0) return;
    this.timer = setTimeout(() => void this.poll(), this.intervalMs);
  }

  private async poll(): Promise<void> {
    this.timer = null;
    this.polling = true;
    try {
      const readings = await watchMarkets(this.db, [...this.listeners.keys()]);
      for (const r of readings) for (const listener of this.listeners.get(r.marketId) ?? []) listener(r);
    } catch (err) {
      this.onError(err);
    } finally {
      this.polling = false;
      this.schedule();
    }
  }
}

let matcherWarm = false;
/**
 * Runs the matching code once over a scratch book, so the first real order of the process's
 * first market is matched by optimised code, as the thousandth is. Touches nothing outside.
 */
function warmUpMatcher(): void {
  if (matcherWarm) return;
  matcherWarm = true;
  const scratch = new MarketMatcher('warm-up', 200);
  for (let b = 0; b < 20; b++) {
    scratch.process(
      Array.from({ length: 50 }, (_, j): PendingCommand => {
        const i = b * 50 + j;
        return {
          orderId: `w${i}`,
          userId: `w${i % 7}`,
          side: i % 2 === 0 ? 'YES' : 'NO',
          action: 'BUY',
          price: 350 + 50 * (i % 7),
          quantity: 1 + (i % 5),
          tif: i % 9 === 0 ? 'IOC' : 'GTC',
          seenPrice: null,
          slippageBps: 500,
          pendingSeq: i + 1,
          status: 'accepted',
          cancelRequested: false,
          holdId: i + 1,
          holdRemaining: 1_000_000,
        };
      }),
    );
  }
}

function tradesOf(batch: BatchResult): TradeView[] {
  return batch.fills.map((f) => ({
    yesPrice: f.fill.yesPrice,
    quantity: f.fill.quantity,
    kind: f.fill.kind,
    takerSide: f.fill.takerSide,
    takerAction: f.fill.takerAction,
  }));
}

/** Each user's own order changes and fills of the batch, one message per user (after commit). */
async function publishUserEvents(pubsub: PubSub, marketId: string, version: number, batch: BatchResult): Promise<void> {
  const perUser = new Map<string, { orders: unknown[]; fills: unknown[] }>();
  const forUser = (userId: string) => {
    let e = perUser.get(userId);
    if (!e) perUser.set(userId, (e = { orders: [], fills: [] }));
    return e;
  };
  for (const o of batch.orders) {
    forUser(o.userId).orders.push({
      orderId: o.orderId,
      status: o.status,
      side: o.side,
      action: o.action,
      quantity: o.quantity,
      filledQty: o.filledQty,
      remaining: o.remaining,
      cancelledQty: o.cancelledQty,
      rejectReason: o.rejectReason,
      currentPrice: o.currentPrice,
    });
  }
  for (const f of batch.fills) {
    const common = { yesPrice: f.fill.yesPrice, quantity: f.fill.quantity, kind: f.fill.kind };
    forUser(f.fill.takerUserId).fills.push({
      ...common,
      orderId: f.fill.takerOrderId,
      role: 'taker',
      side: f.fill.takerSide,
      action: f.fill.takerAction,
      price: f.fill.takerPrice,
      fee: f.takerFee,
    });
    forUser(f.fill.makerUserId).fills.push({
      ...common,
      orderId: f.fill.makerOrderId,
      role: 'maker',
      side: f.fill.makerSide,
      action: f.fill.makerAction,
      price: f.fill.makerPrice,
      fee: f.makerFee,
    });
  }
  await Promise.all(
    [...perUser.entries()].map(([userId, e]) => pubsub.publish(marketUserChannel(userId), { type: 'orders', marketId, version, ...e })),
  );
}

export type MarketEngineActivities = ReturnType<typeof createMarketEngineActivities>;
