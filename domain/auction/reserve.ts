/**
 * The reserve: once the leader's max reaches it, the price stands at least at the reserve (the
 * leader has shown they would pay it, and the seller said that is enough to sell). Below it the
 * lot cannot sell.
 */
import type { LotTerms } from './types';

export function liftToReserve(terms: LotTerms, price: number, leaderMax: number): number {
  const reserve = terms.reservePrice;
  return reserve !== null && leaderMax >= reserve && price < reserve ? reserve : price;
}

export function reserveMet(terms: LotTerms, price: number | null): boolean {
  return price !== null && (terms.reservePrice === null || price >= terms.reservePrice);
}
