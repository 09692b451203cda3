/**
 * What a WebSocket client can subscribe to — a market, an auction lot, a live show — and, for each,
 * its pub/sub channel, its snapshot and how an update reaches a subscriber. Every update carries a
 * whole view with a version: a subscriber is sent only views newer than the one it has, numbered
 * with its own gap-free `seq` (1 for the snapshot).
 */
import { committedView, getMarket } from '../../db/market-queries';
import { findLot, findShow, lotsOfShow, viewOfLot } from '../../db/auction-lots';
import { marketFeedChannel, type FeedMessage } from '../../domain/market/feed';
import { lotFeedChannel, showFeedChannel, type LotFeedMessage } from '../../domain/auction-view';
import type { ApiDeps } from '../deps';

export type TopicKind = 'market' | 'lot' | 'show';

export interface Topic {
  kind: TopicKind;
  id: string;
}

export const topicKey = (t: Topic) => `${t.kind}:${t.id}`;

/** A subscriber's place in one topic. */
export interface Subscription {
  topic: Topic;
  /** Per-subscription message number: 1 for the snapshot, then +1 per update — no gaps. */
  seq: number;
  /** Newest version this subscriber has, per market or lot in the topic; anything older is never sent. */
  versions: Map<string, number>;
  ready: boolean;
  /** What arrived while the snapshot was being read, sent after it if newer. */
  buffered: unknown[];
}

/** The outgoing frame for a published message, or null when the subscriber already has something newer. */
export type Deliver = (sub: Subscription, message: unknown) => Record<string, unknown> | null;

export interface TopicSpec {
  channel(id: string): string;
  /** The snapshot frame (without seq), or an error frame when the topic does not exist. */
  snapshot(deps: ApiDeps, sub: Subscription): Promise<{ frame: Record<string, unknown> } | { error: Record<string, unknown> }>;
  deliver: Deliver;
  /** Published messages to merge per key within `gapMs` (the newest wins); none: each is sent. */
  conflate?: { gapMs: number; key: (message: unknown) => string };
  /**
   * A published message's version, per key (a lot; a show's own status): the gateway passes on
   * only what is newer than what the channel already had, and takes this instance's own changes
   * without the Redis round trip (infra/auction-feed.ts#listenLocally). None: every message goes on.
   */
  feedVersion?: (message: unknown) => { key: string; version: number } | null;
}

/** A hot lot's watchers get its newest view at most this often (markets are conflated by their engine). */
export const LOT_FEED_GAP_MS = 20;

/** Accepts a view if it is newer than what the subscriber has for `key`. */
function newer(sub: Subscription, key: string, version: number): boolean {
  if (version <= (sub.versions.get(key) ?? -1)) return false;
  sub.versions.set(key, version);
  return true;
}

const lotUpdate = (m: LotFeedMessage) => ({ event: m.event, view: m.view, publishedAt: m.publishedAt });

export const TOPICS: Record<TopicKind, TopicSpec> = {
  market: {
    channel: marketFeedChannel,
    async snapshot(deps, sub) {
      const marketId = sub.topic.id;
      const market = await getMarket(deps.db, marketId);
      if (!market) return { error: { type: 'error', code: 'market_not_found', market: marketId, message: 'market not found' } };
      const view = await committedView(deps.db, marketId);
      sub.versions.set(marketId, view.version);
      return { frame: { type: 'snapshot', market: marketId, status: market.status, view } };
    },
    deliver(sub, message) {
      const m = message as FeedMessage;
      if (!newer(sub, sub.topic.id, m.view.version)) return null;
      return { type: 'update', market: sub.topic.id, view: m.view, trades: m.trades, publishedAt: m.publishedAt };
    },
  },

  lot: {
    channel: lotFeedChannel,
    async snapshot(deps, sub) {
      const lotId = sub.topic.id;
      const row = await findLot(deps.db, lotId);
      if (!row) return { error: { type: 'error', code: 'lot_not_found', lot: lotId, message: 'lot not found' } };
      const view = viewOfLot(row);
      sub.versions.set(lotId, view.version);
      return { frame: { type: 'snapshot', lot: lotId, view } };
    },
    deliver(sub, message) {
      const m = message as LotFeedMessage;
      if (!newer(sub, m.view.lotId, m.view.version)) return null;
      return { type: 'update', lot: sub.topic.id, ...lotUpdate(m) };
    },
    conflate: { gapMs: LOT_FEED_GAP_MS, key: () => 'lot' },
    feedVersion: (m) => ({ key: (m as LotFeedMessage).view.lotId, version: (m as LotFeedMessage).view.version }),
  },

  show: {
    channel: showFeedChannel,
    async snapshot(deps, sub) {
      const showId = sub.topic.id;
      const show = await findShow(deps.db, showId);
      if (!show) return { error: { type: 'error', code: 'show_not_found', show: showId, message: 'show not found' } };
      const lots = (await lotsOfShow(deps.db, showId)).map(viewOfLot);
      for (const l of lots) sub.versions.set(l.lotId, l.version);
      sub.versions.set('', show.version);
      return { frame: { type: 'snapshot', show: showId, status: show.status, lots } };
    },
    deliver(sub, message) {
      const m = message as
        LotFeedMessage | { event: 'show'; show: { showId: string; status: string; version: number }; publishedAt: number };
      if (m.event === 'show') {
        if (!newer(sub, '', m.show.version)) return null;
        return { type: 'update', show: sub.topic.id, event: 'show', status: m.show.status, publishedAt: m.publishedAt };
      }
      if (!newer(sub, m.view.lotId, m.view.version)) return null;
      return { type: 'update', show: sub.topic.id, ...lotUpdate(m) };
    },
    // Per lot of the show; the show's own status changes are never merged with a lot's.
    conflate: { gapMs: LOT_FEED_GAP_MS, key: (m) => (m as LotFeedMessage).view?.lotId ?? 'show' },
    feedVersion: (m) => {
      const s = m as LotFeedMessage | { event: 'show'; show: { version: number } };
      return s.event === 'show' ? { key: '', version: s.show.version } : { key: s.view.lotId, version: s.view.version };
    },
  },
};
