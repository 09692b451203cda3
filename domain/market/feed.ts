import { PAYOUT } from './constants';
import type { BookSnapshot, LevelView } from './types';

/** Levels shown to watchers on each side of the book. */
export const FEED_DEPTH = 10;

/** What a market's watchers see: the book in YES terms plus the last trade. */
export interface MarketView {
  marketId: string;
  /** Engine batch version this view reflects; a newer one supersedes it. */
  version: number;
  bids: LevelView[];
  asks: LevelView[];
  bestBid: number | null;
  bestAsk: number | null;
  yes: { buy: number | null; sell: number | null };
  no: { buy: number | null; sell: number | null };
  lastPrice: number | null;
  volume: number;
  /** In play: no order matches and new ones are refused (also during the delay after a resume). */
  suspended: boolean;
}

/** Builds a view from aggregated levels (bids best-first, asks best-first). */
export function marketView(
  marketId: string,
  version: number,
  bids: LevelView[],
  asks: LevelView[],
  lastPrice: number | null,
  volume: number,
  suspended = false,
  depth = FEED_DEPTH,
): MarketView {
  const bestBid = bids.length > 0 ? bids[0].price : null;
  const bestAsk = asks.length > 0 ? asks[0].price : null;
  return {
    marketId,
    version,
    bids: bids.slice(0, depth),
    asks: asks.slice(0, depth),
    bestBid,
    bestAsk,
    yes: { buy: bestAsk, sell: bestBid },
    no: { buy: bestBid === null ? null : PAYOUT - bestBid, sell: bestAsk === null ? null : PAYOUT - bestAsk },
    lastPrice,
    volume,
    suspended,
  };
}

export function viewFromSnapshot(
  s: BookSnapshot,
  version: number,
  lastPrice: number | null,
  volume: number,
  suspended = false,
): MarketView {
  return marketView(s.marketId, version, s.bids, s.asks, lastPrice, volume, suspended);
}

/** True when watchers would see the same thing (so nothing needs sending). */
export function sameView(a: MarketView | null, b: MarketView): boolean {
  if (a === null) return false;
  return (
    a.lastPrice === b.lastPrice &&
    a.volume === b.volume &&
    a.suspended === b.suspended &&
    JSON.stringify(a.bids) === JSON.stringify(b.bids) &&
    JSON.stringify(a.asks) === JSON.stringify(b.asks)
  );
}

/** Pub/sub channels: a market's conflated feed, its engine wake-up, and one user's own order events. */
export const marketFeedChannel = (marketId: string) => `market:${marketId}:feed`;
export const marketWakeChannel = (marketId: string) => `market:${marketId}:wake`;
/** A wake-up that also asks the engine to look at the market's status now (sent when it closes). */
export const ENGINE_WAKE_CHECK_STATUS = 'status';
export const marketUserChannel = (userId: string) => `market-user:${userId}`;

export interface TradeView {
  yesPrice: number;
  quantity: number;
  kind: string;
  takerSide: string;
  takerAction: string;
}

/** What the engine publishes on the feed channel (at most 10 a second per market). */
export interface FeedMessage {
  type: 'market';
  view: MarketView;
  /** Trades since the previous message (the most recent MAX_FEED_TRADES of them). */
  trades: TradeView[];
  publishedAt: number;
}

export const MAX_FEED_TRADES = 50;

/** The bounded per-market buffer of published feed messages a resuming subscriber replays from. */
export const marketFeedBufferKey = (marketId: string) => `market:${marketId}:feed-buffer`;
/** Messages kept per market: at the feed's 10 a second, the last 50 seconds at least. */
export const FEED_BUFFER_SIZE = 500;

/** What a resuming subscriber is sent: the messages it missed, or a fresh snapshot when that cannot be proven complete. */
export type FeedResume = { kind: 'replay'; messages: FeedMessage[] } | { kind: 'snapshot'; reason: 'too_old' | 'unknown_version' };

/**
 * Decides a resume from `fromVersion` (the version of the last view the subscriber has) over the
 * buffer's entries (oldest first; `n` numbers every message ever buffered, so a buffer that starts
 * at n = 1 has lost nothing). The replay is every buffered message newer than `fromVersion`, in
 * order — complete when the buffer reaches back to the subscriber's view (its oldest message is
 * not newer than it) or has never dropped anything. Otherwise, or for a version the market never
 * published up to, a snapshot: never a silent gap.
 */
export function resumeFeed(entries: ReadonlyArray<{ n: number; message: FeedMessage }>, fromVersion: number): FeedResume {
  if (entries.length === 0) return { kind: 'snapshot', reason: 'unknown_version' };
  const newest = entries[entries.length - 1].message.view.version;
  if (fromVersion > newest) return { kind: 'snapshot', reason: 'unknown_version' };
  const reachesBack = entries[0].n === 1 || entries[0].message.view.version <= fromVersion;
  if (!reachesBack) return { kind: 'snapshot', reason: 'too_old' };
  for (let i = 1; i < entries.length; i++) if (entries[i].n !== entries[i - 1].n + 1) return { kind: 'snapshot', reason: 'too_old' };
  return { kind: 'replay', messages: entries.filter((e) => e.message.view.version > fromVersion).map((e) => e.message) };
}
