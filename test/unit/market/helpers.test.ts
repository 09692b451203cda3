import {
  BPS,
  DEFAULT_SLIPPAGE_BPS,
  LEVELS,
  MAX_PRICE,
  MAX_QUANTITY,
  MIN_PRICE,
  PAYOUT,
  PRICE_GRID,
  TICK,
  effectiveLimitPrice,
  fillKind,
  fromYesPrice,
  indexToPrice,
  isBidOrder,
  isValidPrice,
  isValidQuantity,
  isValidSlippageBps,
  oppositeSide,
  priceToIndex,
  settleFill,
  toYesPrice,
  tradeFee,
  worstAcceptablePrice,
  type Fill,
} from '../../../domain/market';
import fc from 'fast-check';

describe('constants', () => {
  test('grid', () => {
    expect([TICK, MIN_PRICE, MAX_PRICE, PAYOUT, LEVELS, BPS, DEFAULT_SLIPPAGE_BPS]).toEqual([50, 50, 950, 1000, 19, 10000, 500]);
    expect(PRICE_GRID).toHaveLength(19);
    expect(PRICE_GRID[0]).toBe(50);
    expect(PRICE_GRID[18]).toBe(950);
    PRICE_GRID.forEach((p, i) => {
      expect(priceToIndex(p)).toBe(i);
      expect(indexToPrice(i)).toBe(p);
    });
  });
});

describe('price helpers', () => {
  test.each([
    [50, true],
    [500, true],
    [950, true],
    [0, false],
    [1000, false],
    [975, false],
    [525, false],
    [49, false],
    [50.5, false],
    [-50, false],
    [NaN, false],
    [Infinity, false],
    ['500', false],
    [null, false],
  ])('isValidPrice(%p) = %p', (p, ok) => {
    expect(isValidPrice(p)).toBe(ok);
  });

  test.each([
    [1, true],
    [MAX_QUANTITY, true],
    [0, false],
    [-1, false],
    [1.5, false],
    [MAX_QUANTITY + 1, false],
    [NaN, false],
    ['3', false],
  ])('isValidQuantity(%p) = %p', (q, ok) => {
    expect(isValidQuantity(q)).toBe(ok);
  });

  test('YES/NO conversion', () => {
    expect(toYesPrice('YES', 300)).toBe(300);
    expect(toYesPrice('NO', 300)).toBe(700);
    expect(fromYesPrice('NO', 700)).toBe(300);
    expect(fromYesPrice('YES', 700)).toBe(700);
    for (const p of PRICE_GRID) {
      expect(fromYesPrice('NO', toYesPrice('NO', p))).toBe(p);
      expect(isValidPrice(toYesPrice('NO', p))).toBe(true);
    }
    expect(oppositeSide('YES')).toBe('NO');
    expect(oppositeSide('NO')).toBe('YES');
  });

  test('book side of each side/action', () => {
    expect(isBidOrder('YES', 'BUY')).toBe(true);
    expect(isBidOrder('NO', 'SELL')).toBe(true);
    expect(isBidOrder('YES', 'SELL')).toBe(false);
    expect(isBidOrder('NO', 'BUY')).toBe(false);
  });

  test('fill kinds', () => {
    expect(fillKind('BUY', 'BUY')).toBe('mint');
    expect(fillKind('BUY', 'SELL')).toBe('transfer');
    expect(fillKind('SELL', 'BUY')).toBe('transfer');
    expect(fillKind('SELL', 'SELL')).toBe('merge');
  });
});

describe('slippage math', () => {
  test('buys: at most seen × (1 + tol), floored, bounded by the limit', () => {
    expect(worstAcceptablePrice('BUY', 950, 500, 500)).toBe(525);
    expect(worstAcceptablePrice('BUY', 950, 550, 500)).toBe(577); // 577.5 floored
    expect(worstAcceptablePrice('BUY', 520, 500, 500)).toBe(520); // limit is tighter
    expect(worstAcceptablePrice('BUY', 950, 500, 0)).toBe(500);
    expect(worstAcceptablePrice('BUY', 950, 900, 10000)).toBe(950);
  });

  test('sells: at least seen × (1 − tol), ceiled, bounded by the limit', () => {
    expect(worstAcceptablePrice('SELL', 50, 500, 500)).toBe(475);
    expect(worstAcceptablePrice('SELL', 50, 550, 500)).toBe(523); // 522.5 ceiled
    expect(worstAcceptablePrice('SELL', 490, 500, 500)).toBe(490);
    expect(worstAcceptablePrice('SELL', 50, 100, 10000)).toBe(50);
  });

  test('effective limit snaps inward to the grid', () => {
    expect(effectiveLimitPrice('BUY', 525)).toBe(500);
    expect(effectiveLimitPrice('BUY', 550)).toBe(550);
    expect(effectiveLimitPrice('SELL', 475)).toBe(500);
    expect(effectiveLimitPrice('SELL', 450)).toBe(450);
  });

  test('property: the effective limit is a valid price within [limit side, worst] and never worse than worst', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...PRICE_GRID),
        fc.constantFrom(...PRICE_GRID),
        fc.integer({ min: 0, max: 10000 }),
        fc.constantFrom<'BUY' | 'SELL'>('BUY', 'SELL'),
        (limit, seen, bps, action) => {
          const worst = worstAcceptablePrice(action, limit, seen, bps);
          const eff = effectiveLimitPrice(action, worst);
          expect(isValidPrice(eff)).toBe(true);
          expect(Number.isInteger(worst)).toBe(true);
          if (action === 'BUY') {
            expect(worst).toBeLessThanOrEqual(limit);
            expect(worst * BPS).toBeLessThanOrEqual(seen * (BPS + bps));
            expect(eff).toBeLessThanOrEqual(worst);
            expect(worst - eff).toBeLessThan(TICK);
          } else {
            expect(worst).toBeGreaterThanOrEqual(limit);
            expect(worst * BPS).toBeGreaterThanOrEqual(seen * (BPS - bps));
            expect(eff).toBeGreaterThanOrEqual(worst);
            expect(eff - worst).toBeLessThan(TICK);
          }
        },
      ),
    );
  });

  test('isValidSlippageBps', () => {
    expect(isValidSlippageBps(0)).toBe(true);
    expect(isValidSlippageBps(10000)).toBe(true);
    expect(isValidSlippageBps(10001)).toBe(false);
    expect(isValidSlippageBps(-1)).toBe(false);
    expect(isValidSlippageBps(2.5)).toBe(false);
  });
});

describe('tradeFee', () => {
  test('examples', () => {
    expect(tradeFee(500, 10, 200)).toBe(50); // 10 × 2% × 500 × 500 / 1000
    expect(tradeFee(500, 1, 1000)).toBe(25);
    expect(tradeFee(50, 1, 200)).toBe(1); // 0.95 rounded up
    expect(tradeFee(50, 100, 200)).toBe(95);
    expect(tradeFee(500, 7, 0)).toBe(0);
    expect(tradeFee(0, 7, 200)).toBe(0);
    expect(tradeFee(1000, 7, 200)).toBe(0);
  });

  test('symmetric in YES/NO, maximal at 500, exact for huge quantities', () => {
    for (const p of PRICE_GRID) {
      expect(tradeFee(p, 123, 150)).toBe(tradeFee(PAYOUT - p, 123, 150));
      expect(tradeFee(p, 123, 150)).toBeLessThanOrEqual(tradeFee(500, 123, 150));
    }
    // BigInt path: 1e9 × 10000 × 250000 exceeds 2^53.
    expect(tradeFee(500, 1_000_000_000, 10000)).toBe(250_000_000_000);
    expect(tradeFee(450, 999_999_999, 9999)).toBe(Number((999_999_999n * 9999n * 450n * 550n + 10_000_000n - 1n) / 10_000_000n));
  });

  test('property: equals ceil(qty × bps × p(1000−p) / 10^7) computed with BigInt', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1000 }),
        fc.integer({ min: 1, max: 2_000_000_000 }),
        fc.integer({ min: 0, max: 10000 }),
        (p, q, bps) => {
          const num = BigInt(q) * BigInt(bps) * BigInt(p) * BigInt(1000 - p);
          const expected = Number((num + 9_999_999n) / 10_000_000n);
          expect(tradeFee(p, q, bps)).toBe(expected);
        },
      ),
    );
  });

  test('rejects bad input', () => {
    expect(() => tradeFee(1001, 1, 1)).toThrow(RangeError);
    expect(() => tradeFee(500.5, 1, 1)).toThrow(RangeError);
    expect(() => tradeFee(500, 0, 1)).toThrow(RangeError);
    expect(() => tradeFee(500, 1.5, 1)).toThrow(RangeError);
    expect(() => tradeFee(500, 1, 10001)).toThrow(RangeError);
    expect(() => tradeFee(500, 1, -1)).toThrow(RangeError);
  });
});

describe('settleFill', () => {
  const base = {
    marketId: 'm',
    quantity: 3,
    yesPrice: 600,
    noPrice: 400,
    takerOrderId: 't',
    takerUserId: 'ut',
    makerOrderId: 'm1',
    makerUserId: 'um',
    makerRemaining: 0,
  };
  test('mint: both buyers pay into escrow', () => {
    const f: Fill = {
      ...base,
      kind: 'mint',
      takerSide: 'NO',
      takerAction: 'BUY',
      takerPrice: 400,
      makerSide: 'YES',
      makerAction: 'BUY',
      makerPrice: 600,
    };
    expect(settleFill(f)).toEqual({
      takerCash: -1200,
      makerCash: -1800,
      escrowCash: 3000,
      takerSide: 'NO',
      takerContracts: 3,
      makerSide: 'YES',
      makerContracts: 3,
      pairsDelta: 3,
    });
  });
  test('transfer: buyer pays seller', () => {
    const f: Fill = {
      ...base,
      kind: 'transfer',
      takerSide: 'YES',
      takerAction: 'BUY',
      takerPrice: 600,
      makerSide: 'YES',
      makerAction: 'SELL',
      makerPrice: 600,
    };
    const s = settleFill(f);
    expect([s.takerCash, s.makerCash, s.escrowCash, s.takerContracts, s.makerContracts, s.pairsDelta]).toEqual([-1800, 1800, 0, 3, -3, 0]);
  });
  test('merge: escrow pays both sellers', () => {
    const f: Fill = {
      ...base,
      kind: 'merge',
      takerSide: 'NO',
      takerAction: 'SELL',
      takerPrice: 400,
      makerSide: 'YES',
      makerAction: 'SELL',
      makerPrice: 600,
    };
    const s = settleFill(f);
    expect([s.takerCash, s.makerCash, s.escrowCash, s.takerContracts, s.makerContracts, s.pairsDelta]).toEqual([
      1200, 1800, -3000, -3, -3, -3,
    ]);
  });
});
