import { LEVELS, MAX_PRICE, MAX_QUANTITY, MIN_PRICE, PAYOUT, TICK } from './constants';
import type { Action, Side } from './types';

/** True iff `p` is an integer paise price on the grid 50, 100, …, 950. */
export function isValidPrice(p: unknown): p is number {
  return typeof p === 'number' && Number.isInteger(p) && p >= MIN_PRICE && p <= MAX_PRICE && p % TICK === 0;
}

/** True iff `q` is an integer in 1..MAX_QUANTITY. */
export function isValidQuantity(q: unknown): q is number {
  return typeof q === 'number' && Number.isInteger(q) && q >= 1 && q <= MAX_QUANTITY;
}

/** Converts a price in `side` terms to YES terms (NO at q ⇔ YES at 1000 − q). */
export function toYesPrice(side: Side, price: number): number {
  return side === 'YES' ? price : PAYOUT - price;
}

/** Converts a YES price to `side` terms (the conversion is its own inverse). */
export function fromYesPrice(side: Side, yesPrice: number): number {
  return side === 'YES' ? yesPrice : PAYOUT - yesPrice;
}

/** The other side. */
export function oppositeSide(side: Side): Side {
  return side === 'YES' ? 'NO' : 'YES';
}

/**
 * Which side of the YES book an order sits on: buy YES and sell NO are bids;
 * sell YES and buy NO are asks.
 */
export function isBidOrder(side: Side, action: Action): boolean {
  return (side === 'YES') === (action === 'BUY');
}

/** Level index 0..18 of a (valid) YES price. */
export function priceToIndex(yesPrice: number): number {
  return yesPrice / TICK - 1;
}

/** YES price of level index 0..18. */
export function indexToPrice(index: number): number {
  return (index + 1) * TICK;
}

/** All valid prices, ascending. */
export const PRICE_GRID: readonly number[] = Object.freeze(Array.from({ length: LEVELS }, (_, i) => indexToPrice(i)));
