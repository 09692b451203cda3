/**
 * The bids of one lot share their transaction: while one batch is committing, the bids that arrive
 * for the same lot wait and go together in the next (db/auction-bids.ts#recordBidsFromMemory),
 * each still answered on its own, in arrival order. The instance keeps what it last committed of
 * each lot it takes bids for (its book, its bids, the bidders' funds) to decide the next batch
 * without reading the lot again; the database refuses a batch decided on anything out of date. On a hot lot every transaction holds the lot's row lock,
 * so one transaction per bid would cap the lot at a few hundred bids a second and queue the
 * refused ones behind the lock; one per batch keeps the lock busy with real work.
 *
 * After each commit the lot's watchers get one update (the lot after the batch) and each bidder
 * their own events. A batch is bounded, so one answer never waits behind an unbounded queue.
 */
import { recordBidsFromMemory, type BatchResult, type BidAccepted, type BidRequest, type LotMemory } from '../db/auction-bids';
import { viewOfLot } from '../db/auction-lots';
import type { BidderEvent, LotEvent } from '../domain/auction-view';
import { publishLotChange } from '../infra/auction-feed';
import type { ApiDeps } from './deps';

const MAX_BATCH = 200;
const MAX_REMEMBERED_LOTS = 1000;

interface Waiting {
  req: BidRequest;
  resolve: (a: BidAccepted) => void;
  reject: (err: unknown) => void;
}

export interface AuctionIntake {
  place(req: BidRequest): Promise<BidAccepted>;
}

/** The bidder events and the watchers' event for a committed batch. */
function announcements(batch: BatchResult) {
  const events: Array<{ userId: string; event: BidderEvent }> = [];
  let event: LotEvent = 'bid';
  const view = viewOfLot(batch.row!);
  for (const answer of batch.answers) {
    if (!('ok' in answer) || answer.ok.replayed) continue;
    const { bid, outbid, extended } = answer.ok;
    if (bid.kind === 'buy_now') event = 'closed';
    else if (extended && event === 'bid') event = 'extended';
    const lotId = bid.lot_id;
    if (bid.leader_after === bid.bidder_id)
      events.push({ userId: bid.bidder_id, event: { type: 'auction.winning', lotId, price: bid.price_after, maxAmount: bid.max_amount } });
    else
      events.push({
        userId: bid.bidder_id,
        event: { type: 'auction.outbid', lotId, price: bid.price_after, nextMinimum: view.nextMinimum },
      });
    if (outbid)
      events.push({ userId: outbid, event: { type: 'auction.outbid', lotId, price: bid.price_after, nextMinimum: view.nextMinimum } });
  }
  for (const r of batch.released)
    events.push({ userId: r.bidderId, event: { type: 'auction.hold_released', lotId: view.lotId, amount: r.amount } });
  return { view, event, events };
}

export function createAuctionIntake(deps: Pick<ApiDeps, 'db' | 'pubsub' | 'logger'>): AuctionIntake {
  const queues = new Map<string, Waiting[]>();
  const busy = new Set<string>();
  // The open lots this instance took bids for, as it last committed them (db/auction-bids.ts#LotMemory).
  const memory = new Map<string, LotMemory>();
  const remember = (lotId: string, m: LotMemory | null) => {
    memory.delete(lotId);
    if (!m) return;
    memory.set(lotId, m);
    // The least recently bid-on lot goes first.
    if (memory.size > MAX_REMEMBERED_LOTS) memory.delete(memory.keys().next().value!);
  };

  async function drain(lotId: string): Promise<void> {
    busy.add(lotId);
    try {
      for (;;) {
        const queue = queues.get(lotId);
        if (!queue || queue.length === 0) break;
        const batch = queue.splice(0, MAX_BATCH);
        let result: BatchResult;
        try {
          const recorded = await recordBidsFromMemory(
            deps.db,
            lotId,
            batch.map((w) => w.req),
            memory.get(lotId) ?? null,
          );
          result = recorded.result;
          remember(lotId, recorded.memory);
        } catch (err) {
          memory.delete(lotId);
          for (const w of batch) w.reject(err);
          continue;
        }
        result.answers.forEach((a, i) => ('ok' in a ? batch[i].resolve(a.ok) : batch[i].reject(a.refused)));
        if (result.row) {
          const { view, event, events } = announcements(result);
          // The bids are durable whatever happens here; a watcher that misses this re-reads the lot.
          publishLotChange(deps.pubsub, view, event, events).catch((err) => deps.logger.warn({ err, lotId }, 'lot feed publish failed'));
        }
      }
    } finally {
      busy.delete(lotId);
      if (queues.get(lotId)?.length === 0) queues.delete(lotId);
    }
  }

  return {
    place(req) {
      return new Promise<BidAccepted>((resolve, reject) => {
        const queue = queues.get(req.lotId) ?? [];
        queues.set(req.lotId, queue);
        queue.push({ req, resolve, reject });
        if (!busy.has(req.lotId)) void drain(req.lotId);
      });
    },
  };
}
