/**
 * Property tests: random command sequences (submits of every kind, with and without slippage, a
 * few invalid ones, and cancels) run through the OrderBook and checked against
 *  (1) a naive reference model (sorted arrays — independent of the linked-list/level code), and
 *  (2) invariants checked directly on the engine's outputs.
 */
import fc from 'fast-check';
import {
  OrderBook,
  PAYOUT,
  TICK,
  settleFill,
  type Action,
  type CancelResult,
  type NewOrder,
  type Side,
  type SubmitResult,
  type TimeInForce,
} from '../../../domain/market';

// ── command generation ──────────────────────────────────────────────────────────────────────────

type Cmd =
  | {
      kind: 'submit';
      user: number;
      side: Side;
      action: Action;
      priceIdx: number; // 0..18 valid, 19 = invalid price
      quantity: number; // 0 = invalid
      tif: TimeInForce;
      seen: { idx: number; bps: number | undefined } | null;
    }
  | { kind: 'cancel'; pick: number };

const submitArb = fc.record({
  kind: fc.constant('submit' as const),
  user: fc.integer({ min: 0, max: 3 }),
  side: fc.constantFrom<Side>('YES', 'NO'),
  action: fc.constantFrom<Action>('BUY', 'SELL'),
  priceIdx: fc.oneof({ weight: 30, arbitrary: fc.integer({ min: 0, max: 18 }) }, { weight: 1, arbitrary: fc.constant(19) }),
  quantity: fc.oneof({ weight: 30, arbitrary: fc.integer({ min: 1, max: 12 }) }, { weight: 1, arbitrary: fc.constant(0) }),
  tif: fc.constantFrom<TimeInForce>('GTC', 'GTC', 'GTC', 'IOC', 'FOK'),
  seen: fc.option(
    fc.record({
      idx: fc.integer({ min: 0, max: 18 }),
      bps: fc.option(fc.constantFrom(0, 100, 500, 1000, 2500), { nil: undefined }),
    }),
    { freq: 4 },
  ),
});
const cancelArb = fc.record({ kind: fc.constant('cancel' as const), pick: fc.nat() });
const cmdsArb = fc.array(fc.oneof({ weight: 3, arbitrary: submitArb }, { weight: 1, arbitrary: cancelArb }), { maxLength: 120 });

function toOrder(c: Extract<Cmd, { kind: 'submit' }>, i: number): NewOrder {
  const o: NewOrder = {
    orderId: `o${i}`,
    userId: `u${c.user}`,
    side: c.side,
    action: c.action,
    price: c.priceIdx === 19 ? 975 : (c.priceIdx + 1) * TICK,
    quantity: c.quantity,
    tif: c.tif,
  };
  if (c.seen !== null) {
    o.seenPrice = (c.seen.idx + 1) * TICK;
    if (c.seen.bps !== undefined) o.slippageBps = c.seen.bps;
  }
  return o;
}

type Step = { kind: 'submit'; order: NewOrder; result: SubmitResult } | { kind: 'cancel'; orderId: string; result: CancelResult };

/** Runs the commands; cancels pick among ids submitted so far (some resting, some not). */
function run(book: OrderBook, cmds: Cmd[], onStep?: (s: Step, book: OrderBook) => void): Step[] {
  const steps: Step[] = [];
  const ids: string[] = [];
  cmds.forEach((c, i) => {
    let s: Step;
    if (c.kind === 'submit') {
      const order = toOrder(c, i);
      ids.push(order.orderId);
      s = { kind: 'submit', order, result: book.submit(order) };
    } else {
      const orderId = ids.length === 0 ? 'none' : ids[c.pick % ids.length];
      s = { kind: 'cancel', orderId, result: book.cancel(orderId) };
    }
    steps.push(s);
    onStep?.(s, book);
  });
  return steps;
}

const plain = (x: unknown): unknown => JSON.parse(JSON.stringify(x));

// ── reference model ─────────────────────────────────────────────────────────────────────────────

interface MOrder {
  orderId: string;
  userId: string;
  side: Side;
  action: Action;
  price: number;
  yes: number;
  isBid: boolean;
  quantity: number;
  remaining: number;
  seq: number;
}

class Model {
  orders: MOrder[] = [];
  seq = 0;

  private opposite(isBid: boolean, yesLimit: number, userId: string | null): MOrder[] {
    return this.orders
      .filter((o) => o.isBid !== isBid && (isBid ? o.yes <= yesLimit : o.yes >= yesLimit) && (userId === null || o.userId !== userId))
      .sort((a, b) => (isBid ? a.yes - b.yes : b.yes - a.yes) || a.seq - b.seq);
  }

  private qtyWithin(isBid: boolean, yesLimit: number, userId: string): number {
    return this.opposite(isBid, yesLimit, userId).reduce((s, o) => s + o.remaining, 0);
  }

  submit(o: NewOrder): unknown {
    const yesOf = (side: Side, p: number) => (side === 'YES' ? p : PAYOUT - p);
    const valid = (p: number) => Number.isInteger(p) && p >= 50 && p <= 950 && p % 50 === 0;
    const reject = (reason: string, currentPrice: number | null = null, worst: number | null = null) => ({
      ok: false,
      orderId: o.orderId,
      reason,
      currentPrice,
      worstAcceptablePrice: worst,
    });
    if (!valid(o.price) || (o.seenPrice !== undefined && !valid(o.seenPrice))) return reject('invalid_price');
    if (!(o.quantity >= 1)) return reject('invalid_quantity');
    const isBid = (o.side === 'YES') === (o.action === 'BUY');
    const best = (): number | null => {
      const opp = this.opposite(isBid, isBid ? 950 : 50, null);
      return opp.length === 0 ? null : yesOf(o.side, opp[0].yes);
    };
    let limit = o.price;
    if (o.seenPrice !== undefined) {
      const bps = o.slippageBps ?? 500;
      const worst =
        o.action === 'BUY'
          ? Math.min(o.price, Math.floor((o.seenPrice * (10000 + bps)) / 10000))
          : Math.max(o.price, Math.ceil((o.seenPrice * (10000 - bps)) / 10000));
      const eff = o.action === 'BUY' ? Math.floor(worst / 50) * 50 : Math.ceil(worst / 50) * 50;
      const within = this.qtyWithin(isBid, yesOf(o.side, eff), o.userId);
      const upToLimit = this.qtyWithin(isBid, yesOf(o.side, o.price), o.userId);
      if (within < o.quantity && upToLimit > within) return reject('slippage', best(), worst);
      limit = eff;
    }
    const yesLimit = yesOf(o.side, limit);
    if (o.tif === 'FOK' && this.qtyWithin(isBid, yesLimit, o.userId) < o.quantity) return reject('fok_unfillable', best());
    const seq = ++this.seq;
    let remaining = o.quantity;
    const fills: unknown[] = [];
    const selfTradeCancels: unknown[] = [];
    for (const m of this.opposite(isBid, yesLimit, null)) {
      if (remaining === 0) break;
      if (m.userId === o.userId) {
        selfTradeCancels.push({
          orderId: m.orderId,
          userId: m.userId,
          side: m.side,
          action: m.action,
          price: m.price,
          cancelledQty: m.remaining,
          seq: m.seq,
        });
        this.orders = this.orders.filter((x) => x !== m);
        continue;
      }
      const q = Math.min(remaining, m.remaining);
      m.remaining -= q;
      remaining -= q;
      const kind = o.action === 'BUY' ? (m.action === 'BUY' ? 'mint' : 'transfer') : m.action === 'BUY' ? 'transfer' : 'merge';
      fills.push({
        marketId: 'm',
        kind,
        yesPrice: m.yes,
        noPrice: PAYOUT - m.yes,
        quantity: q,
        takerOrderId: o.orderId,
        takerUserId: o.userId,
        takerSide: o.side,
        takerAction: o.action,
        takerPrice: yesOf(o.side, m.yes),
        makerOrderId: m.orderId,
        makerUserId: m.userId,
        makerSide: m.side,
        makerAction: m.action,
        makerPrice: m.price,
        makerRemaining: m.remaining,
      });
      if (m.remaining === 0) this.orders = this.orders.filter((x) => x !== m);
    }
    let resting = null;
    if (remaining > 0 && o.tif === 'GTC') {
      const r: MOrder = {
        orderId: o.orderId,
        userId: o.userId,
        side: o.side,
        action: o.action,
        price: limit,
        yes: yesLimit,
        isBid,
        quantity: o.quantity,
        remaining,
        seq,
      };
      this.orders.push(r);
      resting = {
        orderId: r.orderId,
        userId: r.userId,
        side: r.side,
        action: r.action,
        price: r.price,
        quantity: r.quantity,
        remaining,
        seq,
      };
    }
    return {
      ok: true,
      orderId: o.orderId,
      seq,
      status: remaining === 0 ? 'filled' : resting ? 'open' : 'expired',
      fills,
      filledQty: o.quantity - remaining,
      restingQty: resting ? remaining : 0,
      cancelledQty: remaining > 0 && !resting ? remaining : 0,
      resting,
      selfTradeCancels,
    };
  }

  cancel(orderId: string): unknown {
    const m = this.orders.find((x) => x.orderId === orderId);
    if (!m) return { ok: false, orderId, reason: 'unknown_order' };
    this.orders = this.orders.filter((x) => x !== m);
    return { ok: true, orderId, userId: m.userId, side: m.side, action: m.action, price: m.price, cancelledQty: m.remaining, seq: m.seq };
  }
}

// ── properties ──────────────────────────────────────────────────────────────────────────────────

const RUNS = 400;

describe('OrderBook properties', () => {
  test('matches a naive reference model exactly (fills, price-time priority, self-trade, slippage, FOK, IOC)', () => {
    fc.assert(
      fc.property(cmdsArb, (cmds) => {
        const model = new Model();
        run(new OrderBook('m'), cmds, (s) => {
          const expected = s.kind === 'submit' ? model.submit(s.order) : model.cancel(s.orderId);
          expect(plain(s.result)).toEqual(expected);
        });
      }),
      { numRuns: RUNS },
    );
  });

  test('the book is never crossed at rest and aggregates match the resting orders', () => {
    fc.assert(
      fc.property(cmdsArb, (cmds) => {
        run(new OrderBook('m'), cmds, (_s, book) => {
          const bid = book.bestBid();
          const ask = book.bestAsk();
          if (bid !== null && ask !== null) expect(bid).toBeLessThan(ask);
          const snap = book.snapshot();
          const open = book.openOrders();
          const yesOf = (o: { side: Side; price: number }) => (o.side === 'YES' ? o.price : PAYOUT - o.price);
          const isBid = (o: { side: Side; action: Action }) => (o.side === 'YES') === (o.action === 'BUY');
          for (const [levels, bidSide] of [
            [snap.bids, true],
            [snap.asks, false],
          ] as const) {
            for (const l of levels) {
              const at = open.filter((o) => isBid(o) === bidSide && yesOf(o) === l.price);
              expect(l.quantity).toBe(at.reduce((s, o) => s + o.remaining, 0));
              expect(l.orders).toBe(at.length);
            }
            expect(levels.reduce((s, l) => s + l.orders, 0)).toBe(open.filter((o) => isBid(o) === bidSide).length);
          }
          expect(snap.bestBid).toBe(snap.bids[0]?.price ?? null);
          expect(snap.bestAsk).toBe(snap.asks[0]?.price ?? null);
          expect(book.size).toBe(open.length);
        });
      }),
      { numRuns: RUNS },
    );
  });

  test('price-time priority: each fill takes the best price, oldest order first (checked against the pre-submit book)', () => {
    fc.assert(
      fc.property(cmdsArb, (cmds) => {
        const book = new OrderBook('m');
        const ids: string[] = [];
        cmds.forEach((c, i) => {
          if (c.kind === 'cancel') {
            if (ids.length) book.cancel(ids[c.pick % ids.length]);
            return;
          }
          const o = toOrder(c, i);
          ids.push(o.orderId);
          const before = book.openOrders();
          const r = book.submit(o);
          if (!r.ok) return;
          const isBidTaker = (o.side === 'YES') === (o.action === 'BUY');
          // queue of opposite orders in priority order
          const queue = before
            .filter((x) => ((x.side === 'YES') === (x.action === 'BUY')) !== isBidTaker)
            .map((x) => ({ ...x, yes: x.side === 'YES' ? x.price : PAYOUT - x.price }))
            .sort((a, b) => (isBidTaker ? a.yes - b.yes : b.yes - a.yes) || a.seq - b.seq);
          const consumed = new Set<string>(r.selfTradeCancels.map((x) => x.orderId));
          for (const f of r.fills) {
            // every better-priority order must have been fully consumed or self-trade-cancelled
            const pos = queue.findIndex((x) => x.orderId === f.makerOrderId);
            expect(pos).toBeGreaterThanOrEqual(0);
            for (const ahead of queue.slice(0, pos)) expect(consumed.has(ahead.orderId)).toBe(true);
            expect(f.yesPrice).toBe(queue[pos].yes);
            if (f.makerRemaining === 0) consumed.add(f.makerOrderId);
          }
        });
      }),
      { numRuns: RUNS },
    );
  });

  test('contracts and cash are conserved; escrow = 1000 × outstanding pairs', () => {
    fc.assert(
      fc.property(cmdsArb, (cmds) => {
        const yes = new Map<string, number>();
        const no = new Map<string, number>();
        let minted = 0;
        let merged = 0;
        let buyersPaid = 0;
        let sellersReceived = 0;
        let escrow = 0;
        run(new OrderBook('m'), cmds, (s) => {
          if (s.kind !== 'submit' || !s.result.ok) return;
          for (const f of s.result.fills) {
            const st = settleFill(f);
            expect(st.takerCash + st.makerCash + st.escrowCash).toBe(0);
            for (const [user, side, action, price, delta] of [
              [f.takerUserId, f.takerSide, f.takerAction, f.takerPrice, st.takerContracts],
              [f.makerUserId, f.makerSide, f.makerAction, f.makerPrice, st.makerContracts],
            ] as const) {
              const m = side === 'YES' ? yes : no;
              m.set(user, (m.get(user) ?? 0) + delta);
              if (action === 'BUY') buyersPaid += price * f.quantity;
              else sellersReceived += price * f.quantity;
            }
            expect(f.yesPrice + f.noPrice).toBe(PAYOUT);
            escrow += st.escrowCash;
            if (f.kind === 'mint') minted += f.quantity;
            if (f.kind === 'merge') merged += f.quantity;
          }
          const sum = (m: Map<string, number>) => [...m.values()].reduce((a, b) => a + b, 0);
          expect(sum(yes)).toBe(minted - merged);
          expect(sum(no)).toBe(minted - merged);
          expect(escrow).toBe(PAYOUT * (minted - merged));
          expect(buyersPaid).toBe(sellersReceived + escrow);
        });
      }),
      { numRuns: RUNS },
    );
  });

  test('no fill beyond an order limit or slippage bound; FOK all-or-nothing; IOC never rests; quantities add up', () => {
    fc.assert(
      fc.property(cmdsArb, (cmds) => {
        type Acc = { order: NewOrder; worst: number; filled: number; cancelled: number; accepted: boolean };
        const acc = new Map<string, Acc>();
        const better = (o: NewOrder, price: number, bound: number) => (o.action === 'BUY' ? price <= bound : price >= bound);
        run(new OrderBook('m'), cmds, (s, book) => {
          if (s.kind === 'cancel') {
            if (s.result.ok) acc.get(s.orderId)!.cancelled += s.result.cancelledQty;
            return;
          }
          const o = s.order;
          const r = s.result;
          let worst = o.price;
          if (o.seenPrice !== undefined) {
            const bps = o.slippageBps ?? 500;
            const raw =
              o.action === 'BUY' ? Math.floor((o.seenPrice * (10000 + bps)) / 10000) : Math.ceil((o.seenPrice * (10000 - bps)) / 10000);
            worst = o.action === 'BUY' ? Math.min(o.price, raw) : Math.max(o.price, raw);
          }
          acc.set(o.orderId, { order: o, worst, filled: 0, cancelled: 0, accepted: r.ok });
          if (!r.ok) {
            expect(book.getOrder(o.orderId)).toBeNull();
            return;
          }
          const me = acc.get(o.orderId)!;
          for (const f of r.fills) {
            expect(better(o, f.takerPrice, worst)).toBe(true);
            expect(f.makerUserId).not.toBe(f.takerUserId);
            const maker = acc.get(f.makerOrderId)!;
            expect(better(maker.order, f.makerPrice, maker.worst)).toBe(true);
            maker.filled += f.quantity;
            me.filled += f.quantity;
          }
          for (const c of r.selfTradeCancels) acc.get(c.orderId)!.cancelled += c.cancelledQty;
          me.cancelled += r.cancelledQty;
          expect(r.filledQty + r.restingQty + r.cancelledQty).toBe(o.quantity);
          if (o.tif === 'FOK') expect([r.status, r.filledQty]).toEqual(['filled', o.quantity]);
          if (o.tif !== 'GTC') {
            expect(r.resting).toBeNull();
            expect(book.getOrder(o.orderId)).toBeNull();
          }
          // per order: remaining = initial − filled − cancelled ≥ 0
          for (const a of acc.values()) {
            if (!a.accepted) continue;
            const remaining = book.getOrder(a.order.orderId)?.remaining ?? 0;
            expect(remaining).toBe(a.order.quantity - a.filled - a.cancelled);
            expect(remaining).toBeGreaterThanOrEqual(0);
          }
        });
      }),
      { numRuns: RUNS },
    );
  });

  test('replay on a fresh book gives identical results and hash; restore() gives the same hash and behaviour', () => {
    fc.assert(
      fc.property(cmdsArb, fc.nat(), (cmds, cut) => {
        const a = new OrderBook('m');
        const b = new OrderBook('m');
        const ra = run(a, cmds);
        const rb = run(b, cmds);
        expect(plain(rb)).toEqual(plain(ra));
        expect(b.hash()).toBe(a.hash());

        // restore at an arbitrary point, then continue both books with the same tail
        const k = cmds.length === 0 ? 0 : cut % (cmds.length + 1);
        const live = new OrderBook('m');
        run(live, cmds.slice(0, k));
        const restored = new OrderBook('m');
        restored.restore(live.openOrders(), live.lastSequence);
        expect(restored.hash()).toBe(live.hash());
        expect(restored.snapshot()).toEqual(live.snapshot());
        const tail = cmds.slice(k).filter((c) => c.kind === 'submit');
        const offset = cmds.length; // fresh ids for the tail
        tail.forEach((c, i) => {
          const o = toOrder(c as Extract<Cmd, { kind: 'submit' }>, offset + i);
          expect(plain(restored.submit(o))).toEqual(plain(live.submit(o)));
        });
        expect(restored.hash()).toBe(live.hash());
      }),
      { numRuns: RUNS },
    );
  });
});
