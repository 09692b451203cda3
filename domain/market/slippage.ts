import { BPS, TICK } from './constants';
import { ceilDiv, floorDiv } from './math';
import type { Action } from './types';

/**
 * Slippage protection — exact semantics.
 *
 * An order may carry `seenPrice` (the price the user saw, in the order's own side terms) and
 * `slippageBps` (default 500 = 5%, integer 0..10000). Its worst acceptable price, in its own side
 * terms, is computed with integer arithmetic only:
 *
 *   BUY : worst = min(limit, floor(seenPrice × (10000 + slippageBps) / 10000))
 *   SELL: worst = max(limit, ceil (seenPrice × (10000 − slippageBps) / 10000))
 *
 * (rounded in the user's favour: a buy may pay at most the floor, a sell receives at least the ceil).
 * Because prices live on the 50-paise grid, the bound is then snapped inward to the grid
 * (`effectiveLimit`: BUY → down to a multiple of 50, SELL → up), which never excludes a price
 * that `worst` allows. Example: buy YES seen 500, 5% → worst 525 → effective limit 500;
 * seen 600 → worst 630 → effective 600; seen 900, 10% → worst 990 → capped by limit.
 *
 * The book then:
 *  1. Rejects the order up front with reason 'slippage' (no fills, no self-trade cancels, no
 *     state change) iff matching it at its own limit against the current book would fill any
 *     quantity at a price strictly worse than `worst`, i.e. the matchable quantity (excluding the
 *     user's own resting orders) at prices no worse than `effectiveLimit` is less than the order
 *     quantity AND some matchable quantity exists between `effectiveLimit` (exclusive) and the
 *     limit (inclusive). The rejection carries `currentPrice` = best opposite price in the
 *     order's side terms and `worstAcceptablePrice` = worst.
 *  2. Otherwise processes the order exactly as a limit order at `effectiveLimit` — including
 *     resting its GTC remainder at `effectiveLimit` — so no fill of the order, as taker or later
 *     as maker, is ever worse than `worst`.
 */
export function worstAcceptablePrice(action: Action, limit: number, seenPrice: number, slippageBps: number): number {
  if (action === 'BUY') {
    const bound = floorDiv(seenPrice * (BPS + slippageBps), BPS);
    return bound < limit ? bound : limit;
  }
  const bound = ceilDiv(seenPrice * (BPS - slippageBps), BPS);
  return bound > limit ? bound : limit;
}

/** `worst` snapped inward onto the price grid (BUY: down, SELL: up). */
export function effectiveLimitPrice(action: Action, worst: number): number {
  return action === 'BUY' ? floorDiv(worst, TICK) * TICK : ceilDiv(worst, TICK) * TICK;
}

/** True iff `slippageBps` is an integer in 0..10000. */
export function isValidSlippageBps(bps: unknown): bps is number {
  return typeof bps === 'number' && Number.isInteger(bps) && bps >= 0 && bps <= BPS;
}
