/**
 * Market-wide constants for binary YES/NO opinion markets.
 *
 * All prices are integer paise per contract. A YES contract at price p is economically the
 * same as a NO contract at PAYOUT − p; one YES plus one NO always redeem for PAYOUT.
 */

/** Price grid step (paise). */
export const TICK = 50;
/** Lowest tradable price (paise). */
export const MIN_PRICE = 50;
/** Highest tradable price (paise). */
export const MAX_PRICE = 950;
/** What one winning contract pays out (paise). YES price + NO price of a pair = PAYOUT. */
export const PAYOUT = 1000;
/** Number of price levels on each side of the book: 50, 100, …, 950. */
export const LEVELS = (MAX_PRICE - MIN_PRICE) / TICK + 1; // 19
/** Largest accepted order quantity; keeps every paise amount (≤ PAYOUT × qty) far below 2^53. */
export const MAX_QUANTITY = 1_000_000_000;
/** Basis-point denominator (10 000 bps = 100%). */
export const BPS = 10_000;
/** Default slippage tolerance when an order carries a `seenPrice`: 500 bps = 5%. */
export const DEFAULT_SLIPPAGE_BPS = 500;
