/** What a lot's book comes to: sold or unsold at the close, and who a second chance goes to next. */
import { reserveMet } from './reserve';
import type { AuctionBook, LotOutcome, LotTerms } from './types';

export function lotOutcome(terms: LotTerms, book: AuctionBook): LotOutcome {
  if (book.leader === null) return { kind: 'unsold', reason: 'no_bids' };
  if (!reserveMet(terms, book.price)) return { kind: 'unsold', reason: 'reserve_not_met' };
  return { kind: 'sold', winnerId: book.leader.bidderId, price: book.price as number };
}

/**
 * The bidders a second chance may go to, each at their own max, best first. Equal maxima go to the
 * bidder who set theirs first. The book keeps no `since` per bidder, but it does not need one: a
 * later bid had to beat the price the earlier one's bid already stood under, so of two bidders with
 * the same max the earlier one always has the lower own bid.
 */
export function secondChanceCandidates(book: AuctionBook, excluding: string[]): Array<{ bidderId: string; amount: number }> {
  const skip = new Set(excluding);
  return Object.entries(book.bidders)
    .filter(([bidderId]) => !skip.has(bidderId))
    .sort(([a, x], [b, y]) => y.maxAmount - x.maxAmount || x.amount - y.amount || (a < b ? -1 : a > b ? 1 : 0))
    .map(([bidderId, own]) => ({ bidderId, amount: own.maxAmount }));
}
