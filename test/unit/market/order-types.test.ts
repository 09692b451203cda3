import fc from 'fast-check';
import { GTD_EXPIRED, MarketMatcher, type LiveOrder, type PendingCommand } from '../../../domain/market/batch';
import { maxBuyCost } from '../../../domain/market/costs';
import { OrderBook, type Side } from '../../../domain/market';

/** Good-till-date, post-only and decrease rules of the engine's pure core. */

const FEE = 200;
const price = fc.integer({ min: 1, max: 19 }).map((i) => i * 50);

let n = 0;
function cmd(o: Partial<PendingCommand> & { userId: string; side: Side; price: number; quantity: number }): PendingCommand {
  const i = ++n;
  const action = o.action ?? 'BUY';
  return {
    orderId: o.orderId ?? `o${i}`,
    action,
    tif: 'GTC',
    seenPrice: null,
    slippageBps: 500,
    pendingSeq: i,
    status: 'accepted',
    cancelRequested: false,
    holdId: action === 'BUY' ? i : null,
    holdRemaining: action === 'BUY' ? maxBuyCost(o.price, o.quantity, FEE) : 0,
    ...o,
  };
}

/** The command the engine reads when an order row is re-queued (a cancel or a decrease). */
const requeued = (o: LiveOrder, extra: Partial<PendingCommand>): PendingCommand => ({
  orderId: o.orderId,
  userId: o.userId,
  side: o.side,
  action: o.action,
  price: o.bookPrice ?? 0,
  quantity: o.quantity,
  tif: 'GTC',
  seenPrice: null,
  slippageBps: 500,
  pendingSeq: ++n,
  status: o.status,
  cancelRequested: false,
  holdId: o.holdId,
  holdRemaining: o.holdRemaining,
  ...extra,
});

describe('post-only', () => {
  test('never takes: it rests untouched or is rejected with the best price, and the book is then unchanged', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            user: fc.integer({ min: 0, max: 3 }),
            side: fc.constantFrom<Side>('YES', 'NO'),
            price,
            qty: fc.integer({ min: 1, max: 9 }),
          }),
          {
            maxLength: 30,
          },
        ),
        fc.array(
          fc.record({
            user: fc.integer({ min: 0, max: 3 }),
            side: fc.constantFrom<Side>('YES', 'NO'),
            price,
            qty: fc.integer({ min: 1, max: 9 }),
          }),
          {
            minLength: 1,
            maxLength: 10,
          },
        ),
        (resting, postOnly) => {
          const book = new OrderBook('mk_test');
          resting.forEach((o, i) =>
            book.submit({
              orderId: `r${i}`,
              userId: `u${o.user}`,
              side: o.side,
              action: 'BUY',
              price: o.price,
              quantity: o.qty,
              tif: 'GTC',
            }),
          );
          postOnly.forEach((o, i) => {
            const before = book.hash();
            const crossesBefore = book.snapshot();
            const res = book.submit({
              orderId: `p${i}`,
              userId: `u${o.user}`,
              side: o.side,
              action: 'BUY',
              price: o.price,
              quantity: o.qty,
              tif: 'GTC',
              postOnly: true,
            });
            if (!res.ok) {
              expect(res.reason).toBe('post_only_would_take');
              expect(book.hash()).toBe(before);
              // It was refused because something on the other side was at or better than its limit.
              const best = o.side === 'YES' ? crossesBefore.yes.buy : crossesBefore.no.buy;
              expect(res.currentPrice).toBe(best);
              expect(best).not.toBeNull();
              expect(best!).toBeLessThanOrEqual(o.price);
            } else {
              expect(res.fills).toHaveLength(0);
              expect(res.selfTradeCancels).toHaveLength(0);
              expect(res.restingQty).toBe(o.qty);
            }
          });
          const s = book.snapshot();
          if (s.bestBid !== null && s.bestAsk !== null) expect(s.bestBid).toBeLessThan(s.bestAsk);
        },
      ),
    );
  });

  test('is refused with IOC or FOK (it could only ever rest)', () => {
    const book = new OrderBook('mk_test');
    for (const tif of ['IOC', 'FOK'] as const)
      expect(
        book.submit({ orderId: `x${tif}`, userId: 'u', side: 'YES', action: 'BUY', price: 500, quantity: 1, tif, postOnly: true }),
      ).toMatchObject({
        ok: false,
        reason: 'invalid_order',
      });
  });

  test('in the engine: a rejected post-only buy releases its whole hold', () => {
    const m = new MarketMatcher('mk_test', FEE);
    m.process([cmd({ userId: 'maker', side: 'NO', price: 400, quantity: 5 })]); // YES ask at 600
    const r = m.process([cmd({ userId: 'taker', side: 'YES', price: 600, quantity: 2, postOnly: true })]);
    expect(r.fills).toHaveLength(0);
    expect(r.orders[0]).toMatchObject({ status: 'rejected', rejectReason: 'post_only_would_take', currentPrice: 600, holdRemaining: 0 });
    expect(r.holds).toEqual([{ holdId: r.orders[0].holdId, account: 'user:taker:wallet', amount: maxBuyCost(600, 2, FEE) }]);
  });
});

describe('decrease (amend to a lower quantity)', () => {
  test('keeps time priority: the reduced order still fills first at its level', () => {
    const book = new OrderBook('mk_test');
    book.submit({ orderId: 'a', userId: 'ua', side: 'YES', action: 'BUY', price: 500, quantity: 10, tif: 'GTC' });
    book.submit({ orderId: 'b', userId: 'ub', side: 'YES', action: 'BUY', price: 500, quantity: 10, tif: 'GTC' });
    expect(book.reduce('a', 3)).toEqual({ ok: true, orderId: 'a', remaining: 3, reducedBy: 7 });
    expect(book.snapshot().bids).toEqual([{ price: 500, quantity: 13, orders: 2 }]);
    const taker = book.submit({ orderId: 't', userId: 'ut', side: 'YES', action: 'SELL', price: 500, quantity: 4, tif: 'IOC' });
    expect(taker.ok && taker.fills.map((f) => [f.makerOrderId, f.quantity])).toEqual([
      ['a', 3],
      ['b', 1],
    ]);
  });

  test('never reorders the queue, and a book restored from the result is the same book', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ price, qty: fc.integer({ min: 1, max: 9 }) }), { minLength: 1, maxLength: 25 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 9 })), { maxLength: 25 }),
        (orders, reductions) => {
          const book = new OrderBook('mk_test');
          orders.forEach((o, i) =>
            book.submit({ orderId: `o${i}`, userId: `u${i}`, side: 'YES', action: 'BUY', price: o.price, quantity: o.qty, tif: 'GTC' }),
          );
          for (const [which, to] of reductions) {
            const open = book.openOrders();
            if (open.length === 0) break;
            const target = open[which % open.length];
            const before = open.filter((o) => o.orderId !== target.orderId || to > 0).map((o) => o.orderId);
            const r = book.reduce(target.orderId, to);
            expect(r.ok).toBe(true);
            expect(book.openOrders().map((o) => o.orderId)).toEqual(to >= target.remaining ? open.map((o) => o.orderId) : before);
          }
          const copy = new OrderBook('mk_test');
          copy.restore(book.openOrders(), book.lastSequence);
          expect(copy.hash()).toBe(book.hash());
          const levels = book.snapshot().bids;
          for (const l of levels)
            expect(l.quantity).toBe(
              book
                .openOrders()
                .filter((o) => o.price === l.price)
                .reduce((s, o) => s + o.remaining, 0),
            );
        },
      ),
    );
  });

  test('in the engine: a buy keeps only the hold its rest can cost; a sell unlocks what it gave up; to or below the filled part it ends', () => {
    const m = new MarketMatcher('mk_test', FEE);
    const buy = m.process([cmd({ userId: 'b', side: 'YES', price: 500, quantity: 10 })]).orders[0];
    const partial = m.process([cmd({ userId: 's', side: 'NO', price: 500, quantity: 2 })]).orders.find((o) => o.orderId === buy.orderId)!;
    expect(partial).toMatchObject({ filledQty: 2, remaining: 8 });

    const reduced = m.process([requeued(partial, { reduceTo: 5 })]);
    const after = reduced.orders[0];
    expect(after).toMatchObject({ status: 'open', filledQty: 2, remaining: 3, cancelledQty: 5 });
    expect(after.holdRemaining).toBe(maxBuyCost(500, 3, FEE));
    expect(reduced.holds).toEqual([{ holdId: buy.holdId, account: 'user:b:wallet', amount: partial.holdRemaining - after.holdRemaining }]);
    expect(m.book.snapshot().bids).toEqual([{ price: 500, quantity: 3, orders: 1 }]);

    // Repeating the same decrease (a duplicate wake-up) changes nothing.
    expect(m.process([requeued(after, { reduceTo: 5 })]).orders).toEqual([]);

    const ended = m.process([requeued(after, { reduceTo: 1 })]).orders[0];
    expect(ended).toMatchObject({ status: 'cancelled', filledQty: 2, remaining: 0, cancelledQty: 8, holdRemaining: 0 });
    expect(m.book.size).toBe(0);
  });

  test('a sell decreased then cancelled unlocks each contract once', () => {
    const m = new MarketMatcher('mk_test', FEE);
    const sell = m.process([cmd({ userId: 's', side: 'YES', action: 'SELL', price: 700, quantity: 6 })]).orders[0];
    const r1 = m.process([requeued(sell, { reduceTo: 2 })]);
    expect(r1.positions).toEqual([{ userId: 's', side: 'YES', quantity: 0, locked: -4, cost: 0 }]);
    const r2 = m.process([requeued(r1.orders[0], { cancelRequested: true })]);
    expect(r2.positions).toEqual([{ userId: 's', side: 'YES', quantity: 0, locked: -2, cost: 0 }]);
    expect(r2.orders[0]).toMatchObject({ status: 'cancelled', cancelledQty: 6 });
  });

  test('decreased before the engine saw it: only the smaller quantity enters and can fill', () => {
    const m = new MarketMatcher('mk_test', FEE);
    m.process([cmd({ userId: 'maker', side: 'NO', price: 400, quantity: 10 })]);
    const r = m.process([cmd({ userId: 'taker', side: 'YES', price: 600, quantity: 8, reduceTo: 3 })]);
    const taker = r.orders.find((o) => o.userId === 'taker')!;
    expect(taker).toMatchObject({ status: 'filled', filledQty: 3, cancelledQty: 5, holdRemaining: 0 });
  });
});

describe('good-till-date', () => {
  test('expires on time, releasing its hold; one already past its expiry never enters the book', () => {
    const m = new MarketMatcher('mk_test', FEE);
    const t0 = 1_000_000;
    const gtd = cmd({ userId: 'u', side: 'YES', price: 500, quantity: 4, expiresAt: t0 + 5_000 });
    m.process([gtd], t0);
    expect(m.nextExpiry()).toBe(t0 + 5_000);
    expect(m.process([], t0 + 4_999).orders).toEqual([]);
    const r = m.process([], t0 + 5_000);
    expect(r.orders).toEqual([
      expect.objectContaining({ orderId: gtd.orderId, status: 'expired', rejectReason: GTD_EXPIRED, holdRemaining: 0, cancelledQty: 4 }),
    ]);
    expect(r.holds).toEqual([{ holdId: gtd.holdId, account: 'user:u:wallet', amount: gtd.holdRemaining }]);
    expect(m.nextExpiry()).toBeNull();

    const late = cmd({ userId: 'u', side: 'YES', price: 500, quantity: 1, expiresAt: t0 });
    expect(m.process([late], t0 + 1).orders[0]).toMatchObject({ status: 'expired', rejectReason: GTD_EXPIRED });
    expect(m.book.size).toBe(0);
  });

  test('under replay: an engine restarted from the open orders expires exactly what the running one does', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            user: fc.integer({ min: 0, max: 4 }),
            side: fc.constantFrom<Side>('YES', 'NO'),
            price,
            qty: fc.integer({ min: 1, max: 9 }),
            expiresIn: fc.option(fc.integer({ min: 1, max: 100 }), { nil: undefined }),
          }),
          { maxLength: 40 },
        ),
        fc.integer({ min: 0, max: 120 }),
        (orders, later) => {
          const t0 = 5_000;
          const running = new MarketMatcher('mk_test', FEE);
          const placed = running.process(
            orders.map((o) =>
              cmd({
                userId: `u${o.user}`,
                side: o.side,
                price: o.price,
                quantity: o.qty,
                ...(o.expiresIn ? { expiresAt: t0 + o.expiresIn } : {}),
              }),
            ),
            t0,
          );
          // What a restart restores: the orders left resting, as committed.
          const open = placed.orders.filter((o) => o.status === 'open');
          const restarted = new MarketMatcher('mk_test', FEE);
          restarted.restore(open, placed.lastBookSeq);
          const a = running.process([], t0 + later);
          const b = restarted.process([], t0 + later);
          expect(b).toEqual(a);
          for (const o of a.orders) {
            expect(o.status).toBe('expired');
            expect(o.expiresAt).toBeLessThanOrEqual(t0 + later);
            expect(o.holdRemaining).toBe(0);
          }
          expect(restarted.book.hash()).toBe(running.book.hash());
          expect(restarted.nextExpiry()).toBe(running.nextExpiry());
        },
      ),
    );
  });
});
