/** Public types of the opinion-trading order book. Prices are integer paise. */

export type Side = 'YES' | 'NO';
export type Action = 'BUY' | 'SELL';
/** GTC rests its remainder; IOC fills what it can and drops the rest; FOK fills fully or not at all. */
export type TimeInForce = 'GTC' | 'IOC' | 'FOK';
/**
 * mint:     BUY vs BUY (YES buyer + NO buyer) — a new YES/NO pair is created; both pay into escrow.
 * transfer: BUY vs SELL of the same side — an existing contract moves; buyer pays seller.
 * merge:    SELL vs SELL (YES seller + NO seller) — a pair is destroyed; escrow pays both sellers.
 */
export type FillKind = 'mint' | 'transfer' | 'merge';

export type RejectReason =
  | 'invalid_order' // bad/missing orderId, userId, side, action or tif
  | 'invalid_price' // limit or seenPrice not on the 50..950 grid (multiples of 50)
  | 'invalid_quantity' // not an integer in 1..MAX_QUANTITY
  | 'invalid_slippage' // slippageBps not an integer in 0..10000
  | 'invalid_seq' // seq given but not a safe integer greater than the book's last seq
  | 'duplicate_order_id' // an order with this id is resting in the book
  | 'slippage' // the book would fill part of the order worse than its worst acceptable price
  | 'fok_unfillable' // FOK: not enough matchable quantity within the limit
  | 'post_only_would_take'; // post-only: the order would match a resting order (take liquidity)

export type CancelRejectReason = 'unknown_order' | 'not_owner';

/** What a decrease did to a resting order: its new open quantity (0 = it is gone from the book). */
export type ReduceResult = { ok: true; orderId: string; remaining: number; reducedBy: number } | CancelRejected;

/** What an order asks for, whoever holds it (the book, the engine's queue, the intake). */
export interface OrderTerms {
  side: Side;
  action: Action;
  /** Limit price in the order's own side terms (a NO order's price is a NO price). */
  price: number;
  quantity: number;
  tif: TimeInForce;
}

/** The terms as stored with an order row: the slippage guard always explicit (seenPrice null: none). */
export interface StoredOrderTerms extends OrderTerms {
  seenPrice: number | null;
  slippageBps: number;
  /** Good-till-date: the instant (ms since the epoch) the engine expires what still rests. */
  expiresAt?: number | null;
  /** Rests only: rejected (nothing filled) if any of it would match on arrival. GTC only. */
  postOnly?: boolean;
}

export interface NewOrder extends OrderTerms {
  orderId: string;
  userId: string;
  /** Price the user saw, in the order's own side terms. Enables slippage protection. */
  seenPrice?: number;
  /** Slippage tolerance in bps, default 500 (5%). Only used with `seenPrice`. */
  slippageBps?: number;
  /** Time-priority sequence. If omitted the book assigns lastSeq + 1; if given it must exceed lastSeq. */
  seq?: number;
  /**
   * Post-only (GTC only): rejected with 'post_only_would_take' if any resting order — the user's own
   * included, which self-trade prevention would otherwise cancel — sits at or better than its
   * (slippage-clamped) limit; so it never fills on arrival and never removes anything from the book.
   */
  postOnly?: boolean;
}

/** One execution between the incoming (taker) order and one resting (maker) order. */
export interface Fill {
  marketId: string;
  kind: FillKind;
  /** Execution price in YES terms (= the maker's level). */
  yesPrice: number;
  /** PAYOUT − yesPrice. */
  noPrice: number;
  quantity: number;
  takerOrderId: string;
  takerUserId: string;
  takerSide: Side;
  takerAction: Action;
  /** Execution price in the taker's side terms. */
  takerPrice: number;
  makerOrderId: string;
  makerUserId: string;
  makerSide: Side;
  makerAction: Action;
  /** Execution price in the maker's side terms (= the maker's own limit price). */
  makerPrice: number;
  /** The maker's remaining quantity after this fill (0 ⇒ the maker order is complete). */
  makerRemaining: number;
}

/** A resting order taken out of the book, by self-trade prevention or by its owner's cancel. */
export interface RemovedOrder {
  orderId: string;
  userId: string;
  side: Side;
  action: Action;
  price: number;
  /** Quantity that was still open and is now cancelled. */
  cancelledQty: number;
  seq: number;
}

/** A resting order of the same user cancelled by self-trade prevention. */
export type SelfTradeCancel = RemovedOrder;

/** A resting order as persisted / restored. `price` is in the order's own side terms. */
export interface RestingOrder {
  orderId: string;
  userId: string;
  side: Side;
  action: Action;
  price: number;
  /** Original quantity. */
  quantity: number;
  /** Open quantity still in the book, 1..quantity. */
  remaining: number;
  seq: number;
}

/** 'open' = rests in the book; 'filled' = fully filled; 'expired' = IOC/FOK remainder dropped. */
export type OrderStatus = 'open' | 'filled' | 'expired';

export interface SubmitAccepted {
  ok: true;
  orderId: string;
  seq: number;
  status: OrderStatus;
  fills: readonly Fill[];
  filledQty: number;
  /** Quantity left resting in the book (GTC only). */
  restingQty: number;
  /** Unfilled quantity dropped (IOC remainder). quantity = filledQty + restingQty + cancelledQty. */
  cancelledQty: number;
  /** The resting remainder, or null. Its price may be tighter than the limit (slippage clamp). */
  resting: RestingOrder | null;
  /** Resting orders of the same user removed by self-trade prevention, in the order met. */
  selfTradeCancels: readonly SelfTradeCancel[];
}

export interface SubmitRejected {
  ok: false;
  orderId: string;
  reason: RejectReason;
  /**
   * For 'slippage' and 'fok_unfillable': the best opposite price in the order's own side terms
   * (what the order would pay/receive first right now), or null if that side of the book is empty.
   * Null for other reasons.
   */
  currentPrice: number | null;
  /** For 'slippage': the worst acceptable price (own side terms, unsnapped). Otherwise null. */
  worstAcceptablePrice: number | null;
}

export type SubmitResult = SubmitAccepted | SubmitRejected;

export interface CancelAccepted extends RemovedOrder {
  ok: true;
}

export interface CancelRejected {
  ok: false;
  orderId: string;
  reason: CancelRejectReason;
}

export type CancelResult = CancelAccepted | CancelRejected;

/** An aggregated price level in YES terms. */
export interface LevelView {
  price: number;
  quantity: number;
  orders: number;
}

export interface QuoteView {
  /** Cheapest price to buy this side now (own side terms), or null. */
  buy: number | null;
  /** Best price to sell this side now (own side terms), or null. */
  sell: number | null;
}

export interface BookSnapshot {
  marketId: string;
  /** YES bids (buy YES + sell NO), best (highest) first. */
  bids: LevelView[];
  /** YES asks (sell YES + buy NO), best (lowest) first. */
  asks: LevelView[];
  bestBid: number | null;
  bestAsk: number | null;
  yes: QuoteView;
  no: QuoteView;
  openOrders: number;
}
