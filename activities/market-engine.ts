import { Context } from '@temporalio/activity';
import { claimEngine, commitBatch, loadOpenOrders, marketStatus, readPending } from '../db/market-engine-store';
import { MarketMatcher, type BatchResult, type PendingCommand } from '../domain/market/batch';
import { FEED_DEPTH, marketUserChannel, marketWakeChannel, viewFromSnapshot, type TradeView } from '../domain/market/feed';
import type { PubSub } from '../infra/pubsub';
import type { ActivityDeps } from './deps';
import { ConflatingFeed } from './market-feed';
import type { EngineInput, EngineResult } from '../contracts/market';

const DEFAULT_BATCH = 1000;
const DEFAULT_IDLE_POLL_MS = 25;

/**
 * The market's single-threaded matching engine, as a long-running heartbeating activity.
 * Start: bump the epoch (fencing out any older instance), rebuild the book from the open orders.
 * Loop: read queued commands in order, match in memory, commit everything for the batch in one
 * transaction with the epoch check, then publish. Stops when the market is no longer open and the
 * queue is empty (drained), or when cancelled (after the batch in hand). If the worker dies, the
 * heartbeat times out and Temporal runs it again elsewhere, which resumes from the database.
 */
export function createMarketEngineActivities({ db, pubsub, logger }: ActivityDeps) {
  return {
    async runMarketEngine(input: EngineInput): Promise<EngineResult> {
      const ctx = Context.current();
      const { marketId } = input;
      const batchSize = input.batchSize ?? DEFAULT_BATCH;
      const idlePollMs = input.idlePollMs ?? DEFAULT_IDLE_POLL_MS;

      const claim = await claimEngine(db, marketId);
      const matcher = new MarketMatcher(marketId, claim.feeBps);
      matcher.restore(await loadOpenOrders(db, marketId), claim.lastBookSeq);
      const log = logger.child({ marketId, epoch: claim.epoch });
      log.info({ openOrders: matcher.openOrderCount, attempt: ctx.info.attempt }, 'market engine started');

      let lastPrice = claim.lastPrice;
      let volume = claim.volume;
      let processed = 0;
      let cancelled = false;
      let wake: () => void = () => {};
      // Set by a wake-up that arrives while a read or commit is in flight, so it is not lost: the
      // order it announces may have committed just after that read.
      let woken = false;
      const feed = new ConflatingFeed(pubsub, marketId, (err) => log.warn({ err }, 'feed publish failed'));
      const unsubscribe = await pubsub.subscribe(marketWakeChannel(marketId), () => {
        woken = true;
        wake();
      });
      ctx.cancelled.catch(() => {
        cancelled = true;
        wake();
      });
      // Publish the restored book so watchers converge after a restart.
      feed.offer(viewFromSnapshot(matcher.book.snapshot(FEED_DEPTH), claim.version, lastPrice, volume), []);

      try {
        let commands: PendingCommand[] | null = null;
        for (;;) {
          ctx.heartbeat({ epoch: claim.epoch, processed });
          if (commands === null || commands.length === 0) {
            woken = false;
            commands = await readPending(db, marketId, batchSize);
          }
          if (commands.length === 0) {
            if (cancelled) break;
            // Drained: the market stopped taking orders and everything accepted before has been matched.
            if ((await marketStatus(db, marketId)) !== 'open' && (await readPending(db, marketId, 1)).length === 0) break;
            if (woken) continue;
            await new Promise<void>((resolve) => {
              const timer = setTimeout(resolve, idlePollMs);
              wake = () => {
                clearTimeout(timer);
                resolve();
              };
            });
            wake = () => {};
            continue;
          }
          const batch = matcher.process(commands);
          // A failure here leaves the in-memory book ahead of the database: fail the attempt and
          // let the retry rebuild from the committed state.
          woken = false;
          const committed = await commitBatch(db, marketId, claim.epoch, batch, batchSize);
          processed += commands.length;
          commands = committed.next;
          if (batch.lastPrice !== null) lastPrice = batch.lastPrice;
          volume += batch.volume;
          feed.offer(viewFromSnapshot(matcher.book.snapshot(FEED_DEPTH), committed.version, lastPrice, volume), tradesOf(batch));
          publishUserEvents(pubsub, marketId, committed.version, batch).catch((err) => log.warn({ err }, 'user event publish failed'));
        }
      } finally {
        feed.close();
        await unsubscribe();
      }
      log.info({ processed }, 'market engine stopped');
      return { epoch: claim.epoch, processed };
    },
  };
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
