/**
 * Publishes a lot's change to its watchers (the lot's channel and, for a lot in a show, the
 * show's) and the bidders' own events to their streams. Called after the change committed, by the
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

export async function publishLotChange(
  pubsub: PubSub,
  view: LotView,
  event: LotEvent,
  bidderEvents: Array<{ userId: string; event: BidderEvent }> = [],
): Promise<void> {
  const message: LotFeedMessage = { event, view, publishedAt: Date.now() };
  const sends = [pubsub.publish(lotFeedChannel(view.lotId), message)];
  if (view.showId) sends.push(pubsub.publish(showFeedChannel(view.showId), message));
  // A bidder's events share the stream of their market events: one private channel per user.
  for (const b of bidderEvents) sends.push(pubsub.publish(marketUserChannel(b.userId), b.event));
  await Promise.all(sends);
}
