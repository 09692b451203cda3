import { Context } from '@temporalio/activity';
import { committedView } from '../db/market-queries';
import { markTradingRestarted, msUntilTradingRestarts, queuedCommands, resumeMarket, suspendMarket } from '../db/market-suspension';
import { marketWakeChannel, type FeedMessage } from '../domain/market/feed';
import { publishMarketFeed } from './market-feed';
import type { ActivityDeps } from './deps';

/** How often a suspension looks whether the engine has processed the cancels it queued. */
const DRAIN_POLL_MS = 50;

/**
 * In-play suspension steps of a market's workflow (each safe to repeat): suspend, resume, and the
 * restart of trading once a resume's delay has passed. Each tells the market's watchers at once,
 * with a view whose version supersedes what the engine published before.
 */
export function createMarketSuspensionActivities({ db, pubsub, logger }: ActivityDeps) {
  const publishView = async (marketId: string) => {
    const message: FeedMessage = { type: 'market', view: await committedView(db, marketId), trades: [], publishedAt: Date.now() };
    await publishMarketFeed(pubsub, marketId, message);
  };
  const wakeEngine = (marketId: string) =>
    pubsub.publish(marketWakeChannel(marketId), 1).catch((err) => logger.warn({ err, marketId }, 'engine wake-up failed'));

  return {
    /**
     * Suspends the market and answers once the engine has processed the cancels that queued —
     * from then on nothing in the book can match and nothing new is accepted. Returns how many
     * orders were queued for cancelling.
     */
    async suspendMarket(marketId: string): Promise<number> {
      const s = await suspendMarket(db, marketId);
      if (!s.suspended) return 0;
      await wakeEngine(marketId);
      await publishView(marketId);
      const ctx = Context.current();
      while ((await queuedCommands(db, marketId)) > 0) {
        ctx.heartbeat();
        await ctx.sleep(DRAIN_POLL_MS);
      }
      return s.cancelRequested;
    },

    /** Ends the suspension; returns when trading restarts (ISO), or null if it was not suspended. */
    async resumeMarket(req: { marketId: string; delaySeconds?: number }): Promise<string | null> {
      const at = await resumeMarket(db, req.marketId, req.delaySeconds ?? null);
      if (at === null) return null;
      await publishView(req.marketId);
      return new Date(at).toISOString();
    },

    /** After a resume's delay: watchers see the market trading again. */
    async restartTrading(marketId: string): Promise<void> {
      // The workflow's timer and the database's clock may differ by a little: wait for the latter.
      // Slept in short spells with a heartbeat between, so a long delay does not look like a dead worker.
      const ctx = Context.current();
      for (
        let wait = await msUntilTradingRestarts(db, marketId);
        wait !== null && wait > 0;
        wait = await msUntilTradingRestarts(db, marketId)
      ) {
        ctx.heartbeat();
        await ctx.sleep(Math.min(wait, 5_000));
      }
      if (await markTradingRestarted(db, marketId)) await publishView(marketId);
    },
  };
}
