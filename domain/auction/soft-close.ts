/**
 * Soft close: a bid accepted with less than `softCloseMs` left moves the end to `softCloseMs` after
 * it, so nobody wins by sniping in the last second. Exactly `softCloseMs` left is enough time for
 * others to answer, so it does not extend. A sudden-death lot never extends.
 */
import type { LotTerms } from './types';

/** The new end for a bid accepted at `at`, or null when the end stays where it is. */
export function softCloseExtension(terms: LotTerms, endsAt: number, at: number): number | null {
  if (terms.suddenDeath || terms.softCloseMs <= 0) return null;
  return endsAt - at < terms.softCloseMs ? at + terms.softCloseMs : null;
}
