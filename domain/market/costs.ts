import { PAYOUT } from './constants';
import { tradeFee } from './fees';

/** Fee is largest at p = 500 (p(1000 − p) peaks there); below it, the order's own limit bounds it. */
const FEE_PEAK = PAYOUT / 2;

/**
 * The most a BUY of `qty` at limit `price` (own side terms) can ever cost, fees included: every
 * fill is at or better than the limit, and fees are charged per fill (each rounded up), so the
 * per-contract fee at the worst fee price, times qty, bounds their sum. This is what intake holds.
 */
export function maxBuyCost(price: number, qty: number, feeBps: number): number {
  const feePerContract = tradeFee(Math.min(price, FEE_PEAK), 1, feeBps);
  return (price + feePerContract) * qty;
}
