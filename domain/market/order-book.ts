import { DEFAULT_SLIPPAGE_BPS, LEVELS, PAYOUT, TICK } from './constants';
import { FillRecord, fillKind } from './fill';
import { Hasher } from './hash';
import { OrderNode, PriceLevel } from './level';
import { isBidOrder, isValidPrice, isValidQuantity, toYesPrice } from './price';
import { effectiveLimitPrice, isValidSlippageBps, worstAcceptablePrice } from './slippage';
import type {
  Action,
  BookSnapshot,
  CancelResult,
  Fill,
  LevelView,
  NewOrder,
  ReduceResult,
  RejectReason,
  RestingOrder,
  SelfTradeCancel,
  Side,
  SubmitRejected,
  SubmitResult,
} from './types';

const EMPTY_FILLS: readonly Fill[] = Object.freeze([]);
const EMPTY_CANCELS: readonly SelfTradeCancel[] = Object.freeze([]);

function rejected(
  orderId: unknown,
  reason: RejectReason,
  currentPrice: number | null = null,
  worstAcceptablePrice: number | null = null,
): SubmitRejected {
  return { ok: false, orderId: String(orderId), reason, currentPrice, worstAcceptablePrice };
}

function view(node: OrderNode): RestingOrder {
  return {
    orderId: node.orderId,
    userId: node.userId,
    side: node.side,
    action: node.action,
    price: node.price,
    quantity: node.quantity,
    remaining: node.remaining,
    seq: node.seq,
  };
}

/**
 * Price-time priority order book and matching engine for one binary market, kept in YES terms.
 *
 *  - bids: buy YES at p (bid p) and sell NO at q (bid 1000 − q);
 *    asks: sell YES at p (ask p) and buy NO at q (ask 1000 − q).
 *  - Levels are a fixed array of 19 FIFO queues per side with best-bid / best-ask indices;
 *    orders are intrusive doubly-linked nodes found through a Map, so cancel is O(1).
 *  - Trades execute at the resting (maker) order's price; price improvement goes to the taker.
 *  - Self-trade prevention: when the incoming order meets a resting order of the same user, the
 *    resting order is cancelled (reported in `selfTradeCancels`) and matching continues.
 *  - Sell orders are assumed covered (the caller checked holdings); the book tracks no positions.
 *  - `orderId` uniqueness is only enforced against orders currently resting in the book; global
 *    uniqueness is the caller's job (e.g. a DB unique key).
 *
 * Pure and deterministic: the same sequence of calls always yields the same results and hash().
 */
export class OrderBook {
  readonly marketId: string;
  private readonly bids: PriceLevel[] = [];
  private readonly asks: PriceLevel[] = [];
  /** Highest non-empty bid level index, −1 when none. */
  private bestBidIdx = -1;
  /** Lowest non-empty ask level index, LEVELS when none. */
  private bestAskIdx = LEVELS;
  private readonly orders = new Map<string, OrderNode>();
  private lastSeq = 0;
  // Per-submit scratch outputs of match() (avoids allocating a tuple per order).
  private outFills: Fill[] | null = null;
  private outCancels: SelfTradeCancel[] | null = null;

  constructor(marketId: string) {
    this.marketId = marketId;
    for (let i = 0; i < LEVELS; i++) {
      this.bids.push(new PriceLevel());
      this.asks.push(new PriceLevel());
    }
  }

  /** Number of resting orders. */
  get size(): number {
    return this.orders.size;
  }

  /** Highest sequence number accepted or restored so far (0 for a fresh book). */
  get lastSequence(): number {
    return this.lastSeq;
  }

  /** Best (highest) YES bid, or null. */
  bestBid(): number | null {
    return this.bestBidIdx >= 0 ? (this.bestBidIdx + 1) * TICK : null;
  }

  /** Best (lowest) YES ask, or null. */
  bestAsk(): number | null {
    return this.bestAskIdx < LEVELS ? (this.bestAskIdx + 1) * TICK : null;
  }

  /**
   * Submits an order. Validation order: order shape → price/seenPrice → quantity → slippageBps →
   * seq → duplicate id → slippage bound → FOK fillability. A rejection changes nothing.
   */
  submit(cmd: NewOrder): SubmitResult {
    const { orderId, userId, side, action, price, quantity, tif, seenPrice } = cmd;
    if (
      typeof orderId !== 'string' ||
      orderId.length === 0 ||
      typeof userId !== 'string' ||
      userId.length === 0 ||
      (side !== 'YES' && side !== 'NO') ||
      (action !== 'BUY' && action !== 'SELL') ||
      (tif !== 'GTC' && tif !== 'IOC' && tif !== 'FOK')
    ) {
      return rejected(orderId, 'invalid_order');
    }
    if (!isValidPrice(price) || (seenPrice !== undefined && !isValidPrice(seenPrice))) {
      return rejected(orderId, 'invalid_price');
    }
    if (!isValidQuantity(quantity)) return rejected(orderId, 'invalid_quantity');
    const bps = cmd.slippageBps === undefined ? DEFAULT_SLIPPAGE_BPS : cmd.slippageBps;
    if (!isValidSlippageBps(bps)) return rejected(orderId, 'invalid_slippage');
    let seq = this.lastSeq + 1;
    if (cmd.seq !== undefined) {
      if (!Number.isSafeInteger(cmd.seq) || cmd.seq <= this.lastSeq) return rejected(orderId, 'invalid_seq');
      seq = cmd.seq;
    }
    if (this.orders.has(orderId)) return rejected(orderId, 'duplicate_order_id');

    const isBid = isBidOrder(side, action);
    let limit = price;
    if (seenPrice !== undefined) {
      const worst = worstAcceptablePrice(action, price, seenPrice, bps);
      const eff = effectiveLimitPrice(action, worst);
      if (eff !== price) {
        const effIdx = toYesPrice(side, eff) / TICK - 1;
        const limIdx = toYesPrice(side, price) / TICK - 1;
        if (cmd.postOnly !== true && this.breachesBound(isBid, effIdx, limIdx, userId, quantity)) {
          return rejected(orderId, 'slippage', this.bestOppositePrice(side, isBid), worst);
        }
        limit = eff;
      }
    }
    const limitIdx = toYesPrice(side, limit) / TICK - 1;
    if (cmd.postOnly === true) {
      if (tif !== 'GTC') return rejected(orderId, 'invalid_order');
      if (this.crosses(isBid, limitIdx)) return rejected(orderId, 'post_only_would_take', this.bestOppositePrice(side, isBid));
    }
    if (tif === 'FOK' && this.matchableQty(isBid, limitIdx, userId, quantity) < quantity) {
      return rejected(orderId, 'fok_unfillable', this.bestOppositePrice(side, isBid));
    }

    this.lastSeq = seq;
    const remaining = this.match(orderId, userId, side, action, isBid, limitIdx, quantity);
    const fills = this.outFills === null ? EMPTY_FILLS : this.outFills;
    const selfTradeCancels = this.outCancels === null ? EMPTY_CANCELS : this.outCancels;
    this.outFills = null;
    this.outCancels = null;

    let resting: RestingOrder | null = null;
    let cancelledQty = 0;
    if (remaining > 0) {
      if (tif === 'GTC') {
        const node = new OrderNode(orderId, userId, side, action, limit, limitIdx, isBid, quantity, remaining, seq);
        this.orders.set(orderId, node);
        if (isBid) {
          this.bids[limitIdx].push(node);
          if (limitIdx > this.bestBidIdx) this.bestBidIdx = limitIdx;
        } else {
          this.asks[limitIdx].push(node);
          if (limitIdx < this.bestAskIdx) this.bestAskIdx = limitIdx;
        }
        resting = view(node);
      } else {
        cancelledQty = remaining;
      }
    }
    return {
      ok: true,
      orderId,
      seq,
      status: remaining === 0 ? 'filled' : resting !== null ? 'open' : 'expired',
      fills,
      filledQty: quantity - remaining,
      restingQty: resting !== null ? remaining : 0,
      cancelledQty,
      resting,
      selfTradeCancels,
    };
  }

  /**
   * Cancels a resting order in O(1). If `userId` is given and does not own the order the cancel
   * is refused with 'not_owner' (the book state is unchanged).
   */
  cancel(orderId: string, userId?: string): CancelResult {
    const node = this.orders.get(orderId);
    if (node === undefined) return { ok: false, orderId: String(orderId), reason: 'unknown_order' };
    if (userId !== undefined && node.userId !== userId) return { ok: false, orderId, reason: 'not_owner' };
    const cancelledQty = node.remaining;
    this.removeNode(node);
    return {
      ok: true,
      orderId,
      userId: node.userId,
      side: node.side,
      action: node.action,
      price: node.price,
      cancelledQty,
      seq: node.seq,
    };
  }

  /**
   * Lowers a resting order's open quantity to `remaining` in place, keeping its time priority (it
   * stays where it is in its level's queue); 0 removes it. A `remaining` not below the current one
   * changes nothing. Refused like a cancel for an unknown order or another user's.
   */
  reduce(orderId: string, remaining: number, userId?: string): ReduceResult {
    const node = this.orders.get(orderId);
    if (node === undefined) return { ok: false, orderId: String(orderId), reason: 'unknown_order' };
    if (userId !== undefined && node.userId !== userId) return { ok: false, orderId, reason: 'not_owner' };
    if (!Number.isSafeInteger(remaining) || remaining >= node.remaining)
      return { ok: true, orderId, remaining: node.remaining, reducedBy: 0 };
    const target = remaining < 0 ? 0 : remaining;
    const reducedBy = node.remaining - target;
    if (target === 0) {
      this.removeNode(node);
    } else {
      node.remaining = target;
      (node.isBid ? this.bids : this.asks)[node.index].quantity -= reducedBy;
    }
    return { ok: true, orderId, remaining: target, reducedBy };
  }

  /** A resting order by id, or null. */
  getOrder(orderId: string): RestingOrder | null {
    const node = this.orders.get(orderId);
    return node === undefined ? null : view(node);
  }

  /** All resting orders in ascending seq (= arrival) order — the input `restore()` expects. */
  openOrders(): RestingOrder[] {
    const out: RestingOrder[] = [];
    for (let i = 0; i < LEVELS; i++) {
      for (let n = this.bids[i].head; n !== null; n = n.next) out.push(view(n));
      for (let n = this.asks[i].head; n !== null; n = n.next) out.push(view(n));
    }
    return out.sort((a, b) => a.seq - b.seq);
  }

  /** Aggregated depth in YES terms (up to `depth` non-empty levels per side) plus best quotes. */
  snapshot(depth: number = LEVELS): BookSnapshot {
    const bids: LevelView[] = [];
    const asks: LevelView[] = [];
    for (let i = this.bestBidIdx; i >= 0 && bids.length < depth; i--) {
      const l = this.bids[i];
      if (l.count > 0) bids.push({ price: (i + 1) * TICK, quantity: l.quantity, orders: l.count });
    }
    for (let i = this.bestAskIdx; i < LEVELS && asks.length < depth; i++) {
      const l = this.asks[i];
      if (l.count > 0) asks.push({ price: (i + 1) * TICK, quantity: l.quantity, orders: l.count });
    }
    const bestBid = this.bestBid();
    const bestAsk = this.bestAsk();
    return {
      marketId: this.marketId,
      bids,
      asks,
      bestBid,
      bestAsk,
      yes: { buy: bestAsk, sell: bestBid },
      no: { buy: bestBid === null ? null : PAYOUT - bestBid, sell: bestAsk === null ? null : PAYOUT - bestAsk },
      openOrders: this.orders.size,
    };
  }

  /**
   * Deterministic digest (16 hex chars) of the resting book: every resting order's id, user, side,
   * action, price, quantity, remaining and seq in book (price level, then queue) order. Equal books
   * ⇒ equal hashes; it does not depend on lastSequence or on history.
   */
  hash(): string {
    const h = new Hasher();
    h.str(this.marketId);
    for (let pass = 0; pass < 2; pass++) {
      const levels = pass === 0 ? this.bids : this.asks;
      h.str(pass === 0 ? 'B' : 'A');
      for (let i = 0; i < LEVELS; i++) {
        const level = levels[i];
        if (level.count === 0) continue;
        h.num(i).num(level.count).num(level.quantity);
        for (let n = level.head; n !== null; n = n.next) {
          h.str(n.orderId).str(n.userId).str(n.side).str(n.action);
          h.num(n.price).num(n.quantity).num(n.remaining).num(n.seq);
        }
      }
    }
    return h.digest();
  }

  /**
   * Replaces the whole book with persisted resting orders, queued in ascending `seq` order (ties
   * are an error). `lastSeq` (optional) restores the sequence counter; it is raised to at least the
   * largest restored seq. Throws (leaving the book unchanged) on invalid orders, duplicate ids or
   * seqs, or a crossed result.
   */
  restore(openOrders: readonly RestingOrder[], lastSeq = 0): void {
    const sorted = openOrders.slice().sort((a, b) => a.seq - b.seq);
    const ids = new Set<string>();
    const bids: PriceLevel[] = [];
    const asks: PriceLevel[] = [];
    for (let i = 0; i < LEVELS; i++) {
      bids.push(new PriceLevel());
      asks.push(new PriceLevel());
    }
    let maxSeq = Number.isSafeInteger(lastSeq) && lastSeq > 0 ? lastSeq : 0;
    let prevSeq = -Infinity;
    const nodes: OrderNode[] = [];
    for (const o of sorted) {
      const bad = (why: string): never => {
        throw new Error(`OrderBook.restore(${this.marketId}): order ${String(o.orderId)} ${why}`);
      };
      if (typeof o.orderId !== 'string' || o.orderId === '' || typeof o.userId !== 'string' || o.userId === '') {
        bad('has no orderId/userId');
      }
      if ((o.side !== 'YES' && o.side !== 'NO') || (o.action !== 'BUY' && o.action !== 'SELL')) bad('has a bad side/action');
      if (!isValidPrice(o.price)) bad('has an invalid price');
      if (!isValidQuantity(o.quantity) || !isValidQuantity(o.remaining) || o.remaining > o.quantity) {
        bad('has an invalid quantity/remaining');
      }
      if (!Number.isSafeInteger(o.seq) || o.seq === prevSeq) bad('has an invalid or duplicate seq');
      if (ids.has(o.orderId)) bad('is duplicated');
      ids.add(o.orderId);
      prevSeq = o.seq;
      if (o.seq > maxSeq) maxSeq = o.seq;
      const isBid = isBidOrder(o.side, o.action);
      const idx = toYesPrice(o.side, o.price) / TICK - 1;
      const node = new OrderNode(o.orderId, o.userId, o.side, o.action, o.price, idx, isBid, o.quantity, o.remaining, o.seq);
      (isBid ? bids : asks)[idx].push(node);
      nodes.push(node);
    }
    let bb = LEVELS - 1;
    while (bb >= 0 && bids[bb].count === 0) bb--;
    let ba = 0;
    while (ba < LEVELS && asks[ba].count === 0) ba++;
    if (bb >= 0 && ba < LEVELS && bb >= ba) {
      throw new Error(`OrderBook.restore(${this.marketId}): restored book is crossed (bid ${(bb + 1) * TICK} ≥ ask ${(ba + 1) * TICK})`);
    }
    this.orders.clear();
    for (const n of nodes) this.orders.set(n.orderId, n);
    for (let i = 0; i < LEVELS; i++) {
      this.bids[i] = bids[i];
      this.asks[i] = asks[i];
    }
    this.bestBidIdx = bb;
    this.bestAskIdx = ba;
    this.lastSeq = maxSeq;
  }

  // ── internals ────────────────────────────────────────────────────────────────────────────────

  /** Best opposite price in `side` terms (what an order of that side/direction would trade at first). */
  private bestOppositePrice(side: Side, isBid: boolean): number | null {
    const yes = isBid ? this.bestAsk() : this.bestBid();
    return yes === null ? null : toYesPrice(side, yes);
  }

  /** True iff any resting order (of anyone) on the opposite side is at or better than `limitIdx`. */
  private crosses(isBid: boolean, limitIdx: number): boolean {
    return isBid ? this.bestAskIdx <= limitIdx : this.bestBidIdx >= 0 && this.bestBidIdx >= limitIdx;
  }

  /** Opposite-side quantity (excluding `userId`'s own orders) an order could take within `limitIdx`, capped at ≥ cap. */
  private matchableQty(isBid: boolean, limitIdx: number, userId: string, cap: number): number {
    let sum = 0;
    if (isBid) {
      for (let i = this.bestAskIdx; i <= limitIdx; i++) {
        for (let n = this.asks[i].head; n !== null; n = n.next) {
          if (n.userId !== userId && (sum += n.remaining) >= cap) return sum;
        }
      }
    } else {
      for (let i = this.bestBidIdx; i >= limitIdx; i--) {
        for (let n = this.bids[i].head; n !== null; n = n.next) {
          if (n.userId !== userId && (sum += n.remaining) >= cap) return sum;
        }
      }
    }
    return sum;
  }

  /**
   * True iff matching at the limit (`limIdx`) would fill something worse than the effective limit
   * (`effIdx`): not enough matchable quantity within effIdx, and some matchable quantity beyond it.
   */
  private breachesBound(isBid: boolean, effIdx: number, limIdx: number, userId: string, qty: number): boolean {
    if (this.matchableQty(isBid, effIdx, userId, qty) >= qty) return false;
    if (isBid) {
      for (let i = effIdx + 1; i <= limIdx; i++) {
        for (let n = this.asks[i].head; n !== null; n = n.next) if (n.userId !== userId) return true;
      }
    } else {
      for (let i = effIdx - 1; i >= limIdx; i--) {
        for (let n = this.bids[i].head; n !== null; n = n.next) if (n.userId !== userId) return true;
      }
    }
    return false;
  }

  /**
   * Matches the taker against the opposite side up to `limitIdx` (YES level index), in price-time
   * priority. Returns the unfilled quantity; fills and self-trade cancels go to outFills/outCancels.
   */
  private match(orderId: string, userId: string, side: Side, action: Action, isBid: boolean, limitIdx: number, quantity: number): number {
    let remaining = quantity;
    const levels = isBid ? this.asks : this.bids;
    const step = isBid ? 1 : -1;
    let idx = isBid ? this.bestAskIdx : this.bestBidIdx;
    const takerYes = side === 'YES';
    while (remaining > 0 && (isBid ? idx <= limitIdx : idx >= limitIdx)) {
      const level = levels[idx];
      const yesPrice = (idx + 1) * TICK;
      let node = level.head;
      while (node !== null) {
        const next = node.next;
        if (node.userId === userId) {
          // Self-trade prevention: cancel the resting order, keep going.
          const c: SelfTradeCancel = {
            orderId: node.orderId,
            userId: node.userId,
            side: node.side,
            action: node.action,
            price: node.price,
            cancelledQty: node.remaining,
            seq: node.seq,
          };
          if (this.outCancels === null) this.outCancels = [c];
          else this.outCancels.push(c);
          level.remove(node);
          this.orders.delete(node.orderId);
        } else {
          const q = node.remaining < remaining ? node.remaining : remaining;
          node.remaining -= q;
          level.quantity -= q;
          remaining -= q;
          const f = new FillRecord(
            this.marketId,
            fillKind(action, node.action),
            yesPrice,
            PAYOUT - yesPrice,
            q,
            orderId,
            userId,
            side,
            action,
            takerYes ? yesPrice : PAYOUT - yesPrice,
            node.orderId,
            node.userId,
            node.side,
            node.action,
            node.price,
            node.remaining,
          );
          if (this.outFills === null) this.outFills = [f];
          else this.outFills.push(f);
          if (node.remaining === 0) {
            level.remove(node);
            this.orders.delete(node.orderId);
          }
          if (remaining === 0) break;
        }
        node = next;
      }
      if (level.count !== 0) break;
      idx += step;
    }
    if (isBid) {
      while (idx < LEVELS && this.asks[idx].count === 0) idx++;
      this.bestAskIdx = idx;
    } else {
      while (idx >= 0 && this.bids[idx].count === 0) idx--;
      this.bestBidIdx = idx;
    }
    return remaining;
  }

  private removeNode(node: OrderNode): void {
    const idx = node.index;
    if (node.isBid) {
      const level = this.bids[idx];
      level.remove(node);
      if (level.count === 0 && idx === this.bestBidIdx) {
        let i = idx - 1;
        while (i >= 0 && this.bids[i].count === 0) i--;
        this.bestBidIdx = i;
      }
    } else {
      const level = this.asks[idx];
      level.remove(node);
      if (level.count === 0 && idx === this.bestAskIdx) {
        let i = idx + 1;
        while (i < LEVELS && this.asks[i].count === 0) i++;
        this.bestAskIdx = i;
      }
    }
    this.orders.delete(node.orderId);
  }
}
