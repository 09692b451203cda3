import { publishBuffered, type PubSub } from '../infra/pubsub';
import {
  FEED_BUFFER_SIZE,
  MAX_FEED_TRADES,
  marketFeedBufferKey,
  marketFeedChannel,
  sameView,
  type FeedMessage,
  type MarketView,
  type TradeView,
} from '../domain/market/feed';

/**
 * Publishes a market's feed message to its watchers and, in the same step, to its bounded replay
 * buffer (a resuming subscriber replays what it missed from there). Every feed message goes
 * through here: the engine's, and the lifecycle steps' (close, suspend, resume).
 */
export function publishMarketFeed(pubsub: PubSub, marketId: string, message: FeedMessage): Promise<void> {
  return publishBuffered(pubsub, marketFeedChannel(marketId), marketFeedBufferKey(marketId), message, FEED_BUFFER_SIZE);
}

/** At most this many feed messages in any one-second window per market. */
export const FEED_MAX_PER_SECOND = 10;
/** A price move goes out at least this long after the previous one: a steady 10 a second under sustained trading. */
export const PRICE_GAP_MS = 1000 / FEED_MAX_PER_SECOND;
/** A depth-only change (the touch and last trade unchanged) waits this long after any message… */
export const DEPTH_GAP_MS = 250;
/** …and is sent only while this many of the second's messages stay free for price moves. */
const SLOTS_KEPT_FOR_PRICE_MOVES = 5;
const WINDOW_MS = 1000;

/** A change a trader acts on: the best bid or ask, a trade, or a suspension starting or ending. */
function movesPrice(lastSent: MarketView | null, view: MarketView): boolean {
  return (
    lastSent === null ||
    lastSent.bestBid !== view.bestBid ||
    lastSent.bestAsk !== view.bestAsk ||
    lastSent.lastPrice !== view.lastPrice ||
    lastSent.volume !== view.volume ||
    lastSent.suspended !== view.suspended
  );
}

/**
 * Conflates a market's updates to at most FEED_MAX_PER_SECOND messages in any one-second window,
 * putting price moves first: a change of the touch or a trade goes out as soon as the window
 * allows and at least PRICE_GAP_MS after the previous price move; a change deeper in the book
 * waits DEPTH_GAP_MS and for a free slot, so background depth churn never holds a price move back.
 * Every message carries the latest whole view, so a price move delivers pending depth too, and
 * watchers never see an older state after a newer one. Unchanged views are not re-sent.
 */
export class ConflatingFeed {
  /** Send times of the last FEED_MAX_PER_SECOND messages, oldest first. */
  private readonly sentAt: number[] = [];
  private lastPriceMoveAt = -Infinity;
  private lastSent: MarketView | null = null;
  private pending: MarketView | null = null;
  private trades: TradeView[] = [];
  private timer: NodeJS.Timeout | null = null;
  private timerDue = Infinity;

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
    this.schedule();
  }

  /** Sends what is pending now (the engine is stopping). */
  close(): void {
    this.send();
  }

  private pendingMovesPrice(): boolean {
    return this.pending !== null && (this.trades.length > 0 || movesPrice(this.lastSent, this.pending));
  }

  /** The earliest time the n-th most recent message has left the one-second window (−∞ if fewer were sent). */
  private slotFreeAt(n: number): number {
    return this.sentAt.length < n ? -Infinity : this.sentAt[this.sentAt.length - n] + WINDOW_MS;
  }

  private dueAt(): number {
    if (this.pendingMovesPrice()) return Math.max(this.lastPriceMoveAt + PRICE_GAP_MS, this.slotFreeAt(FEED_MAX_PER_SECOND));
    const lastAt = this.sentAt.length > 0 ? this.sentAt[this.sentAt.length - 1] : -Infinity;
    return Math.max(lastAt + DEPTH_GAP_MS, this.slotFreeAt(FEED_MAX_PER_SECOND - SLOTS_KEPT_FOR_PRICE_MOVES));
  }

  private schedule(): void {
    if (this.pending === null) return;
    if (!this.pendingMovesPrice() && sameView(this.lastSent, this.pending)) {
      this.pending = null;
      return;
    }
    const due = this.dueAt();
    const now = Date.now();
    if (due <= now) return this.send();
    if (this.timer !== null && this.timerDue <= due) return;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timerDue = due;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.timerDue = Infinity;
      this.schedule();
    }, due - now);
  }

  private send(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.timerDue = Infinity;
    const view = this.pending;
    if (view === null) return;
    const now = Date.now();
    if (this.pendingMovesPrice()) this.lastPriceMoveAt = now;
    const message: FeedMessage = { type: 'market', view, trades: this.trades, publishedAt: now };
    this.pending = null;
    this.trades = [];
    this.lastSent = view;
    this.sentAt.push(now);
    if (this.sentAt.length > FEED_MAX_PER_SECOND) this.sentAt.shift();
    publishMarketFeed(this.pubsub, this.marketId, message).catch(this.onError);
  }
}
