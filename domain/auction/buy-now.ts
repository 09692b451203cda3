/**
 * Buy-now: the seller's price for ending the lot at once. It is there only until the bidding has
 * made the sale certain (a bid reached the reserve, or, without a reserve, any bid at all); taking
 * it closes the lot with the buyer leading at the buy-now price.
 */
import { acceptsBidsAt, withOwnBid } from './book';
import type { AuctionBook, BuyNowDecision, BuyNowRejectionCode, LotTerms } from './types';

function refuse(code: BuyNowRejectionCode, message: string, details: Record<string, unknown>): BuyNowDecision {
  return { accepted: false, code, message, details };
}

/** Why buy-now is not on offer now, or null when it is. */
export function buyNowUnavailableReason(
  terms: LotTerms,
  book: AuctionBook,
): 'no_buy_now_price' | 'below_reserve' | 'bid_placed' | 'reserve_met' | null {
  const { buyNowPrice, reservePrice } = terms;
  if (buyNowPrice === null) return 'no_buy_now_price';
  // A buy-now price below the reserve would sell for less than the seller said the lot must fetch
  // (and lotOutcome would call that sale reserve_not_met), so such a lot has no buy-now.
  if (reservePrice !== null && buyNowPrice < reservePrice) return 'below_reserve';
  if (reservePrice === null) return book.leader === null ? null : 'bid_placed';
  return book.price !== null && book.price >= reservePrice ? 'reserve_met' : null;
}

export function decideBuyNow(terms: LotTerms, book: AuctionBook, buyer: { bidderId: string; at: number }): BuyNowDecision {
  if (!acceptsBidsAt(book, buyer.at)) {
    return refuse('lot_closed', 'The lot is no longer taking bids', { status: book.status, endsAt: book.endsAt, at: buyer.at });
  }
  if (buyer.bidderId === terms.sellerId) return refuse('seller_cannot_bid', 'The seller cannot buy their own lot', {});
  const unavailable = buyNowUnavailableReason(terms, book);
  if (unavailable !== null || terms.buyNowPrice === null) {
    return refuse('buy_now_unavailable', 'Buy-now is not available for this lot any more', { reason: unavailable });
  }
  const price = terms.buyNowPrice;
  const previous = book.leader;
  const next: AuctionBook = {
    price,
    leader: { bidderId: buyer.bidderId, amount: price, maxAmount: price, since: book.seq },
    runnerUp: previous && previous.bidderId !== buyer.bidderId ? previous : book.runnerUp,
    bidCount: book.bidCount + 1,
    seq: book.seq + 1,
    // The lot ends by its status; the end it had stays, so the end never moves back.
    endsAt: book.endsAt,
    status: 'closed',
    bidders: withOwnBid(book, buyer.bidderId, price, price),
  };
  return {
    accepted: true,
    book: next,
    holds: { place: { bidderId: buyer.bidderId, amount: price }, release: previous ? [previous.bidderId] : [] },
    price,
  };
}
