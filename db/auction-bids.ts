/**
 * The bid, the auction's hot path: one transaction under the lot's row lock reads the lot, the
 * bidder's available funds and any earlier answer to the same client bid id; the rules decide
 * (domain/auction); one statement then records the bid, releases the outbid leader's hold, places
 * the new leader's, adjusts both balances' `held` and moves the lot (price, leader, end, version).
 * So a bid is durable — with its funds held — before it is acknowledged, and no bid is accepted
 * after the close, which takes the same lock (db/auction-lots.ts#attemptClose).
 */
import { decideBid, decideBuyNow, type AuctionBook, type HoldChange } from '../domain/auction';
import { accounts } from '../domain/ledger';
import { rejection } from '../domain/rejection';
import { auctionKeys } from '../contracts/auction';
import { isCheckViolation } from './errors';
import { termsOf, type LotRow, type StoredBid } from './auction-lots';
import type { Db, Tx } from './knex';

export interface BidRequest {
  lotId: string;
  bidderId: string;
  clientBidId: string;
  amount: number;
  maxAmount?: number;
}

export interface BidAccepted {
  replayed: boolean;
  bid: StoredBid;
  row: LotRow;
  /** Who lost the lead to this bid (their hold was released), if anyone. */
  outbid: { bidderId: string; released: number } | null;
  extended: boolean;
}

interface LockedLot extends LotRow {
  now_ms: string;
  available: string | null;
  existing: StoredBid | null;
}

/** The lot under its row lock, the database clock, the bidder's available funds and an earlier bid with this id. */
async function lockForBid(trx: Tx, req: { lotId: string; bidderId: string; clientBidId: string }): Promise<LockedLot> {
  const { rows } = await trx.raw(
    `SELECT l.*, (extract(epoch FROM clock_timestamp()) * 1000)::bigint AS now_ms,
       (SELECT sum(balance) - sum(held) FROM account_balances WHERE account_id = ?) AS available,
       (SELECT row_to_json(b) FROM auction_bids b WHERE b.lot_id = l.id AND b.bidder_id = ? AND b.client_bid_id = ?) AS existing
     FROM auction_lots l WHERE l.id = ? FOR UPDATE OF l`,
    [accounts.userWallet(req.bidderId), req.bidderId, req.clientBidId, req.lotId],
  );
  if (rows.length === 0) throw rejection('not_found', 'lot_not_found', `lot ${req.lotId} not found`);
  return rows[0];
}

/** Reading an answer again: the same client bid id names the bid it was first sent with. */
function replay(lot: LockedLot, req: BidRequest): BidAccepted {
  const bid = lot.existing!;
  if (bid.amount !== req.amount || bid.max_amount !== (req.maxAmount ?? req.amount))
    throw rejection('conflict', 'client_bid_id_reused', 'this clientBidId was already used for another bid', { bidId: bid.id });
  return {
    replayed: true,
    bid: { ...bid, placed_at: new Date(bid.placed_at), ends_at_after: new Date(bid.ends_at_after) },
    row: lot,
    outbid: null,
    extended: false,
  };
}

function refuseUnlessOpen(lot: LotRow): void {
  if (lot.status === 'scheduled') throw rejection('conflict', 'lot_not_open', 'the lot has not opened yet');
  if (lot.status !== 'open') throw rejection('conflict', 'lot_closed', `the lot is ${lot.status}`, { status: lot.status });
}

/** What the bidder must have available: their new maximum, less what is already held for them on this lot. */
function refuseUnlessFunded(lot: LockedLot, bidderId: string, maximum: number): void {
  const alreadyHeld = lot.book?.leader?.bidderId === bidderId ? lot.book.leader.maxAmount : 0;
  const available = lot.available === null ? 0 : Number(lot.available);
  if (available + alreadyHeld < maximum)
    throw rejection('conflict', 'insufficient_funds', 'the wallet cannot cover this bid', {
      required: maximum,
      available: available + alreadyHeld,
    });
}

const BID_WRITE = `
  WITH bid AS (
    INSERT INTO auction_bids (lot_id, bidder_id, client_bid_id, kind, amount, max_amount, seq, price_after, leader_after, ends_at_after)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, to_timestamp(?::double precision / 1000))
    RETURNING *
  ), released AS (
    UPDATE holds h SET remaining = 0, status = 'closed'
    FROM holds old WHERE old.id = h.id AND h.id = ?::bigint AND h.status = 'open'
    RETURNING h.account_id, old.remaining AS amount
  ), placed AS (
    INSERT INTO holds (account_id, amount, remaining, idempotency_key, ref_type, ref_id)
    SELECT ?, ?::bigint, ?::bigint, ?, 'auction_lot', ? WHERE ?::bigint > 0
    RETURNING id, account_id, amount
  ), held AS (
    UPDATE account_balances b SET held = b.held + d.delta
    FROM (SELECT account_id, sum(delta) AS delta
          FROM (SELECT account_id, -amount AS delta FROM released UNION ALL SELECT account_id, amount FROM placed) x
          GROUP BY account_id) d
    WHERE b.account_id = d.account_id AND b.shard = 0
    RETURNING b.account_id
  ), lot AS (
    UPDATE auction_lots SET book = ?::jsonb, price = ?, leader_id = ?, bid_count = ?, status = ?,
      ends_at = to_timestamp(?::double precision / 1000),
      closed_at = CASE WHEN ? = 'closed' THEN clock_timestamp() ELSE closed_at END,
      leader_hold_id = CASE WHEN ? THEN (SELECT id FROM placed) ELSE leader_hold_id END,
      version = version + 1
    WHERE id = ? RETURNING *
  )
  SELECT (SELECT row_to_json(bid) FROM bid) AS bid, (SELECT row_to_json(lot) FROM lot) AS lot,
         (SELECT coalesce(sum(amount), 0) FROM released) AS released, (SELECT count(*) FROM placed) AS placed`;

/** Records an accepted decision; `kind` says whether it was a bid or a buy-now. */
async function writeBid(
  trx: Tx,
  lot: LockedLot,
  req: { bidderId: string; clientBidId: string; amount: number; maxAmount: number; kind: 'bid' | 'buy_now' },
  book: AuctionBook,
  holds: HoldChange,
): Promise<{ bid: StoredBid; row: LotRow; released: number }> {
  const oldLeader = lot.book?.leader?.bidderId ?? null;
  for (const r of holds.release)
    if (r !== oldLeader) throw new RangeError(`hold change releases ${r}, who is not the leader of lot ${lot.id}`);
  const releaseHoldId = holds.release.length > 0 ? lot.leader_hold_id : null;
  const place = holds.place;
  const placeAmount = place?.amount ?? 0;
  const placeAccount = place ? accounts.userWallet(place.bidderId) : null;
  try {
    const { rows } = await trx.raw(BID_WRITE, [
      lot.id,
      req.bidderId,
      req.clientBidId,
      req.kind,
      req.amount,
      req.maxAmount,
      book.seq,
      book.price,
      book.leader!.bidderId,
      book.endsAt,
      releaseHoldId,
      placeAccount,
      placeAmount,
      placeAmount,
      auctionKeys.bidHold(lot.id, book.seq),
      lot.id,
      placeAmount,
      JSON.stringify(book),
      book.price,
      book.leader?.bidderId ?? null,
      book.bidCount,
      book.status,
      book.endsAt,
      book.status,
      place !== null || releaseHoldId !== null,
      lot.id,
    ]);
    const r = rows[0];
    if (place && Number(r.placed) !== 1) throw new RangeError(`hold for ${place.bidderId} on lot ${lot.id} was not placed`);
    return { bid: parseBid(r.bid), row: parseLot(r.lot), released: Number(r.released) };
  } catch (err) {
    if (isCheckViolation(err, 'no_overdraft'))
      throw rejection('conflict', 'insufficient_funds', 'the wallet cannot cover this bid', { required: placeAmount });
    throw err;
  }
}

// row_to_json gives ISO strings and plain numbers; bring them back to what the pool would return.
const parseBid = (b: StoredBid): StoredBid => ({ ...b, placed_at: new Date(b.placed_at), ends_at_after: new Date(b.ends_at_after) });
const parseLot = (l: LotRow): LotRow => ({
  ...l,
  ends_at: l.ends_at && new Date(l.ends_at),
  opened_at: l.opened_at && new Date(l.opened_at),
  closed_at: l.closed_at && new Date(l.closed_at),
  starts_at: l.starts_at && new Date(l.starts_at),
  created_at: new Date(l.created_at),
});

/** A bid (or a proxy bid with `maxAmount`): accepted and durable with its funds held, or a rejection. */
export async function placeBid(db: Db, req: BidRequest): Promise<BidAccepted> {
  return db.transaction(async (trx) => {
    const lot = await lockForBid(trx, req);
    if (lot.existing) return replay(lot, req);
    refuseUnlessOpen(lot);
    const decision = decideBid(termsOf(lot), lot.book!, {
      bidderId: req.bidderId,
      amount: req.amount,
      maxAmount: req.maxAmount,
      at: Number(lot.now_ms),
    });
    if (!decision.accepted)
      throw rejection(
        decision.code === 'max_below_amount' || decision.code === 'invalid_amount' ? 'invalid' : 'conflict',
        decision.code,
        decision.message,
        decision.details,
      );
    const maxAmount = req.maxAmount ?? req.amount;
    refuseUnlessFunded(lot, req.bidderId, maxAmount);
    const written = await writeBid(trx, lot, { ...req, maxAmount, kind: 'bid' }, decision.book, decision.holds);
    return {
      replayed: false,
      bid: written.bid,
      row: written.row,
      outbid: decision.outbid ? { bidderId: decision.outbid, released: written.released } : null,
      extended: decision.extendedTo !== null,
    };
  });
}

/** Buy-now: while no bid has reached the reserve, ends the lot at once at the buy-now price. */
export async function buyNow(db: Db, req: { lotId: string; bidderId: string; clientBidId: string }): Promise<BidAccepted> {
  return db.transaction(async (trx) => {
    const lot = await lockForBid(trx, req);
    const price = lot.buy_now_price ?? 0;
    if (lot.existing) return replay(lot, { ...req, amount: lot.existing.amount, maxAmount: lot.existing.max_amount });
    refuseUnlessOpen(lot);
    const decision = decideBuyNow(termsOf(lot), lot.book!, { bidderId: req.bidderId, at: Number(lot.now_ms) });
    if (!decision.accepted) throw rejection('conflict', decision.code, decision.message, decision.details);
    refuseUnlessFunded(lot, req.bidderId, price);
    const written = await writeBid(trx, lot, { ...req, amount: price, maxAmount: price, kind: 'buy_now' }, decision.book, decision.holds);
    const outbid =
      lot.book?.leader && lot.book.leader.bidderId !== req.bidderId
        ? { bidderId: lot.book.leader.bidderId, released: written.released }
        : null;
    return { replayed: false, bid: written.bid, row: written.row, outbid, extended: false };
  });
}
