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
 * through here: the engine's, and the lifecycle steps' (close, suspend, resume), which may run in
 * another process. A message goes out only if its view is newer than every one that went out
 * before (checked in the same Redis step), so the channel and the buffer stay in version order
 * whatever the race: resolves to false for a message that was superseded and did not go out.
 */
export function publishMarketFeed(pubsub: PubSub, marketId: string, message: FeedMessage): Promise<boolean> {
  return publishBuffered(
    pubsub,
    marketFeedChannel(marketId),
    marketFeedBufferKey(marketId),
    message,
    FEED_BUFFER_SIZE,
    message.view.version,
  );
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

/** How long the engine waits, when it stops, for its last feed message to go out. */
export const FEED_CLOSE_WAIT_MS = 2_000;

/**
 * Conflates a market's updates to at most FEED_MAX_PER_SECOND messages in any one-second window,
 * putting price moves first: a change of the touch or a trade goes out as soon as the window
 * allows and at least PRICE_GAP_MS after the previous price move; a change deeper in the book
 * waits DEPTH_GAP_MS and for a free slot, so background depth churn never holds a price move back.
 * Every message carries the latest whole view, so a price move delivers pending depth too, and
 * watchers never see an older state after a newer one. Unchanged views are not re-sent.
 *
 * Other publishers share the channel (a suspension bumps the version and tells watchers at once),
 * so a view held back here may be superseded before it goes out: the feed refuses it, and the
 * trades it carried stay first in line for the next message. That message needs a view newer than
 * what went out: the engine's next one, or at once one taken by `refresh` (the committed book
 * under a new version). One message is on its way at a time, so trades go out in the order they
 * happened.
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
  private inFlight = false;
  /** The newest version known to have gone out on the channel, from this feed or another publisher. */
  private newestOut = -Infinity;
  private refreshing = false;
  private closing = false;
  private readonly idleWaiters: Array<() => void> = [];

  constructor(
    private readonly pubsub: PubSub,
    private readonly marketId: string,
    private readonly onError: (err: unknown) => void,
    private readonly refresh?: () => Promise<MarketView>,
  ) {}

  offer(view: MarketView, trades: TradeView[]): void {
    // A refreshed view may already be newer than the engine's latest, and shows its trades too.
    if (this.pending === null || view.version > this.pending.version) this.pending = view;
    if (trades.length > 0) this.addTrades(trades);
    this.schedule();
  }

  /**
   * Sends what is pending now (the engine is stopping); resolves once nothing is left to send, or
   * after `waitMs` at most.
   */
  close(waitMs = FEED_CLOSE_WAIT_MS): Promise<void> {
    this.closing = true;
    this.schedule();
    if (this.idle()) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, waitMs);
      this.idleWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private addTrades(trades: TradeView[], first = false): void {
    this.trades = first ? [...trades, ...this.trades] : [...this.trades, ...trades];
    if (this.trades.length > MAX_FEED_TRADES) this.trades = this.trades.slice(-MAX_FEED_TRADES);
  }

  private idle(): boolean {
    return !this.inFlight && !this.refreshing && this.pending === null;
  }

  private pendingMovesPrice(): boolean {
    return this.pending !== null && (this.trades.length > 0 || movesPrice(this.lastSent, this.pending));
  }

  /** The earliest time the n-th most recent message has left the one-second window (−∞ if fewer were sent). */
  private slotFreeAt(n: number): number {
    return this.sentAt.length < n ? -Infinity : this.sentAt[this.sentAt.length - n] + WINDOW_MS;
  }

  private dueAt(): number {
    if (this.closing) return -Infinity;
    if (this.pendingMovesPrice()) return Math.max(this.lastPriceMoveAt + PRICE_GAP_MS, this.slotFreeAt(FEED_MAX_PER_SECOND));
    const lastAt = this.sentAt.length > 0 ? this.sentAt[this.sentAt.length - 1] : -Infinity;
    return Math.max(lastAt + DEPTH_GAP_MS, this.slotFreeAt(FEED_MAX_PER_SECOND - SLOTS_KEPT_FOR_PRICE_MOVES));
  }

  private schedule(): void {
    this.plan();
    if (this.idle()) for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  private plan(): void {
    // Superseded on the channel: watchers have something newer, and would drop it.
    if (this.pending !== null && this.pending.version <= this.newestOut) this.pending = null;
    if (this.pending === null) {
      if (this.trades.length > 0) this.takeFreshView();
      return;
    }
    if (this.inFlight) return; // planned again once it is answered
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

  /** Trades are waiting with no view newer than what went out: take one now rather than at the engine's next batch. */
  private takeFreshView(): void {
    if (this.refresh === undefined || this.refreshing) return;
    this.refreshing = true;
    this.refresh()
      .then(
        (view) => {
          if (view.version <= this.newestOut) {
            // Not newer after all: leave the trades for the engine's next view rather than ask again and again.
            this.onError(new Error(`fresh feed view ${view.version} of market ${this.marketId} is not newer than ${this.newestOut}`));
            return;
          }
          if (this.pending === null || view.version > this.pending.version) this.pending = view;
        },
        (err: unknown) => this.onError(err),
      )
      .finally(() => {
        this.refreshing = false;
        if (this.pending !== null) this.schedule();
        else if (this.idle()) for (const resolve of this.idleWaiters.splice(0)) resolve();
      });
  }

  private send(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.timerDue = Infinity;
    const view = this.pending;
    if (view === null) return;
    const now = Date.now();
    if (this.pendingMovesPrice()) this.lastPriceMoveAt = now;
    const trades = this.trades;
    const message: FeedMessage = { type: 'market', view, trades, publishedAt: now };
    this.pending = null;
    this.trades = [];
    this.lastSent = view;
    this.sentAt.push(now);
    if (this.sentAt.length > FEED_MAX_PER_SECOND) this.sentAt.shift();
    this.inFlight = true;
    publishMarketFeed(this.pubsub, this.marketId, message)
      .then(
        (wentOut) => {
          this.newestOut = Math.max(this.newestOut, view.version);
          if (wentOut) return;
          // Another publisher's newer view went out first: watchers have that one, not this.
          this.lastSent = null;
          this.addTrades(trades, true);
        },
        (err: unknown) => this.onError(err),
      )
      .finally(() => {
        this.inFlight = false;
        this.schedule();
      });
  }
}
