import { BPS, PAYOUT } from './constants';

/**
 * Trading fee in paise for `qty` contracts at `pricePaise` (either side's terms — the formula is
 * symmetric, p(1000 − p) is the same for YES at p and NO at 1000 − p):
 *
 *   fee = ceil( qty × feeBps × p × (1000 − p) / (10000 × 1000) )
 *
 * i.e. feeRate × qty × PAYOUT × P(1 − P) with P = p/1000, rounded up to a whole paisa. It is largest
 * at p = 500 (e.g. feeBps 200, qty 10 → ceil(10 × 200 × 250000 / 10^7) = 50 paise) and shrinks
 * towards the extremes, so near-certain outcomes are cheap to trade. Computed exactly in integers
 * (BigInt fallback when the product would exceed 2^53). Zero when feeBps = 0.
 * The engine never charges fees; the caller applies this to each fill as it chooses.
 *
 * @throws RangeError for a price outside 0..1000, a non-positive/non-integer qty or feeBps outside 0..10000.
 */
export function tradeFee(pricePaise: number, qty: number, feeBps: number): number {
  if (!Number.isInteger(pricePaise) || pricePaise < 0 || pricePaise > PAYOUT) {
    throw new RangeError(`tradeFee: price must be an integer in 0..${PAYOUT}, got ${pricePaise}`);
  }
  if (!Number.isSafeInteger(qty) || qty < 1) throw new RangeError(`tradeFee: qty must be a positive integer, got ${qty}`);
  if (!Number.isInteger(feeBps) || feeBps < 0 || feeBps > BPS) {
    throw new RangeError(`tradeFee: feeBps must be an integer in 0..${BPS}, got ${feeBps}`);
  }
  const perContract = feeBps * pricePaise * (PAYOUT - pricePaise); // ≤ 10^4 × 250000 = 2.5e9
  const denom = BPS * PAYOUT;
  if (perContract === 0) return 0;
  if (qty <= Math.floor(Number.MAX_SAFE_INTEGER / perContract)) {
    const num = perContract * qty;
    const r = num % denom;
    return r === 0 ? num / denom : (num - r) / denom + 1;
  }
  const num = BigInt(perContract) * BigInt(qty);
  const d = BigInt(denom);
  return Number((num + d - 1n) / d);
}
