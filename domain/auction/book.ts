/** The book a lot opens with, and what the book says about the next bid and the funds held. */
import { incrementAt } from './increments';
import type { AuctionBook, Bidder, LotTerms } from './types';

export function openBook(_terms: LotTerms, endsAt: number): AuctionBook {
  return { price: null, leader: null, runnerUp: null, bidCount: 0, seq: 0, endsAt, status: 'open', bidders: {} };
}

/** The lowest amount a bidder other than the leader may bid: the starting price, then one step above the price. */
export function nextMinimum(terms: LotTerms, book: AuctionBook): number {
  return book.price === null ? terms.startingPrice : book.price + incrementAt(book.price, terms.increments);
}

/** Proxy priority: the higher max, and of two equal maxima the one set earlier. */
export function outranks(a: Bidder, b: Bidder): boolean {
  return a.maxAmount > b.maxAmount || (a.maxAmount === b.maxAmount && a.since < b.since);
}

/** Bidding is possible only while the lot is open and before its end. */
export function acceptsBidsAt(book: AuctionBook, at: number): boolean {
  return book.status === 'open' && at < book.endsAt;
}

/** The book as the close leaves it: no more bids, the leader and price stand. */
export function closeBook(book: AuctionBook): AuctionBook {
  return { ...book, status: 'closed' };
}

/** Funds that must be held now: the leader's max, nobody else's. */
export function heldExposure(book: AuctionBook): Record<string, number> {
  return book.leader ? { [book.leader.bidderId]: book.leader.maxAmount } : {};
}

/** A bidder's own entry, read safely whatever the id (an id such as `constructor` is not inherited). */
export function ownBid(book: AuctionBook, bidderId: string): { amount: number; maxAmount: number } | undefined {
  return Object.hasOwn(book.bidders, bidderId) ? book.bidders[bidderId] : undefined;
}

/** The bidders record with `bidderId`'s highest own bid raised to this one where it is higher. */
export function withOwnBid(book: AuctionBook, bidderId: string, amount: number, maxAmount: number): AuctionBook['bidders'] {
  const before = ownBid(book, bidderId);
  const entry = before
    ? { amount: Math.max(before.amount, amount), maxAmount: Math.max(before.maxAmount, maxAmount) }
    : { amount, maxAmount };
  return { ...book.bidders, [bidderId]: entry };
}
