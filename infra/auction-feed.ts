/**
 * Publishes a lot's change to its watchers (the lot's channel and, for a lot in a show, the
 * show's) and the bidders' own events to their streams; this instance's own watchers get it at
 * once (listenLocally). Called after the change committed, by the
 * API (bids, buy-now, cancel) and by the lot's activities (open, close, sale), so every API
 * instance's WebSocket gateway can fan it out.
 */
import { marketUserChannel } from '../domain/market/feed';
import {
  lotFeedChannel,
  showFeedChannel,
  type BidderEvent,
  type LotEvent,
  type LotFeedMessage,
  type LotView,
} from '../domain/auction-view';
import type { PubSub } from './pubsub';

type LocalListener = (message: unknown) => void;
const localListeners = new WeakMap<PubSub, Map<string, Set<LocalListener>>>();

/**
 * Listens to a lot's or show's channel in this process, for the changes published through this
 * same `pubsub` (the instance's own): the gateway of the instance that took a bid sends it to its
 * watchers without waiting for the message to come back from Redis — one hop less between the
 * bid's answer and its watchers, on a machine where every hop waits its turn. Other instances get
 * it through Redis as before; the copy that comes back is older than nothing it has, so the gateway
 * drops it (a subscriber is only ever sent newer views). Returns the way to stop listening.
 */
export function listenLocally(pubsub: PubSub, channel: string, listener: LocalListener): () => void {
  let channels = localListeners.get(pubsub);
  if (!channels) localListeners.set(pubsub, (channels = new Map()));
  let set = channels.get(channel);
  if (!set) channels.set(channel, (set = new Set()));
  set.add(listener);
  return () => {
    set.delete(listener);
    if (set.size === 0) channels.delete(channel);
  };
}

function deliverLocally(pubsub: PubSub, channel: string, message: LotFeedMessage): void {
  const set = localListeners.get(pubsub)?.get(channel);
  if (!set) return;
  // A copy, as a subscriber would get from Redis: no listener shares the publisher's objects.
  const copy = JSON.parse(JSON.stringify(message)) as unknown;
  for (const listener of set) listener(copy);
}

export async function publishLotChange(
  pubsub: PubSub,
  view: LotView,
  event: LotEvent,
  bidderEvents: Array<{ userId: string; event: BidderEvent }> = [],
): Promise<void> {
  const message: LotFeedMessage = { event, view, publishedAt: Date.now() };
  deliverLocally(pubsub, lotFeedChannel(view.lotId), message);
  if (view.showId) deliverLocally(pubsub, showFeedChannel(view.showId), message);
  const sends = [pubsub.publish(lotFeedChannel(view.lotId), message)];
  if (view.showId) sends.push(pubsub.publish(showFeedChannel(view.showId), message));
  // A bidder's events share the stream of their market events: one private channel per user.
  for (const b of bidderEvents) sends.push(pubsub.publish(marketUserChannel(b.userId), b.event));
  await Promise.all(sends);
}
