/**
 * Auction shows and lots: rows, their lifecycle writes (open, close, sale, cancel, second chance)
 * and reads. The bid itself, the hot path, is in db/auction-bids.ts.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { AuctionBook, IncrementTable, LotOutcome, LotTerms } from '../domain/auction';
import { lotOutcome, openBook, secondChanceCandidates } from '../domain/auction';
import { accounts, transfer } from '../domain/ledger';
import { lotView, type LotView } from '../domain/auction-view';
import { auctionKeys, type CloseAttempt, type LotStatus, type ShowStatus } from '../contracts/auction';
import { checkoutKeys } from '../contracts/checkout';
import { rejection } from '../domain/rejection';
import { captureHold, placeHold, releaseHold } from './ledger';
import { InsufficientFundsError } from './errors';
import { insertOrder, reserveLines, writeOrderStatus } from './orders';
import type { Db, Queryable, Tx } from './knex';

export const newShowId = () => `show_${randomUUID().replace(/-/g, '').slice(0, 20)}`;
export const newLotId = () => `lot_${randomUUID().replace(/-/g, '').slice(0, 20)}`;

/** The order a lot's sale creates for a bidder: derived, so a retried sale finds the same order. */
export const auctionOrderId = (lotId: string, bidderId: string) =>
  `ord_${createHash('sha256').update(`auction\u0000${lotId}\u0000${bidderId}`).digest('hex').slice(0, 24)}`;

export interface ShowRow {
  id: string;
  seller_id: string;
  title: string;
  status: ShowStatus;
  version: number;
  created_at: Date;
  started_at: Date | null;
  ended_at: Date | null;
}

export interface LotRow {
  id: string;
  show_id: string | null;
  position: number | null;
  seller_id: string;
  product_id: string;
  title: string;
  starting_price: number;
  reserve_price: number | null;
  buy_now_price: number | null;
  duration_ms: number;
  soft_close_ms: number;
  sudden_death: boolean;
  increments: IncrementTable;
  starts_at: Date | null;
  status: LotStatus;
  book: AuctionBook | null;
  price: number | null;
  leader_id: string | null;
  leader_hold_id: number | null;
  bid_count: number;
  version: number;
  opened_at: Date | null;
  ends_at: Date | null;
  closed_at: Date | null;
  winner_id: string | null;
  sold_price: number | null;
  order_id: string | null;
  outcome_reason: string | null;
  created_at: Date;
}

export function termsOf(row: LotRow): LotTerms {
  return {
    sellerId: row.seller_id,
    startingPrice: row.starting_price,
    reservePrice: row.reserve_price,
    buyNowPrice: row.buy_now_price,
    softCloseMs: row.soft_close_ms,
    suddenDeath: row.sudden_death,
    increments: row.increments,
  };
}

export function viewOfLot(row: LotRow): LotView {
  return lotView({
    lotId: row.id,
    showId: row.show_id,
    sellerId: row.seller_id,
    productId: row.product_id,
    title: row.title,
    status: row.status,
    terms: termsOf(row),
    book: row.book,
    version: row.version,
  });
}

// --- shows -----------------------------------------------------------------------------------------

export async function insertShow(q: Queryable, show: { id: string; sellerId: string; title: string }): Promise<ShowRow> {
  const [row] = await q('auction_shows').insert({ id: show.id, seller_id: show.sellerId, title: show.title }).returning('*');
  return row;
}

export async function findShow(q: Queryable, showId: string): Promise<ShowRow | undefined> {
  return q('auction_shows').where({ id: showId }).first();
}

/** The show's status as its workflow decided it; the timestamps record when it went live and ended. */
export async function writeShowStatus(q: Queryable, showId: string, status: ShowStatus): Promise<number> {
  const { rows } = await q.raw(
    `UPDATE auction_shows SET status = ?, version = version + 1,
       started_at = CASE WHEN ? = 'live' THEN coalesce(started_at, now()) ELSE started_at END,
       ended_at = CASE WHEN ? = 'ended' THEN coalesce(ended_at, now()) ELSE ended_at END
     WHERE id = ? RETURNING version`,
    [status, status, status, showId],
  );
  return rows[0].version;
}

export async function lotsOfShow(q: Queryable, showId: string): Promise<LotRow[]> {
  return q('auction_lots').where({ show_id: showId }).orderBy('position');
}

// --- lots ------------------------------------------------------------------------------------------

export interface NewLot {
  id: string;
  showId: string | null;
  sellerId: string;
  productId: string;
  title: string;
  startingPrice: number;
  reservePrice: number | null;
  buyNowPrice: number | null;
  durationMs: number;
  softCloseMs: number;
  suddenDeath: boolean;
  increments: IncrementTable;
  startsAt: Date | null;
}

/** A lot of a show takes the next position in it. */
export async function insertLot(q: Queryable, lot: NewLot): Promise<LotRow> {
  const { rows } = await q.raw(
    `INSERT INTO auction_lots (id, show_id, position, seller_id, product_id, title, starting_price, reserve_price, buy_now_price,
                               duration_ms, soft_close_ms, sudden_death, increments, starts_at)
     VALUES (?, ?, CASE WHEN ?::text IS NULL THEN NULL
                        ELSE (SELECT coalesce(max(position), 0) + 1 FROM auction_lots WHERE show_id = ?) END,
             ?, ?, ?, ?, ?, ?, ?, ?, ?, ?::jsonb, ?)
     RETURNING *`,
    [
      lot.id,
      lot.showId,
      lot.showId,
      lot.showId,
      lot.sellerId,
      lot.productId,
      lot.title,
      lot.startingPrice,
      lot.reservePrice,
      lot.buyNowPrice,
      lot.durationMs,
      lot.softCloseMs,
      lot.suddenDeath,
      JSON.stringify(lot.increments),
      lot.startsAt,
    ],
  );
  return rows[0];
}

export async function findLot(q: Queryable, lotId: string, opts: { lock?: boolean } = {}): Promise<LotRow | undefined> {
  const b = q('auction_lots').where({ id: lotId });
  if (opts.lock) b.forUpdate();
  return b.first();
}

const nowMs = async (q: Queryable): Promise<number> =>
  Number((await q.raw(`SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint AS now`)).rows[0].now);

/** Opens a scheduled lot now (the database's clock): its end is now + its duration. Opening an open lot changes nothing. */
export async function openLot(db: Db, lotId: string): Promise<LotRow> {
  return db.transaction(async (trx) => {
    const row = await findLot(trx, lotId, { lock: true });
    if (!row) throw rejection('not_found', 'lot_not_found', `lot ${lotId} not found`);
    if (row.status !== 'scheduled') return row;
    const book = openBook(termsOf(row), (await nowMs(trx)) + row.duration_ms);
    const [opened] = await trx('auction_lots')
      .where({ id: lotId })
      .update({
        status: 'open',
        book: JSON.stringify(book),
        opened_at: trx.raw('clock_timestamp()'),
        ends_at: new Date(book.endsAt),
        version: trx.raw('version + 1'),
      })
      .returning('*');
    return opened;
  });
}

/**
 * The close, fenced under the lot's row lock: a lot whose end (moved by late bids) has not come
 * yet is left open and its end returned; otherwise no bid can be accepted any more.
 */
export async function attemptClose(db: Db, lotId: string): Promise<{ attempt: CloseAttempt; row: LotRow; changed: boolean }> {
  return db.transaction(async (trx) => {
    const row = await findLot(trx, lotId, { lock: true });
    if (!row) throw rejection('not_found', 'lot_not_found', `lot ${lotId} not found`);
    if (row.status === 'cancelled') return { attempt: { kind: 'cancelled' }, row, changed: false };
    if (row.status === 'scheduled' || !row.book) throw rejection('conflict', 'lot_not_open', `lot ${lotId} never opened`);
    if (row.status === 'open') {
      const now = await nowMs(trx);
      if (now < row.book.endsAt)
        return { attempt: { kind: 'still_open', endsAt: new Date(row.book.endsAt).toISOString() }, row, changed: false };
    }
    const closedBook: AuctionBook = { ...row.book, status: 'closed' };
    const outcome = lotOutcomeOf(row, closedBook);
    const runnersUp = secondChanceCandidates(closedBook, outcome.kind === 'sold' ? [outcome.winnerId] : []);
    if (row.status !== 'open') return { attempt: { kind: 'closed', outcome, holdId: row.leader_hold_id, runnersUp }, row, changed: false };
    const [closed] = await trx('auction_lots')
      .where({ id: lotId })
      .update({
        status: 'closed',
        book: JSON.stringify(closedBook),
        closed_at: trx.raw('clock_timestamp()'),
        version: trx.raw('version + 1'),
      })
      .returning('*');
    return { attempt: { kind: 'closed', outcome, holdId: closed.leader_hold_id, runnersUp }, row: closed, changed: true };
  });
}

const lotOutcomeOf = (row: LotRow, book: AuctionBook): LotOutcome => lotOutcome(termsOf(row), book);

/** Releases every hold still open on the lot's behalf; returns who got how much back. */
async function releaseLotHolds(trx: Tx, lotId: string, except: number | null = null): Promise<Array<{ bidderId: string; amount: number }>> {
  const open = await trx('holds')
    .where({ ref_type: 'auction_lot', ref_id: lotId, status: 'open' })
    .modify((b) => {
      if (except !== null) b.whereNot({ id: except });
    })
    .select('id', 'account_id');
  const released: Array<{ bidderId: string; amount: number }> = [];
  for (const h of open) {
    const amount = await releaseHold(trx, h.id);
    if (amount > 0) released.push({ bidderId: bidderOfWallet(h.account_id), amount });
  }
  return released;
}

const bidderOfWallet = (account: string) => account.replace(/^user:/, '').replace(/:wallet$/, '');

/** Unsold (or cancelled): every hold is released and the lot gets its final status. Repeating it changes nothing. */
export async function finishUnsold(
  db: Db,
  lotId: string,
  status: 'unsold' | 'cancelled',
  reason: string,
): Promise<{ row: LotRow; released: Array<{ bidderId: string; amount: number }> }> {
  return db.transaction(async (trx) => {
    await findLot(trx, lotId, { lock: true });
    const released = await releaseLotHolds(trx, lotId);
    const [row] = await trx('auction_lots')
      .where({ id: lotId })
      .whereNotIn('status', ['sold', 'unsold', 'cancelled'])
      .update({
        status,
        outcome_reason: reason,
        closed_at: trx.raw('coalesce(closed_at, clock_timestamp())'),
        version: trx.raw('version + 1'),
      })
      .returning('*');
    return { row: row ?? (await findLot(trx, lotId))!, released };
  });
}

export interface SaleTerms {
  lotId: string;
  bidderId: string;
  price: number;
  holdId: number;
  deliveryDeadlineMs: number;
  returnWindowMs: number;
}

export type SaleResult =
  | { sold: true; orderId: string; row: LotRow; released: Array<{ bidderId: string; amount: number }> }
  | { sold: false; reason: 'out_of_stock' | 'product_inactive' };

/**
 * The sale, in one transaction: the winner's order (one line: the lot's product at the price the
 * auction reached), its stock reserved, the winner's hold captured into the order's escrow for the
 * price (the rest of the hold released), every other hold on the lot released, the lot sold. The
 * checkout saga then runs the order from `confirmed`. Repeating it returns the same order.
 */
export async function sellLot(db: Db, sale: SaleTerms): Promise<SaleResult> {
  const orderId = auctionOrderId(sale.lotId, sale.bidderId);
  return db
    .transaction(async (trx): Promise<SaleResult> => {
      const row = (await findLot(trx, sale.lotId, { lock: true }))!;
      if (row.status === 'sold' && row.order_id === orderId) return { sold: true, orderId, row, released: [] };
      const product = await trx.raw(
        `SELECT p.active, s.commission_bps, r.referrer_id, r.rate_bps FROM products p JOIN sellers s ON s.id = p.seller_id
       LEFT JOIN referrals r ON r.buyer_id = ? WHERE p.id = ?`,
        [sale.bidderId, row.product_id],
      );
      const p = product.rows[0];
      if (!p?.active) return { sold: false, reason: 'product_inactive' };
      await insertOrder(trx, {
        id: orderId,
        buyerId: sale.bidderId,
        sellerId: row.seller_id,
        total: sale.price,
        paymentMethod: null,
        commissionBps: p.commission_bps,
        referrerId: p.referrer_id ?? null,
        referralBps: p.rate_bps ?? 0,
        deliveryDeadlineMs: sale.deliveryDeadlineMs,
        returnWindowMs: sale.returnWindowMs,
        lines: [{ lineNo: 1, productId: row.product_id, quantity: 1, unitPrice: sale.price, amount: sale.price }],
      });
      const { short } = await reserveLines(trx, orderId);
      if (short !== null) {
        // The caller's transaction would keep the order row: remove it by rolling back.
        throw new OutOfStock();
      }
      await captureHold(trx, sale.holdId, {
        idempotencyKey: checkoutKeys.charge(orderId),
        reason: 'order_charge',
        refType: 'order',
        refId: orderId,
        actor: `user:${sale.bidderId}`,
        metadata: { source: 'auction', lotId: sale.lotId },
        lines: transfer(accounts.userWallet(sale.bidderId), accounts.orderEscrow(orderId), sale.price),
      });
      await releaseHold(trx, sale.holdId);
      await writeOrderStatus(trx, orderId, 'charging', {
        set: { funding_source: 'wallet' },
        event: { key: 'charged', type: 'charged', details: { source: 'auction', lotId: sale.lotId, amount: sale.price } },
      });
      const released = await releaseLotHolds(trx, sale.lotId);
      const [sold] = await trx('auction_lots')
        .where({ id: sale.lotId })
        .update({
          status: 'sold',
          winner_id: sale.bidderId,
          sold_price: sale.price,
          order_id: orderId,
          outcome_reason: null,
          version: trx.raw('version + 1'),
        })
        .returning('*');
      return { sold: true, orderId, row: sold, released };
    })
    .catch((err) => {
      if (err instanceof OutOfStock) return { sold: false, reason: 'out_of_stock' };
      throw err;
    });
}

class OutOfStock extends Error {}

/**
 * Cancels a lot that has no bid yet (the seller or support); a lot with bids runs to its end.
 * Returns the row after, or a rejection.
 */
export async function cancelLot(db: Db, lotId: string): Promise<LotRow> {
  return db.transaction(async (trx) => {
    const row = await findLot(trx, lotId, { lock: true });
    if (!row) throw rejection('not_found', 'lot_not_found', `lot ${lotId} not found`);
    if (row.status === 'cancelled') return row;
    if (row.status !== 'scheduled' && row.status !== 'open') throw rejection('conflict', 'lot_closed', `lot ${lotId} is ${row.status}`);
    if (row.bid_count > 0) throw rejection('conflict', 'lot_has_bids', 'a lot with bids runs to its end', { bidCount: row.bid_count });
    const [cancelled] = await trx('auction_lots')
      .where({ id: lotId })
      .update({
        status: 'cancelled',
        outcome_reason: 'cancelled',
        book: row.book ? JSON.stringify({ ...row.book, status: 'closed' }) : null,
        closed_at: trx.raw('clock_timestamp()'),
        version: trx.raw('version + 1'),
      })
      .returning('*');
    return cancelled;
  });
}

/** The lot goes back to unsold after its winner's order was cancelled, waiting for a second chance (or not). */
export async function reopenForSecondChance(db: Db, lotId: string, reason: string): Promise<LotRow> {
  const [row] = await db('auction_lots')
    .where({ id: lotId })
    .update({ status: 'unsold', outcome_reason: reason, version: db.raw('version + 1') })
    .returning('*');
  return row;
}

// --- second chance ---------------------------------------------------------------------------------

export interface OfferRow {
  id: number;
  lot_id: string;
  bidder_id: string;
  amount: number;
  status: 'offered' | 'accepted' | 'declined' | 'expired';
  expires_at: Date;
  order_id: string | null;
  created_at: Date;
  decided_at: Date | null;
}

export async function createOffer(
  q: Queryable,
  offer: { lotId: string; bidderId: string; amount: number; windowMs: number },
): Promise<OfferRow> {
  const { rows } = await q.raw(
    `INSERT INTO auction_offers (lot_id, bidder_id, amount, expires_at) VALUES (?, ?, ?, clock_timestamp() + ? * interval '1 millisecond')
     ON CONFLICT (lot_id, bidder_id) DO UPDATE SET lot_id = EXCLUDED.lot_id RETURNING *`,
    [offer.lotId, offer.bidderId, offer.amount, offer.windowMs],
  );
  return rows[0];
}

export async function findOffer(q: Queryable, offerId: number): Promise<OfferRow | undefined> {
  return q('auction_offers').where({ id: offerId }).first();
}

export async function offersOf(q: Queryable, bidderId: string): Promise<OfferRow[]> {
  return q('auction_offers').where({ bidder_id: bidderId }).orderBy('id', 'desc').limit(50);
}

/**
 * The runner-up's answer. Accepting holds their funds again for the offered amount, in the same
 * transaction (an accepted offer is always funded); an offer past its window cannot be accepted.
 */
export async function answerOffer(
  db: Db,
  offerId: number,
  bidderId: string,
  accept: boolean,
): Promise<{ offer: OfferRow; holdId: number | null }> {
  return db.transaction(async (trx) => {
    const offer: OfferRow | undefined = await trx('auction_offers').where({ id: offerId }).forUpdate().first();
    if (!offer || offer.bidder_id !== bidderId) throw rejection('not_found', 'offer_not_found', 'offer not found');
    if (offer.status !== 'offered') throw rejection('conflict', 'offer_closed', `the offer was ${offer.status}`, { status: offer.status });
    const live = (await trx.raw(`SELECT clock_timestamp() < ? AS live`, [offer.expires_at])).rows[0].live;
    if (!live) throw rejection('conflict', 'offer_expired', 'the offer has expired');
    let holdId: number | null = null;
    if (accept) {
      try {
        ({ holdId } = await placeHold(trx, {
          account: accounts.userWallet(bidderId),
          amount: offer.amount,
          idempotencyKey: auctionKeys.offerHold(offer.lot_id, offer.id),
          refType: 'auction_lot',
          refId: offer.lot_id,
        }));
      } catch (err) {
        if (err instanceof InsufficientFundsError)
          throw rejection('conflict', 'insufficient_funds', 'the wallet cannot cover the offer', { amount: offer.amount });
        throw err;
      }
    }
    const [answered] = await trx('auction_offers')
      .where({ id: offerId })
      .update({ status: accept ? 'accepted' : 'declined', decided_at: trx.raw('clock_timestamp()') })
      .returning('*');
    return { offer: answered, holdId };
  });
}

/** An offer nobody answered in time: expired, unless an answer got in first (then that answer). */
export async function expireOffer(q: Queryable, offerId: number): Promise<OfferRow> {
  await q('auction_offers')
    .where({ id: offerId, status: 'offered' })
    .update({ status: 'expired', decided_at: q.raw('clock_timestamp()') });
  return (await findOffer(q, offerId))!;
}

export async function holdOfOffer(q: Queryable, lotId: string, offerId: number): Promise<number | null> {
  const row = await q('holds')
    .where({ idempotency_key: auctionKeys.offerHold(lotId, offerId) })
    .first('id');
  return row?.id ?? null;
}

// --- reads -----------------------------------------------------------------------------------------

export interface StoredBid {
  id: number;
  lot_id: string;
  bidder_id: string;
  client_bid_id: string;
  kind: 'bid' | 'buy_now';
  amount: number;
  max_amount: number;
  seq: number;
  price_after: number;
  leader_after: string;
  ends_at_after: Date;
  placed_at: Date;
}

export async function bidsOfLot(q: Queryable, lotId: string, limit: number, before?: number): Promise<StoredBid[]> {
  return q('auction_bids')
    .where({ lot_id: lotId })
    .modify((b) => {
      if (before !== undefined) b.where('seq', '<', before);
    })
    .orderBy('seq', 'desc')
    .limit(limit);
}

/** A bidder's bids, newest first, with the lot each was on. */
export async function bidsOfBidder(q: Queryable, bidderId: string, limit: number): Promise<Array<StoredBid & { lot: LotRow }>> {
  const bids: StoredBid[] = await q('auction_bids').where({ bidder_id: bidderId }).orderBy('id', 'desc').limit(limit);
  const lots: LotRow[] = bids.length ? await q('auction_lots').whereIn('id', [...new Set(bids.map((b) => b.lot_id))]) : [];
  const byId = new Map(lots.map((l) => [l.id, l]));
  return bids.map((b) => ({ ...b, lot: byId.get(b.lot_id)! }));
}

export async function lotsWonBy(q: Queryable, bidderId: string, limit: number): Promise<LotRow[]> {
  return q('auction_lots').where({ winner_id: bidderId, status: 'sold' }).orderBy('closed_at', 'desc').limit(limit);
}
