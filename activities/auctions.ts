/**
 * The lot workflow's steps (workflows/auction/lot.ts) and the show's status. Each writes in one
 * transaction (db/auction-lots.ts) and is safe to run again; each publishes what watchers should
 * see once it has committed.
 */
import type { ActivityDeps } from './deps';
import {
  attemptClose,
  cancelLot,
  createOffer,
  expireOffer,
  finishUnsold,
  findLot,
  holdOfOffer,
  lotsOfShow,
  openLot,
  reopenForSecondChance,
  sellLot,
  viewOfLot,
  writeShowStatus,
  type SaleTerms,
} from '../db/auction-lots';
import type { CloseAttempt, LotStatus, ShowStatus } from '../contracts/auction';
import { rejection } from '../domain/rejection';
import { publishLotChange } from '../infra/auction-feed';
import { showFeedChannel, type BidderEvent } from '../domain/auction-view';
import { marketUserChannel } from '../domain/market/feed';

const released = (list: Array<{ bidderId: string; amount: number }>, lotId: string) =>
  list.map((r) => ({ userId: r.bidderId, event: { type: 'auction.hold_released', lotId, amount: r.amount } as BidderEvent }));

export function createAuctionActivities({ db, pubsub }: ActivityDeps) {
  return {
    async readAuctionLotStatus(req: { lotId: string }): Promise<LotStatus> {
      const row = await findLot(db, req.lotId);
      if (!row) throw rejection('not_found', 'lot_not_found', `lot ${req.lotId} not found`);
      return row.status;
    },

    /** Opens the lot; a lot cancelled meanwhile stays cancelled (no end). */
    async openAuctionLot(req: { lotId: string }): Promise<{ endsAt: string | null }> {
      const row = await openLot(db, req.lotId);
      if (row.status === 'cancelled') return { endsAt: null };
      await publishLotChange(pubsub, viewOfLot(row), 'opened');
      return { endsAt: row.ends_at!.toISOString() };
    },

    /** The close at the lot's end (fenced in the database: see attemptClose). */
    async closeAuctionLot(req: { lotId: string }): Promise<CloseAttempt> {
      const { attempt, row, changed } = await attemptClose(db, req.lotId);
      if (changed) await publishLotChange(pubsub, viewOfLot(row), 'closed');
      return attempt;
    },

    async sellAuctionLot(req: SaleTerms): Promise<{ sold: true; orderId: string } | { sold: false; reason: string }> {
      const sale = await sellLot(db, req);
      if (!sale.sold) return sale;
      const won: BidderEvent = { type: 'auction.won', lotId: req.lotId, price: req.price, orderId: sale.orderId };
      await publishLotChange(pubsub, viewOfLot(sale.row), 'sold', [
        { userId: req.bidderId, event: won },
        ...released(sale.released, req.lotId),
      ]);
      return { sold: true, orderId: sale.orderId };
    },

    async finishAuctionLot(req: { lotId: string; status: 'unsold' | 'cancelled'; reason: string }): Promise<void> {
      const { row, released: list } = await finishUnsold(db, req.lotId, req.status, req.reason);
      await publishLotChange(pubsub, viewOfLot(row), req.status, released(list, req.lotId));
    },

    /** The winner's order was cancelled before dispatch: the lot is unsold unless a second chance sells it. */
    async reopenAuctionLot(req: { lotId: string; reason: string }): Promise<void> {
      const row = await reopenForSecondChance(db, req.lotId, req.reason);
      await publishLotChange(pubsub, viewOfLot(row), 'unsold');
    },

    async offerSecondChance(req: {
      lotId: string;
      bidderId: string;
      amount: number;
      windowMs: number;
    }): Promise<{ offerId: number; expiresAt: string }> {
      const offer = await createOffer(db, req);
      const event: BidderEvent = {
        type: 'auction.second_chance',
        lotId: req.lotId,
        offerId: offer.id,
        amount: offer.amount,
        expiresAt: offer.expires_at.toISOString(),
      };
      await pubsub.publish(marketUserChannel(req.bidderId), event);
      return { offerId: offer.id, expiresAt: offer.expires_at.toISOString() };
    },

    /** The offer's outcome once its window passed (or it was answered): accepted with its hold, or not. */
    async settleSecondChanceOffer(req: { lotId: string; offerId: number }): Promise<{ status: string; holdId: number | null }> {
      const offer = await expireOffer(db, req.offerId);
      return { status: offer.status, holdId: offer.status === 'accepted' ? await holdOfOffer(db, req.lotId, req.offerId) : null };
    },

    /** Ending a show: the lots it never presented are cancelled (their workflows are told by the show). */
    async cancelUnpresentedLots(req: { showId: string }): Promise<string[]> {
      const cancelled: string[] = [];
      for (const lot of await lotsOfShow(db, req.showId)) {
        if (lot.status !== 'scheduled') continue;
        const row = await cancelLot(db, lot.id);
        await publishLotChange(pubsub, viewOfLot(row), 'cancelled');
        cancelled.push(lot.id);
      }
      return cancelled;
    },

    async recordShowStatus(req: { showId: string; status: ShowStatus }): Promise<void> {
      const version = await writeShowStatus(db, req.showId, req.status);
      const message = { event: 'show', show: { showId: req.showId, status: req.status, version }, publishedAt: Date.now() };
      await pubsub.publish(showFeedChannel(req.showId), message);
    },
  };
}

export type AuctionActivities = ReturnType<typeof createAuctionActivities>;
