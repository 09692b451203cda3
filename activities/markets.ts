import { Context } from '@temporalio/activity';
import {
  cancelLiveOrders,
  closeMarket,
  finishMarket,
  fundVoidRefunds,
  markVoidStarted,
  openMarket,
  raiseMarketAlert,
  recordResolution,
  refundBatch,
  settleBatch,
} from '../db/market-lifecycle';
import { bumpFeedVersion } from '../db/market-engine-store';
import type { MarketOutcome, ResolveMarket } from '../contracts/market';
import { ENGINE_WAKE_CHECK_STATUS, marketView, marketWakeChannel, type FeedMessage } from '../domain/market/feed';
import { publishMarketFeed } from './market-feed';
import { createMarketSuspensionActivities } from './market-suspension';
import type { ActivityDeps } from './deps';

const SETTLE_BATCH = 500;

/** Lifecycle steps of a market; each is a guarded state change or keyed payment, safe to repeat. */
export function createMarketActivities(deps: ActivityDeps) {
  const { db, pubsub, logger } = deps;
  return {
    ...createMarketSuspensionActivities(deps),
    async openMarket(marketId: string): Promise<void> {
      await openMarket(db, marketId);
    },

    /** Stops intake, then tells the engine to look now: it drains and stops without waiting for its watch. */
    async closeMarket(marketId: string): Promise<void> {
      await closeMarket(db, marketId);
      await pubsub.publish(marketWakeChannel(marketId), ENGINE_WAKE_CHECK_STATUS).catch((err) => {
        // The engine's watch sees the close within its fallback interval anyway.
        logger.warn({ err, marketId }, 'engine wake-up after close failed');
      });
    },

    /** Cancels what is left in the book once the engine has drained, and tells watchers the book is empty. */
    async cancelLiveOrders(marketId: string): Promise<number> {
      const cancelled = await cancelLiveOrders(db, marketId);
      const e = await bumpFeedVersion(db, marketId);
      const message: FeedMessage = {
        type: 'market',
        view: marketView(marketId, e.version, [], [], e.lastPrice, e.volume),
        trades: [],
        publishedAt: Date.now(),
      };
      await publishMarketFeed(pubsub, marketId, message);
      return cancelled;
    },

    async recordResolution(req: ResolveMarket & { marketId: string }): Promise<void> {
      await recordResolution(db, req.marketId, req.outcome, req.source);
    },

    /** Pays winners in batches; a repeat (or a retry after a crash) pays nobody twice. */
    async settleMarket(req: { marketId: string; outcome: MarketOutcome }): Promise<number> {
      return inBatches(() => settleBatch(db, req.marketId, req.outcome, SETTLE_BATCH));
    },

    async refundMarket(marketId: string): Promise<number> {
      await markVoidStarted(db, marketId);
      await fundVoidRefunds(db, marketId);
      return inBatches(() => refundBatch(db, marketId, SETTLE_BATCH));
    },

    /** Returns what is left in the escrow (0 unless something is badly wrong, which is logged). */
    async finishMarket(req: { marketId: string; status: 'settled' | 'voided'; reason?: string }): Promise<number> {
      const left = await finishMarket(db, req.marketId, req.status, req.reason);
      if (left !== 0) logger.error({ marketId: req.marketId, escrow: left }, 'market escrow not empty after settlement');
      return left;
    },

    /** Ops see it in the market_alerts table, the logs, and FlowStatus in the Temporal UI. */
    async raiseMarketAlert(req: { marketId: string; kind: string; message: string }): Promise<void> {
      const raised = await raiseMarketAlert(db, req.marketId, req.kind, req.message);
      if (raised) logger.error({ marketId: req.marketId, kind: req.kind }, req.message);
    },
  };
}

/** Runs batches until one settles nobody, heartbeating the users settled so far; returns their count. */
async function inBatches(batch: () => Promise<number>): Promise<number> {
  let users = 0;
  for (;;) {
    Context.current().heartbeat(users);
    const n = await batch();
    if (n === 0) return users;
    users += n;
  }
}

export type MarketActivities = ReturnType<typeof createMarketActivities>;
