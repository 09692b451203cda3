import type { PubSub } from '../infra/pubsub';
import { MAX_FEED_TRADES, marketFeedChannel, sameView, type FeedMessage, type MarketView, type TradeView } from '../domain/market/feed';

/** At most this many feed messages a second per market. */
export const FEED_MAX_PER_SECOND = 10;

/**
 * Conflates a market's updates to at most FEED_MAX_PER_SECOND messages: the first change after a
 * quiet spell goes out at once; changes inside the window are merged and the latest state is sent
 * when the window ends — so watchers are never more than one window behind and never see an
 * older state after a newer one. Unchanged views are not re-sent.
 */
export class ConflatingFeed {
  private readonly intervalMs = 1000 / FEED_MAX_PER_SECOND;
  private lastSentAt = 0;
  private lastSent: MarketView | null = null;
  private pending: MarketView | null = null;
  private trades: TradeView[] = [];
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly pubsub: PubSub,
    private readonly marketId: string,
    private readonly onError: (err: unknown) => void,
  ) {}

  offer(view: MarketView, trades: TradeView[]): void {
    this.pending = view;
    if (trades.length > 0) {
      this.trades.push(...trades);
      if (this.trades.length > MAX_FEED_TRADES) this.trades = this.trades.slice(-MAX_FEED_TRADES);
    }
    if (this.timer !== null) return;
    const wait = this.lastSentAt + this.intervalMs - Date.now();
    if (wait <= 0) this.flush();
    else this.timer = setTimeout(() => this.flush(), wait);
  }

  flush(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    const view = this.pending;
    if (view === null) return;
    this.pending = null;
    if (this.trades.length === 0 && sameView(this.lastSent, view)) return;
    const message: FeedMessage = { type: 'market', view, trades: this.trades, publishedAt: Date.now() };
    this.trades = [];
    this.lastSent = view;
    this.lastSentAt = Date.now();
    this.pubsub.publish(marketFeedChannel(this.marketId), message).catch(this.onError);
  }

  /** Sends what is pending now (the engine is stopping). */
  close(): void {
    this.flush();
  }
}
