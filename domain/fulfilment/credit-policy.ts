/**
 * Who a failed delivery is on, and so whether the customer is credited for it.
 *
 * One rule answers both questions: a failure the customer did not cause is credited (the wallet
 * gets back that day's quantity at the subscription's unit price) and neither breaks nor extends
 * the delivery streak; a failure the customer caused is not credited and breaks the streak.
 *
 * - `out_of_stock`: ours, always credited.
 * - `refused`: the customer's own choice, never credited.
 * - `other`: not attributable to the customer on the delivery person's word alone, credited.
 * - `not_home` and `no_access`: each area decides (a gated society that never lets the milkman in is
 *   a different business from a customer who sleeps through the bell). Defaults: `not_home` is the
 *   customer's, `no_access` is not.
 */
import type { FailureReason, OutcomeState } from './types';

export interface CreditPolicy {
  /** Credit a delivery failed because nobody was home. */
  creditNotHome: boolean;
  /** Credit a delivery failed because the building or gate could not be entered. */
  creditNoAccess: boolean;
}

export const DEFAULT_CREDIT_POLICY: CreditPolicy = Object.freeze({ creditNotHome: false, creditNoAccess: true });

/** Is the customer credited for a delivery failed for `reason`? */
export function isCreditable(reason: FailureReason, policy: CreditPolicy): boolean {
  switch (reason) {
    case 'out_of_stock':
    case 'other':
      return true;
    case 'refused':
      return false;
    case 'not_home':
      return policy.creditNotHome;
    case 'no_access':
      return policy.creditNoAccess;
  }
}

/** Did the customer cause a delivery failed for `reason`? Exactly the failures that are not credited. */
export function causedByCustomer(reason: FailureReason, policy: CreditPolicy): boolean {
  return !isCreditable(reason, policy);
}

/** Is a credit owed for a delivery in this state? */
export function creditDue(state: Pick<OutcomeState, 'status' | 'reason'>, policy: CreditPolicy): boolean {
  return state.status === 'failed' && state.reason !== null && isCreditable(state.reason, policy);
}

/**
 * What the ledger must do so that a delivery carries a credit exactly when one is due: issue one,
 * reverse the one it has (a correction to `delivered`, or to a reason the customer caused), or nothing.
 */
export function creditAction(hasActiveCredit: boolean, due: boolean): 'issue' | 'reverse' | 'none' {
  if (due && !hasActiveCredit) return 'issue';
  if (!due && hasActiveCredit) return 'reverse';
  return 'none';
}

/** The credit for one missed delivery: that day's quantity at the subscription's price per unit per delivery, in paise. */
export function creditAmount(quantity: number, unitPrice: number): number {
  if (!Number.isSafeInteger(quantity) || quantity <= 0) throw new RangeError(`quantity must be a positive integer, got ${quantity}`);
  if (!Number.isSafeInteger(unitPrice) || unitPrice <= 0) throw new RangeError(`unit price must be positive paise, got ${unitPrice}`);
  const amount = quantity * unitPrice;
  if (!Number.isSafeInteger(amount)) throw new RangeError(`credit ${quantity} × ${unitPrice} is not a safe integer`);
  return amount;
}
