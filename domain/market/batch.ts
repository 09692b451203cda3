import { accounts } from '../ledger/accounts';
import type { JournalEntry, LedgerLine } from '../ledger/journal';
import { PAYOUT } from './constants';
import { maxBuyCost } from './costs';
import { tradeFee } from './fees';
import { OrderBook } from './order-book';
import type { Action, Fill, Side, StoredOrderTerms } from './types';

/**
 * The engine's pure core: feeds a batch of queued commands (new orders and cancel requests) to the
 * market's OrderBook and turns what happened into the writes one batch commits — order outcomes,
 * fills, position deltas, hold draw-downs and one balanced journal per fill. Deterministic: the
 * same book and the same commands give the same result, so a batch retried after a crash (it
 * was never committed) reproduces exactly the same effects and idempotency keys.
 */

export type OrderState = 'accepted' | 'open' | 'filled' | 'cancelled' | 'expired' | 'rejected';

/** A queued command: a pending order row. */
export interface PendingCommand extends StoredOrderTerms {
  orderId: string;
  userId: string;
  pendingSeq: number;
  /** Status as stored: 'accepted' = the engine has never seen it. */
  status: OrderState;
  cancelRequested: boolean;
  /** An amend asked to lower the order's total quantity to this (time priority kept). */
  reduceTo?: number | null;
  holdId: number | null;
  holdRemaining: number;
}

/** Why the engine ended a good-till-date order that reached its expiresAt. */
export const GTD_EXPIRED = 'expired';

/** An order's full engine-side state; also what is restored for open orders after a restart. */
export interface LiveOrder {
  orderId: string;
  userId: string;
  side: Side;
  action: Action;
  quantity: number;
  status: OrderState;
  bookSeq: number | null;
  /** Price it rests at (own side terms); may be tighter than the limit after a slippage clamp. */
  bookPrice: number | null;
  remaining: number;
  filledQty: number;
  cancelledQty: number;
  /** Sum of execution price × qty, own side terms, fees excluded. */
  filledCost: number;
  fees: number;
  holdId: number | null;
  holdRemaining: number;
  rejectReason: string | null;
  currentPrice: number | null;
  /** Good-till-date: expired by the engine at this instant (ms) if it still rests. */
  expiresAt?: number | null;
}

export interface FillRow {
  bookSeq: number;
  idx: number;
  fill: Fill;
  takerFee: number;
  makerFee: number;
}

export interface PositionDelta {
  userId: string;
  side: Side;
  quantity: number;
  locked: number;
  cost: number;
}

export interface HoldDrawdown {
  holdId: number;
  account: string;
  amount: number;
}

export interface BatchResult {
  /** Every order whose state changed, with its absolute new state. */
  orders: LiveOrder[];
  /** Every command read, to clear its pending flag (if not re-queued meanwhile). */
  acks: Array<{ orderId: string; pendingSeq: number }>;
  fills: FillRow[];
  journals: JournalEntry[];
  positions: PositionDelta[];
  holds: HoldDrawdown[];
  lastPrice: number | null;
  volume: number;
  lastBookSeq: number;
}

export const fillJournalKey = (marketId: string, bookSeq: number, idx: number) => `mkt-${marketId}:fill:${bookSeq}:${idx}`;

export class MarketMatcher {
  readonly book: OrderBook;
  /** Orders resting in the book, by id. */
  private readonly live = new Map<string, LiveOrder>();
  /**
   * Resting good-till-date orders and their expiry. A plain map scanned for the earliest: only the
   * GTD orders are in it, a few per market, so a heap would buy nothing worth a dependency.
   */
  private readonly expiring = new Map<string, number>();

  constructor(
    readonly marketId: string,
    readonly feeBps: number,
  ) {
    this.book = new OrderBook(marketId);
  }

  /** Rebuilds the book from the persisted open orders (ascending bookSeq). */
  restore(open: LiveOrder[], lastBookSeq: number): void {
    this.book.restore(
      open.map((o) => ({
        orderId: o.orderId,
        userId: o.userId,
        side: o.side,
        action: o.action,
        price: o.bookPrice!,
        quantity: o.quantity,
        remaining: o.remaining,
        seq: o.bookSeq!,
      })),
      lastBookSeq,
    );
    this.live.clear();
    this.expiring.clear();
    for (const o of open) {
      this.live.set(o.orderId, { ...o });
      if (o.expiresAt != null) this.expiring.set(o.orderId, o.expiresAt);
    }
  }

  /** The earliest expiry among resting good-till-date orders (ms), or null. */
  nextExpiry(): number | null {
    let next: number | null = null;
    for (const t of this.expiring.values()) if (next === null || t < next) next = t;
    return next;
  }

  get openOrderCount(): number {
    return this.live.size;
  }

  /**
   * Processes one batch. `now` (ms) is the engine's clock: good-till-date orders resting with an
   * expiry at or before it are expired first (earliest first), and a queued one already past its
   * expiry never enters the book. Without `now` nothing expires. The caller passes the instant, so
   * the same inputs still give the same batch.
   */
  process(commands: readonly PendingCommand[], now?: number): BatchResult {
    const run = new BatchRun(this.marketId, this.feeBps);
    if (now !== undefined) this.expire(run, now);
    for (const cmd of commands) {
      run.acks.push({ orderId: cmd.orderId, pendingSeq: cmd.pendingSeq });
      if (cmd.cancelRequested) this.cancel(run, cmd);
      else if (cmd.status === 'accepted') this.submit(run, cmd, now);
      else if (cmd.reduceTo != null) this.reduce(run, cmd);
      // anything else: already handled (a duplicate wake-up); only the ack is needed
    }
    return run.result(this.book.lastSequence);
  }

  private expire(run: BatchRun, now: number): void {
    const due = [...this.expiring.entries()]
      .filter(([, t]) => t <= now)
      .sort(([a, ta], [b, tb]) => ta - tb || (a < b ? -1 : a > b ? 1 : 0));
    for (const [orderId] of due) {
      const order = this.live.get(orderId)!;
      this.book.cancel(orderId);
      this.forget(orderId);
      order.rejectReason = GTD_EXPIRED;
      run.finish(order, 'expired');
    }
  }

  private forget(orderId: string): void {
    this.live.delete(orderId);
    this.expiring.delete(orderId);
  }

  private submit(run: BatchRun, cmd: PendingCommand, now: number | undefined): void {
    const taker = newLiveOrder(cmd);
    if (cmd.expiresAt != null && now !== undefined && cmd.expiresAt <= now) {
      taker.rejectReason = GTD_EXPIRED;
      run.finish(taker, 'expired');
      return;
    }
    // An amend that lowered the quantity before the engine ever saw the order: only that much enters.
    const quantity = cmd.reduceTo != null ? Math.min(cmd.quantity, cmd.reduceTo) : cmd.quantity;
    if (quantity <= 0) {
      run.finish(taker, 'cancelled');
      return;
    }
    if (quantity < cmd.quantity) run.shrink(taker, cmd.quantity - quantity);
    const res = this.book.submit({
      orderId: cmd.orderId,
      userId: cmd.userId,
      side: cmd.side,
      action: cmd.action,
      price: cmd.price,
      quantity,
      tif: cmd.tif,
      ...(cmd.postOnly ? { postOnly: true } : {}),
      ...(cmd.seenPrice !== null ? { seenPrice: cmd.seenPrice, slippageBps: cmd.slippageBps } : {}),
    });
    if (!res.ok) {
      taker.rejectReason = res.reason;
      taker.currentPrice = res.currentPrice;
      run.finish(taker, 'rejected');
      return;
    }
    taker.bookSeq = res.seq;
    for (const stp of res.selfTradeCancels) {
      const maker = this.live.get(stp.orderId)!;
      this.forget(stp.orderId);
      run.finish(maker, 'cancelled');
    }
    res.fills.forEach((fill, idx) => {
      const maker = this.live.get(fill.makerOrderId)!;
      run.applyFill(res.seq, idx, fill, taker, maker);
      maker.remaining = fill.makerRemaining;
      if (fill.makerRemaining === 0) {
        this.forget(maker.orderId);
        run.finish(maker, 'filled');
      } else {
        run.touch(maker);
      }
    });
    if (res.resting !== null) {
      taker.status = 'open';
      taker.bookPrice = res.resting.price;
      taker.remaining = res.restingQty;
      this.live.set(taker.orderId, taker);
      if (cmd.expiresAt != null) this.expiring.set(taker.orderId, cmd.expiresAt);
      if (quantity < cmd.quantity) run.releaseExcessHold(taker);
      run.touch(taker);
    } else {
      taker.remaining = 0;
      run.finish(taker, res.status === 'filled' ? 'filled' : 'expired');
    }
  }

  /**
   * A decrease of a resting order to a total quantity of `reduceTo`: it keeps its place in the
   * queue, and the part no longer wanted is released (a buy's hold down to what the rest can cost,
   * a sell's contracts unlocked). To or below what already filled, the rest is cancelled. An order
   * no longer resting (filled, ended) is left as it is.
   */
  private reduce(run: BatchRun, cmd: PendingCommand): void {
    const order = this.live.get(cmd.orderId);
    if (order === undefined) return;
    const target = Math.max(0, cmd.reduceTo! - order.filledQty);
    if (target >= order.remaining) return;
    if (target === 0) {
      this.book.cancel(cmd.orderId);
      this.forget(cmd.orderId);
      run.finish(order, 'cancelled');
      return;
    }
    const r = this.book.reduce(cmd.orderId, target);
    if (!r.ok) return;
    order.remaining = r.remaining;
    run.shrink(order, r.reducedBy);
    run.releaseExcessHold(order);
    run.touch(order);
  }

  private cancel(run: BatchRun, cmd: PendingCommand): void {
    const resting = this.live.get(cmd.orderId);
    if (resting !== undefined) {
      this.book.cancel(cmd.orderId);
      this.forget(cmd.orderId);
      run.finish(resting, 'cancelled');
    } else if (cmd.status === 'accepted') {
      // Cancelled before the engine ever saw it: it never enters the book.
      run.finish(newLiveOrder(cmd), 'cancelled');
    }
    // Otherwise it already filled or ended; the cancel request is moot.
  }
}

function newLiveOrder(cmd: PendingCommand): LiveOrder {
  return {
    orderId: cmd.orderId,
    userId: cmd.userId,
    side: cmd.side,
    action: cmd.action,
    quantity: cmd.quantity,
    status: 'accepted',
    bookSeq: null,
    bookPrice: null,
    remaining: cmd.quantity,
    filledQty: 0,
    cancelledQty: 0,
    filledCost: 0,
    fees: 0,
    holdId: cmd.holdId,
    holdRemaining: cmd.holdRemaining,
    rejectReason: null,
    currentPrice: null,
    expiresAt: cmd.expiresAt ?? null,
  };
}

/** Accumulates one batch's effects. */
class BatchRun {
  readonly acks: Array<{ orderId: string; pendingSeq: number }> = [];
  private readonly touched = new Map<string, LiveOrder>();
  private readonly fills: FillRow[] = [];
  private readonly journals: JournalEntry[] = [];
  private readonly positions = new Map<string, PositionDelta>();
  private readonly holds = new Map<number, HoldDrawdown>();
  private lastPrice: number | null = null;
  private volume = 0;

  constructor(
    private readonly marketId: string,
    private readonly feeBps: number,
  ) {}

  touch(order: LiveOrder): void {
    this.touched.set(order.orderId, order);
  }

  /** Ends an order: whatever it did not fill is cancelled, its unused hold or lock released. */
  finish(order: LiveOrder, status: OrderState): void {
    // A decrease already released its part (cancelledQty); the rest of the unfilled is still locked.
    const stillLocked = order.quantity - order.filledQty - order.cancelledQty;
    order.status = status;
    order.remaining = 0;
    order.cancelledQty = order.quantity - order.filledQty;
    if (order.action === 'BUY') {
      if (order.holdRemaining > 0) this.drawHold(order, order.holdRemaining);
    } else if (stillLocked > 0) {
      this.position(order.userId, order.side).locked -= stillLocked;
    }
    this.touch(order);
  }

  /** A live order gives up `qty` of its quantity (a decrease): counted as cancelled, a sell's contracts unlocked. */
  shrink(order: LiveOrder, qty: number): void {
    order.cancelledQty += qty;
    if (order.action === 'SELL') this.position(order.userId, order.side).locked -= qty;
  }

  /** A resting buy keeps only the hold its open quantity can still cost at its book price; the rest is released. */
  releaseExcessHold(order: LiveOrder): void {
    if (order.action !== 'BUY' || order.bookPrice === null) return;
    const excess = order.holdRemaining - maxBuyCost(order.bookPrice, order.remaining, this.feeBps);
    if (excess > 0) this.drawHold(order, excess);
  }

  applyFill(bookSeq: number, idx: number, fill: Fill, taker: LiveOrder, maker: LiveOrder): void {
    const q = fill.quantity;
    const takerLeg = this.party(taker, fill.takerPrice, q);
    const makerLeg = this.party(maker, fill.makerPrice, q);
    const lines: LedgerLine[] = [
      { account: accounts.userWallet(taker.userId), amount: takerLeg.cash },
      { account: accounts.userWallet(maker.userId), amount: makerLeg.cash },
    ];
    if (fill.kind !== 'transfer') {
      lines.push({ account: accounts.marketEscrow(this.marketId), amount: (fill.kind === 'mint' ? 1 : -1) * PAYOUT * q });
    }
    const fees = takerLeg.fee + makerLeg.fee;
    if (fees > 0) lines.push({ account: accounts.platformRevenue, amount: fees });
    this.journals.push({
      idempotencyKey: fillJournalKey(this.marketId, bookSeq, idx),
      reason: `market_${fill.kind}`,
      refType: 'market',
      refId: this.marketId,
      metadata: { takerOrderId: taker.orderId, makerOrderId: maker.orderId, yesPrice: fill.yesPrice, quantity: q },
      lines,
    });
    this.fills.push({ bookSeq, idx, fill, takerFee: takerLeg.fee, makerFee: makerLeg.fee });
    this.lastPrice = fill.yesPrice;
    this.volume += q;
    this.touch(taker);
  }

  /** One side of a fill: buyers pay price + fee out of their hold; sellers get price − fee. */
  private party(order: LiveOrder, price: number, q: number): { cash: number; fee: number } {
    const fee = tradeFee(price, q, this.feeBps);
    const gross = price * q;
    const pos = this.position(order.userId, order.side);
    order.filledQty += q;
    order.filledCost += gross;
    order.fees += fee;
    if (order.action === 'BUY') {
      const pay = gross + fee;
      if (pay > order.holdRemaining) throw new Error(`order ${order.orderId}: fill of ${pay} exceeds its hold ${order.holdRemaining}`);
      this.drawHold(order, pay);
      pos.quantity += q;
      pos.cost += pay;
      return { cash: -pay, fee };
    }
    pos.quantity -= q;
    pos.locked -= q;
    pos.cost -= gross - fee;
    return { cash: gross - fee, fee };
  }

  private drawHold(order: LiveOrder, amount: number): void {
    if (order.holdId === null) throw new Error(`order ${order.orderId} has no hold`);
    order.holdRemaining -= amount;
    const h = this.holds.get(order.holdId) ?? { holdId: order.holdId, account: accounts.userWallet(order.userId), amount: 0 };
    h.amount += amount;
    this.holds.set(order.holdId, h);
  }

  private position(userId: string, side: Side): PositionDelta {
    const key = `${userId}\u0000${side}`;
    let p = this.positions.get(key);
    if (p === undefined) {
      p = { userId, side, quantity: 0, locked: 0, cost: 0 };
      this.positions.set(key, p);
    }
    return p;
  }

  result(lastBookSeq: number): BatchResult {
    const byKey = <T>(m: Map<string, T>) => [...m.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, v]) => v);
    return {
      orders: [...this.touched.values()].map((o) => ({ ...o })),
      acks: this.acks,
      fills: this.fills,
      journals: this.journals,
      // Sorted so concurrent writers lock position rows in one order.
      positions: byKey(this.positions).filter((p) => p.quantity !== 0 || p.locked !== 0 || p.cost !== 0),
      holds: [...this.holds.values()].sort((a, b) => a.holdId - b.holdId),
      lastPrice: this.lastPrice,
      volume: this.volume,
      lastBookSeq,
    };
  }
}
