/**
 * Live auctions — the pure rules of one lot: increments, proxy bidding, the reserve, buy-now, the
 * soft close, the funds held and the outcome. No I/O; integer paise, epoch milliseconds.
 *
 * See increments.ts (the rate card), bidding.ts (decideBid), buy-now.ts, soft-close.ts, reserve.ts,
 * outcome.ts (lotOutcome, second chance) and sealed.ts (the reference the live rules are tested against).
 */
export { DEFAULT_INCREMENTS, MAX_INCREMENT_ROWS, incrementAt, parseIncrementTable } from './increments';
export type { IncrementStep, IncrementTable } from './increments';
export { DEFAULT_SOFT_CLOSE_MS } from './types';
export type {
  AuctionBook,
  BidDecision,
  BidInput,
  BidRejectionCode,
  Bidder,
  BuyNowDecision,
  BuyNowRejectionCode,
  HoldChange,
  LotOutcome,
  LotTerms,
} from './types';
export { acceptsBidsAt, closeBook, heldExposure, nextMinimum, openBook, outranks } from './book';
export { decideBid } from './bidding';
export { buyNowUnavailableReason, decideBuyNow } from './buy-now';
export { softCloseExtension } from './soft-close';
export { liftToReserve, reserveMet } from './reserve';
export { lotOutcome, secondChanceCandidates } from './outcome';
export { sealedOutcome } from './sealed';
export { AUCTION_REJECTION_KINDS } from './rejections';
