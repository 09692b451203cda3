import fc from 'fast-check';
import { refundClawback, settlementSplit } from '../../../domain/checkout';

test('settlement rounds commission and referral down and gives the seller the remainder', () => {
  // 1 234 567 × 12.5% = 154 320.875 → 154 320; referral 1% = 12 345.67 → 12 345.
  expect(settlementSplit(1_234_567, 1250, 100)).toEqual({
    total: 1_234_567,
    grossCommission: 154_320,
    referral: 12_345,
    platform: 141_975,
    sellerNet: 1_080_247,
  });
});

test('the referral is capped at the commission: it never comes out of the seller share', () => {
  const s = settlementSplit(10_000, 200, 500);
  expect(s).toMatchObject({ grossCommission: 200, referral: 200, platform: 0, sellerNet: 9_800 });
});

test('zero rates settle everything to the seller', () => {
  expect(settlementSplit(999, 0, 0)).toEqual({ total: 999, grossCommission: 0, referral: 0, platform: 0, sellerNet: 999 });
});

test('a full refund after settlement reverses exactly the seller net and the commission; the referral is absorbed', () => {
  const s = settlementSplit(1_234_567, 1250, 100);
  const c = refundClawback(s, 1250, 0, s.total);
  expect(c).toEqual({ amount: s.total, fromSeller: s.sellerNet, fromRevenue: s.platform, fromReferralExpense: s.referral });
});

test('refunds beyond the total are refused', () => {
  const s = settlementSplit(1000, 1000, 0);
  expect(() => refundClawback(s, 1000, 600, 401)).toThrow(RangeError);
  expect(() => refundClawback(s, 1000, 0, 0)).toThrow(RangeError);
});

test('property: settlement sums to the total and every part is a non-negative integer', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 100_000_000 }),
      fc.integer({ min: 0, max: 10_000 }),
      fc.integer({ min: 0, max: 10_000 }),
      (total, cbps, rbps) => {
        const s = settlementSplit(total, cbps, rbps);
        expect(s.sellerNet + s.platform + s.referral).toBe(total);
        for (const v of [s.sellerNet, s.platform, s.referral, s.grossCommission]) {
          expect(Number.isSafeInteger(v) && v >= 0).toBe(true);
        }
        expect(s.grossCommission).toBeLessThanOrEqual((total * cbps) / 10_000);
      },
    ),
  );
});

test('property: any sequence of partial refunds adds up to a full refund, each part non-negative', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 10_000_000 }),
      fc.integer({ min: 0, max: 10_000 }),
      fc.integer({ min: 0, max: 10_000 }),
      fc.array(fc.integer({ min: 1, max: 1_000_000 }), { minLength: 1, maxLength: 8 }),
      (total, cbps, rbps, cuts) => {
        const s = settlementSplit(total, cbps, rbps);
        let refunded = 0;
        const sum = { fromSeller: 0, fromRevenue: 0, fromReferralExpense: 0 };
        const parts = [...cuts.map((c) => Math.min(c, total - refunded)), total];
        for (const p of parts) {
          const amount = Math.min(p, total - refunded);
          if (amount <= 0) continue;
          const c = refundClawback(s, cbps, refunded, amount);
          expect(c.fromSeller + c.fromRevenue + c.fromReferralExpense).toBe(amount);
          for (const v of [c.fromSeller, c.fromRevenue, c.fromReferralExpense]) expect(v).toBeGreaterThanOrEqual(0);
          sum.fromSeller += c.fromSeller;
          sum.fromRevenue += c.fromRevenue;
          sum.fromReferralExpense += c.fromReferralExpense;
          refunded += amount;
        }
        expect(refunded).toBe(total);
        expect(sum).toEqual({ fromSeller: s.sellerNet, fromRevenue: s.platform, fromReferralExpense: s.referral });
      },
    ),
  );
});
