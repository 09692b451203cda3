import fc from 'fast-check';
import { MarketMatcher, type PendingCommand } from '../../../domain/market/batch';
import { maxBuyCost } from '../../../domain/market/costs';
import { tradeFee } from '../../../domain/market';

const price = fc.integer({ min: 1, max: 19 }).map((i) => i * 50);

test('the hold for a buy covers any set of fills at or better than its limit', () => {
  fc.assert(
    fc.property(
      price,
      fc.array(fc.tuple(price, fc.integer({ min: 1, max: 50 })), { minLength: 1, maxLength: 8 }),
      fc.integer({ min: 0, max: 1000 }),
      (limit, fills, feeBps) => {
        const ok = fills.filter(([p]) => p <= limit);
        const qty = ok.reduce((s, [, q]) => s + q, 0);
        if (qty === 0) return;
        const cost = ok.reduce((s, [p, q]) => s + p * q + tradeFee(p, q, feeBps), 0);
        expect(cost).toBeLessThanOrEqual(maxBuyCost(limit, qty, feeBps));
      },
    ),
  );
});

test('every batch posts balanced journals, conserves contracts and draws holds exactly', () => {
  fc.assert(
    fc.property(
      fc.array(
        fc.record({
          user: fc.integer({ min: 0, max: 4 }),
          side: fc.constantFrom('YES', 'NO'),
          price,
          qty: fc.integer({ min: 1, max: 9 }),
          tif: fc.constantFrom('GTC', 'IOC'),
        }),
        { maxLength: 60 },
      ),
      (orders) => {
        const m = new MarketMatcher('mk_test', 200);
        const holds = new Map<number, number>();
        const cmds: PendingCommand[] = orders.map((o, i) => {
          const hold = maxBuyCost(o.price, o.qty, 200);
          holds.set(i + 1, hold);
          return {
            orderId: `o${i}`,
            userId: `u${o.user}`,
            side: o.side as 'YES' | 'NO',
            action: 'BUY',
            price: o.price,
            quantity: o.qty,
            tif: o.tif as 'GTC' | 'IOC',
            seenPrice: null,
            slippageBps: 500,
            pendingSeq: i + 1,
            status: 'accepted',
            cancelRequested: false,
            holdId: i + 1,
            holdRemaining: hold,
          };
        });
        const r = m.process(cmds);
        for (const j of r.journals) expect(j.lines.reduce((s, l) => s + l.amount, 0)).toBe(0);
        const yes = r.positions.filter((p) => p.side === 'YES').reduce((s, p) => s + p.quantity, 0);
        const no = r.positions.filter((p) => p.side === 'NO').reduce((s, p) => s + p.quantity, 0);
        expect(yes).toBe(no);
        const escrow = r.journals
          .flatMap((j) => j.lines)
          .filter((l) => l.account === 'market:mk_test:escrow')
          .reduce((s, l) => s + l.amount, 0);
        expect(escrow).toBe(1000 * yes);
        for (const o of r.orders) {
          expect(o.filledQty + o.remaining + o.cancelledQty).toBe(o.quantity);
          if (o.status !== 'open') expect(o.holdRemaining).toBe(0);
        }
        // What each wallet paid equals what was drawn from its holds for fills.
        const drawn = r.holds.reduce((s, h) => s + h.amount, 0);
        const released = r.orders
          .filter((o) => o.status !== 'open')
          .reduce((s, o) => s + (holds.get(o.holdId!)! - o.filledCost - o.fees), 0);
        const paid =
          0 -
          r.journals
            .flatMap((j) => j.lines)
            .filter((l) => l.account.startsWith('user:'))
            .reduce((s, l) => s + l.amount, 0);
        expect(drawn - released).toBe(paid);
      },
    ),
  );
});
