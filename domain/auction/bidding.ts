/**
 * Deciding one bid against the book: refuse it with a code, or give the next book, the change in
 * funds held and whether the end moved. Pure: the caller runs this under the lot's row lock and
 * writes what it returns in the same transaction.
 *
 * Proxy bidding: every bidder names a max; the proxy bids for them one step at a time, so the
 * leader is the highest max (of equal maxima, the one set first) and the price is one step above
 * the best losing max, never above the leader's own max and never below the leader's own bid.
 */
import { acceptsBidsAt, nextMinimum, outranks, ownBid, withOwnBid } from './book';
import { incrementAt } from './increments';
import { liftToReserve } from './reserve';
import { softCloseExtension } from './soft-close';
import type { AuctionBook, BidDecision, BidInput, BidRejectionCode, Bidder, HoldChange, LotTerms } from './types';

const isPositiveSafeInteger = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v > 0;

function refuse(code: BidRejectionCode, message: string, details: Record<string, unknown>): BidDecision {
  return { accepted: false, code, message, details };
}

/** The book's answer to a bid, or null when nothing in the bid itself or the lot's state refuses it. */
function refusal(terms: LotTerms, book: AuctionBook, bid: BidInput): BidDecision | null {
  if (!acceptsBidsAt(book, bid.at)) {
    return refuse('lot_closed', 'The lot is no longer taking bids', { status: book.status, endsAt: book.endsAt, at: bid.at });
  }
  if (!isPositiveSafeInteger(bid.amount)) {
    return refuse('invalid_amount', 'The bid must be a positive whole number of paise', { field: 'amount', value: bid.amount });
  }
  if (bid.maxAmount !== undefined && !isPositiveSafeInteger(bid.maxAmount)) {
    return refuse('invalid_amount', 'The maximum bid must be a positive whole number of paise', {
      field: 'maxAmount',
      value: bid.maxAmount,
    });
  }
  const maxAmount = bid.maxAmount ?? bid.amount;
  if (maxAmount < bid.amount) {
    return refuse('max_below_amount', 'The maximum bid cannot be below the bid', { amount: bid.amount, maxAmount });
  }
  if (bid.bidderId === terms.sellerId) return refuse('seller_cannot_bid', 'The seller cannot bid on their own lot', {});
  return null;
}

interface Move {
  leader: Bidder;
  runnerUp: Bidder | null;
  price: number;
  holds: HoldChange;
  outbid: string | null;
  /** The bidder's own highest bid as recorded for the second chance. */
  own: { amount: number; maxAmount: number };
}

/** The leader bidding again only raises their own max: they cannot be outbid by themselves. */
function raiseOwnMax(book: AuctionBook, leader: Bidder, maxAmount: number): Move | BidDecision {
  if (maxAmount <= leader.maxAmount) {
    return refuse('not_above_own_max', 'You are already the highest bidder; a new bid must raise your maximum', {
      currentMax: leader.maxAmount,
    });
  }
  const raised = { ...leader, maxAmount, since: book.seq };
  return {
    leader: raised,
    runnerUp: book.runnerUp,
    price: book.price ?? leader.amount,
    holds: { place: { bidderId: leader.bidderId, amount: maxAmount }, release: [leader.bidderId] },
    outbid: null,
    own: { amount: ownBid(book, leader.bidderId)?.amount ?? leader.amount, maxAmount },
  };
}

/** A bidder other than the leader: the proxy settles who leads and at what price. */
function challenge(terms: LotTerms, book: AuctionBook, challenger: Bidder): Move {
  const own = { amount: challenger.amount, maxAmount: challenger.maxAmount };
  const place = { bidderId: challenger.bidderId, amount: challenger.maxAmount };
  const leader = book.leader;
  if (leader === null) {
    return { leader: challenger, runnerUp: book.runnerUp, price: challenger.amount, holds: { place, release: [] }, outbid: null, own };
  }
  const step = (max: number) => max + incrementAt(max, terms.increments);
  if (outranks(challenger, leader)) {
    return {
      leader: challenger,
      runnerUp: leader,
      price: Math.max(challenger.amount, Math.min(challenger.maxAmount, step(leader.maxAmount))),
      holds: { place, release: [leader.bidderId] },
      outbid: leader.bidderId,
      own,
    };
  }
  // The leader keeps the lead: the proxy answers one step above the challenger's max, or with
  // the leader's whole max when that is all they have (an equal max goes to the earlier leader).
  const runnerUp = book.runnerUp && outranks(book.runnerUp, challenger) ? book.runnerUp : challenger;
  const price = Math.max(book.price ?? challenger.amount, Math.min(leader.maxAmount, step(challenger.maxAmount)));
  return { leader, runnerUp, price, holds: { place: null, release: [] }, outbid: null, own };
}

export function decideBid(terms: LotTerms, book: AuctionBook, bid: BidInput): BidDecision {
  const refused = refusal(terms, book, bid);
  if (refused) return refused;
  const maxAmount = bid.maxAmount ?? bid.amount;

  let move: Move | BidDecision;
  if (book.leader?.bidderId === bid.bidderId) {
    move = raiseOwnMax(book, book.leader, maxAmount);
  } else {
    const minimum = nextMinimum(terms, book);
    if (bid.amount < minimum) {
      return refuse('bid_too_low', `The bid must be at least ${minimum} paise`, { nextMinimum: minimum, price: book.price });
    }
    move = challenge(terms, book, { bidderId: bid.bidderId, amount: bid.amount, maxAmount, since: book.seq });
  }
  if ('accepted' in move) return move;

  const extendedTo = softCloseExtension(terms, book.endsAt, bid.at);
  const next: AuctionBook = {
    price: liftToReserve(terms, move.price, move.leader.maxAmount),
    leader: move.leader,
    runnerUp: move.runnerUp,
    bidCount: book.bidCount + 1,
    seq: book.seq + 1,
    endsAt: extendedTo ?? book.endsAt,
    status: 'open',
    bidders: withOwnBid(book, bid.bidderId, move.own.amount, move.own.maxAmount),
  };
  return { accepted: true, book: next, holds: move.holds, extendedTo, outbid: move.outbid };
}
