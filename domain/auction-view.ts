/**
 * What watchers of a lot see (the REST answer, the WebSocket snapshot and every update carry the
 * same view), and the events a bidder's own stream receives.
 */
import { createHash } from 'node:crypto';
import { nextMinimum, type AuctionBook, type LotTerms } from './auction';

export type LotEvent = 'opened' | 'bid' | 'extended' | 'closed' | 'sold' | 'unsold' | 'cancelled' | 'second_chance';

export interface LotView {
  lotId: string;
  showId: string | null;
  sellerId: string;
  productId: string;
  title: string;
  status: string;
  startingPrice: number;
  buyNowPrice: number | null;
  /** Whether the reserve (never shown) has been reached; null when the lot has none. */
  reserveMet: boolean | null;
  /** null before the first bid. */
  price: number | null;
  /** The leading bidder as others see them: a pseudonym stable within this lot only. */
  leader: string | null;
  bidCount: number;
  /** The smallest amount the next bid may be; null when the lot does not take bids. */
  nextMinimum: number | null;
  endsAt: string | null;
  suddenDeath: boolean;
  /** Rises with every change; a view with a lower version is older. */
  version: number;
}

/**
 * Bidders are shown under a per-lot pseudonym, so watchers can follow a duel without learning who
 * is bidding or linking one person's bids across lots.
 */
export function bidderAlias(lotId: string, bidderId: string): string {
  return `Bidder ${createHash('sha256').update(`${lotId}\u0000${bidderId}`).digest('hex').slice(0, 6)}`;
}

export interface LotViewSource {
  lotId: string;
  showId: string | null;
  sellerId: string;
  productId: string;
  title: string;
  status: string;
  terms: LotTerms;
  book: AuctionBook | null;
  version: number;
}

export function lotView(s: LotViewSource): LotView {
  const { book, terms } = s;
  const open = s.status === 'open' && book !== null && book.status === 'open';
  // The price rises to the reserve as soon as a leader's maximum reaches it (domain/auction).
  const reached = book?.price != null && terms.reservePrice !== null && book.price >= terms.reservePrice;
  const bidsBlockBuyNow = terms.reservePrice === null ? (book?.bidCount ?? 0) > 0 : reached;
  const buyNowOpen = terms.buyNowPrice !== null && (s.status === 'scheduled' || open) && !bidsBlockBuyNow;
  return {
    lotId: s.lotId,
    showId: s.showId,
    sellerId: s.sellerId,
    productId: s.productId,
    title: s.title,
    status: s.status,
    startingPrice: terms.startingPrice,
    buyNowPrice: buyNowOpen ? terms.buyNowPrice : null,
    reserveMet: terms.reservePrice === null ? null : reached,
    price: book?.price ?? null,
    leader: book?.leader ? bidderAlias(s.lotId, book.leader.bidderId) : null,
    bidCount: book?.bidCount ?? 0,
    nextMinimum: open ? nextMinimum(terms, book) : null,
    endsAt: book && s.status !== 'scheduled' ? new Date(book.endsAt).toISOString() : null,
    suddenDeath: terms.suddenDeath,
    version: s.version,
  };
}

/** Channels on the shared pub/sub: every watcher of a lot, of a show, and one user's own events. */
export const lotFeedChannel = (lotId: string) => `auction:lot:${lotId}`;
export const showFeedChannel = (showId: string) => `auction:show:${showId}`;

/** One message on a lot's (and its show's) channel. */
export interface LotFeedMessage {
  event: LotEvent;
  view: LotView;
  publishedAt: number;
}

/** What a bidder's own stream says about their bids. */
export type BidderEvent =
  | { type: 'auction.outbid'; lotId: string; price: number; nextMinimum: number | null }
  | { type: 'auction.winning'; lotId: string; price: number; maxAmount: number }
  | { type: 'auction.hold_released'; lotId: string; amount: number }
  | { type: 'auction.won'; lotId: string; price: number; orderId: string }
  | { type: 'auction.second_chance'; lotId: string; offerId: number; amount: number; expiresAt: string };
