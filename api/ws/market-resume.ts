/**
 * Resuming a market subscription: a client that lost its socket subscribes again with the version
 * of the last view it has (`fromVersion`), and is sent what it missed — every update published
 * since, with its trades — from the market's bounded feed buffer (Redis, so any API instance can
 * serve it), instead of a snapshot that would silently skip those trades. When the buffer cannot
 * prove it holds everything since that version (too old, or a version never published), the answer
 * is null and the gateway sends a fresh snapshot as for a new subscription: never a silent gap.
 *
 * The gateway (api/ws/gateway.ts) calls this from its subscribe step, after it started listening
 * to the market's channel (so nothing published meanwhile is lost: it is newer than the buffer
 * read, or in it, and the subscription's version filter drops what was sent twice).
 */
import { getMarket } from '../../db/market-queries';
import { marketFeedBufferKey, resumeFeed, type FeedMessage } from '../../domain/market/feed';
import { readBuffered } from '../../infra/pubsub';
import type { ApiDeps } from '../deps';
import { TOPICS, type Subscription } from './topics';

/** The frames (without seq) that resume `sub` from `fromVersion`, or null: send a snapshot instead. */
export async function resumeMarketSubscription(
  deps: Pick<ApiDeps, 'db' | 'pubsub'>,
  sub: Subscription,
  fromVersion: number,
): Promise<Array<Record<string, unknown>> | null> {
  const marketId = sub.topic.id;
  const market = await getMarket(deps.db, marketId);
  if (!market) return null; // the snapshot path answers market_not_found
  const entries = (await readBuffered(deps.pubsub, marketFeedBufferKey(marketId))) as Array<{ n: number; message: FeedMessage }>;
  const resume = resumeFeed(entries, fromVersion);
  if (resume.kind === 'snapshot') return null;
  sub.versions.set(marketId, fromVersion);
  const updates = resume.messages.map((m) => TOPICS.market.deliver(sub, m)).filter((f): f is Record<string, unknown> => f !== null);
  return [{ type: 'resumed', market: marketId, status: market.status, fromVersion, replayed: updates.length }, ...updates];
}
