import { accounts } from '../ledger/accounts';
import type { JournalEntry, LedgerLine } from '../ledger/journal';
import { PAYOUT } from './constants';
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
  holdId: number | null;
  holdRemaining: number;
}

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
    for (const o of open) this.live.set(o.orderId, { ...o });
  }

  get openOrderCount(): number {
    return this.live.size;
  }

  process(commands: readonly PendingCommand[]): BatchResult {
    const run = new BatchRun(this.marketId, this.feeBps);
    for (const cmd of commands) {
      run.acks.push({ orderId: cmd.orderId, pendingSeq: cmd.pendingSeq });
      if (cmd.cancelRequested) this.cancel(run, cmd);
      else if (cmd.status === 'accepted') this.submit(run, cmd);
      // anything else: already handled (a duplicate wake-up); only the ack is needed
    }
    return run.result(this.book.lastSequence);
  }

  private submit(run: BatchRun, cmd: PendingCommand): void {
    const taker = newLiveOrder(cmd);
    const res = this.book.submit({
      orderId: cmd.orderId,
      userId: cmd.userId,
      side: cmd.side,
      action: cmd.action,
      price: cmd.price,
      quantity: cmd.quantity,
      tif: cmd.tif,
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
      this.live.delete(stp.orderId);
      run.finish(maker, 'cancelled');
    }
    res.fills.forEach((fill, idx) => {
      const maker = this.live.get(fill.makerOrderId)!;
      run.applyFill(res.seq, idx, fill, taker, maker);
      maker.remaining = fill.makerRemaining;
      if (fill.makerRemaining === 0) {
        this.live.delete(maker.orderId);
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
      run.touch(taker);
    } else {
      taker.remaining = 0;
      run.finish(taker, res.status === 'filled' ? 'filled' : 'expired');
    }
  }

  private cancel(run: BatchRun, cmd: PendingCommand): void {
    const resting = this.live.get(cmd.orderId);
    if (resting !== undefined) {
      this.book.cancel(cmd.orderId);
      this.live.delete(cmd.orderId);
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
    const unfilled = order.quantity - order.filledQty;
    order.status = status;
    order.remaining = 0;
    order.cancelledQty = unfilled;
    if (order.action === 'BUY') {
      if (order.holdRemaining > 0) this.drawHold(order, order.holdRemaining);
    } else if (unfilled > 0) {
      this.position(order.userId, order.side).locked -= unfilled;
    }
    this.touch(order);
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
