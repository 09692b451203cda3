/**
 * How each auction refusal reads in the rejection vocabulary (domain/rejection.ts): refusals that
 * depend on the lot's moving state are conflicts (409: look again and retry), the others break a
 * rule of the lot whatever its state (422).
 */
import type { RejectionKind } from '../rejection';
import type { BidRejectionCode, BuyNowRejectionCode } from './types';

export const AUCTION_REJECTION_KINDS: Record<BidRejectionCode | BuyNowRejectionCode, RejectionKind> = {
  lot_closed: 'conflict',
  bid_too_low: 'conflict',
  buy_now_unavailable: 'conflict',
  not_above_own_max: 'conflict',
  seller_cannot_bid: 'invalid',
  max_below_amount: 'invalid',
  invalid_amount: 'invalid',
};
