/**
 * Opinion-trading (binary YES/NO) order book and matching engine — pure, deterministic, integer paise.
 *
 * See order-book.ts (matching, self-trade prevention), slippage.ts (exact slippage semantics),
 * fees.ts (tradeFee) and settlement.ts (cash/position consequences of a fill).
 */
export { BPS, DEFAULT_SLIPPAGE_BPS, LEVELS, MAX_PRICE, MAX_QUANTITY, MIN_PRICE, PAYOUT, TICK } from './constants';
export {
  PRICE_GRID,
  fromYesPrice,
  indexToPrice,
  isBidOrder,
  isValidPrice,
  isValidQuantity,
  oppositeSide,
  priceToIndex,
  toYesPrice,
} from './price';
export { effectiveLimitPrice, isValidSlippageBps, worstAcceptablePrice } from './slippage';
export { tradeFee } from './fees';
export { fillKind } from './fill';
export { settleFill } from './settlement';
export type { FillSettlement } from './settlement';
export { OrderBook } from './order-book';
export type {
  Action,
  BookSnapshot,
  CancelAccepted,
  CancelRejected,
  CancelRejectReason,
  CancelResult,
  Fill,
  FillKind,
  LevelView,
  NewOrder,
  OrderStatus,
  OrderTerms,
  QuoteView,
  ReduceResult,
  RejectReason,
  RemovedOrder,
  RestingOrder,
  SelfTradeCancel,
  Side,
  StoredOrderTerms,
  SubmitAccepted,
  SubmitRejected,
  SubmitResult,
  TimeInForce,
} from './types';
