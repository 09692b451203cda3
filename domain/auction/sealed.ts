/**
 * The reference the live rules are held to: a sealed second-price auction with increments. Every
 * bidder hands in one envelope (their highest bid); the highest max wins, equal maxima going to the
 * earlier one, at one step above the best other max, capped by the winner's own max and never below
 * the winner's own bid; a winner whose max reaches the reserve pays at least the reserve.
 *
 * Written apart from the live bidding on purpose (only the increment table is shared), so that the
 * property tests compare two independent statements of the same auction.
 */
import { incrementAt } from './increments';
import type { LotTerms } from './types';

type Envelope = { bidderId: string; amount: number; maxAmount: number; since: number };

const better = (a: Envelope, b: Envelope) => a.maxAmount > b.maxAmount || (a.maxAmount === b.maxAmount && a.since < b.since);

export function sealedOutcome(terms: LotTerms, bids: Envelope[]): { winnerId: string | null; price: number | null } {
  // One envelope per bidder: their highest max (the first one handed in at that max).
  const best = new Map<string, Envelope>();
  for (const bid of bids) {
    const held = best.get(bid.bidderId);
    if (!held || better(bid, held)) best.set(bid.bidderId, bid);
  }
  const ranked = [...best.values()].sort((a, b) => (better(a, b) ? -1 : better(b, a) ? 1 : 0));
  const [winner, second] = ranked;
  if (!winner) return { winnerId: null, price: null };
  let price = winner.amount;
  if (second) price = Math.max(price, Math.min(winner.maxAmount, second.maxAmount + incrementAt(second.maxAmount, terms.increments)));
  const reserve = terms.reservePrice;
  if (reserve !== null && winner.maxAmount >= reserve) price = Math.max(price, reserve);
  return { winnerId: winner.bidderId, price };
}
