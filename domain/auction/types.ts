/** Public types of a live-auction lot's bidding. Amounts are integer paise; times epoch milliseconds. */
import type { IncrementTable } from './increments';

/** A late bid pushes the end out to this long after it, unless the lot is sudden death. */
export const DEFAULT_SOFT_CLOSE_MS = 10_000;

export interface LotTerms {
  sellerId: string;
  startingPrice: number;
  reservePrice: number | null;
  buyNowPrice: number | null;
  softCloseMs: number;
  /** true: the lot ends exactly at its end, a late bid does not extend it. */
  suddenDeath: boolean;
  increments: IncrementTable;
}

export interface Bidder {
  bidderId: string;
  /** The amount of the bid that set this position (a leader raising their max does not change it). */
  amount: number;
  maxAmount: number;
  /** The sequence at which this max was set: of two equal maxima, the earlier wins. */
  since: number;
}

export interface AuctionBook {
  /** The current price; null before the first bid. */
  price: number | null;
  /** The only bidder whose funds are held. */
  leader: Bidder | null;
  /** The best losing bidder (for the second chance and the proxy). */
  runnerUp: Bidder | null;
  bidCount: number;
  /** Accepted bids so far, which is also the `since` of the next one. */
  seq: number;
  endsAt: number;
  status: 'open' | 'closed';
  /** Each bidder's highest own bid; a second chance is offered at that bidder's max. */
  bidders: Record<string, { amount: number; maxAmount: number }>;
}

export interface BidInput {
  bidderId: string;
  amount: number;
  /** The most the proxy may bid for this bidder; defaults to `amount`. */
  maxAmount?: number;
  at: number;
}

/**
 * What changes in the funds held: apply `release` first (bidderIds whose hold is closed), then
 * `place`. A leader raising their max is both: the old hold is released and a larger one placed.
 */
export type HoldChange = { place: { bidderId: string; amount: number } | null; release: string[] };

export type BidRejectionCode =
  'lot_closed' | 'bid_too_low' | 'seller_cannot_bid' | 'max_below_amount' | 'not_above_own_max' | 'invalid_amount';

export type BidDecision =
  | { accepted: true; book: AuctionBook; holds: HoldChange; extendedTo: number | null; outbid: string | null /* who lost the lead */ }
  | { accepted: false; code: BidRejectionCode; message: string; details: Record<string, unknown> };

export type BuyNowRejectionCode = 'lot_closed' | 'buy_now_unavailable' | 'seller_cannot_bid';

export type BuyNowDecision =
  | { accepted: true; book: AuctionBook; holds: HoldChange; price: number }
  | { accepted: false; code: BuyNowRejectionCode; message: string; details: Record<string, unknown> };

export type LotOutcome = { kind: 'sold'; winnerId: string; price: number } | { kind: 'unsold'; reason: 'no_bids' | 'reserve_not_met' };
