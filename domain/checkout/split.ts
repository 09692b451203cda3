import { assertPaise, type Paise } from '../money';

/**
 * How an order's money is divided when it settles, and how a refund after settlement is clawed back.
 *
 * SETTLEMENT (escrow → everyone), for an order of `total` paise:
 *   grossCommission = floor(total × commissionBps / 10 000)   — rounded DOWN: the platform never
 *                                                               over-charges a seller by a paisa.
 *   referral        = min(floor(total × referralBps / 10 000), grossCommission)
 *                                                             — rounded DOWN, and paid out of the
 *                                                               platform's commission, never out of
 *                                                               the seller's share.
 *   platform        = grossCommission − referral              → platform:revenue
 *   sellerNet       = total − grossCommission                 → seller:<id>:payable (absorbs rounding)
 * so sellerNet + platform + referral = total exactly, and the escrow is emptied in one journal
 * (referral goes straight from escrow to the referrer's wallet).
 *
 * REFUND AFTER SETTLEMENT (the clawback policy). A refund of x paise goes back to the buyer in full.
 * It is funded by reversing the settlement in proportion, computed on the CUMULATIVE amount refunded
 * so that several partial refunds add up exactly to one full refund (no paisa drifts):
 *   seller   gives back  x − (commission(R₁) − commission(R₀)) from seller:<id>:payable, which may go
 *                                                           negative (the seller owes the platform; it
 *                                                           is netted against later payouts, and a
 *                                                           non-positive payable is never paid out);
 *   platform gives back  the rest: its commission on the refunded part, from platform:revenue;
 *   referral is NOT clawed back from the referrer (a consumer wallet can't go negative and the
 *                       referrer did nothing wrong); the platform absorbs it: the commission it
 *                       returns is booked first against platform:referral_expense (up to the
 *                       referral), then against platform:revenue.
 * where the commission on R paise refunded is floor(R × commissionBps / 10 000), the same rounding as
 * settlement, so after a full refund the seller has given back exactly sellerNet and the platform
 * exactly grossCommission (of which `referral` is booked as referral expense).
 */
export interface SettlementSplit {
  total: Paise;
  grossCommission: Paise;
  referral: Paise;
  platform: Paise;
  sellerNet: Paise;
}

export function bpsOf(amount: Paise, bps: number): Paise {
  assertPaise(amount);
  if (amount < 0) throw new RangeError('amount must not be negative');
  if (!Number.isInteger(bps) || bps < 0 || bps > 10_000) throw new RangeError(`bps must be 0..10000, got ${bps}`);
  // amount ≤ 1e8 paise and bps ≤ 1e4 keeps the product far below 2^53.
  return Math.floor((amount * bps) / 10_000);
}

export function settlementSplit(total: Paise, commissionBps: number, referralBps: number): SettlementSplit {
  assertPaise(total, 'total');
  if (total <= 0) throw new RangeError('total must be positive');
  const grossCommission = bpsOf(total, commissionBps);
  const referral = Math.min(bpsOf(total, referralBps), grossCommission);
  return { total, grossCommission, referral, platform: grossCommission - referral, sellerNet: total - grossCommission };
}

export interface Clawback {
  /** What goes back to the buyer. */
  amount: Paise;
  /** Taken from the seller's payable. */
  fromSeller: Paise;
  /** Taken from platform:revenue. */
  fromRevenue: Paise;
  /** Taken from platform:referral_expense (the referral the platform absorbs). */
  fromReferralExpense: Paise;
}

/**
 * The clawback for refunding `amount` more after `alreadyRefunded` was refunded after settlement.
 * Throws when the refund would exceed what was settled.
 */
export function refundClawback(split: SettlementSplit, commissionBps: number, alreadyRefunded: Paise, amount: Paise): Clawback {
  assertPaise(amount);
  assertPaise(alreadyRefunded);
  if (amount <= 0) throw new RangeError('refund amount must be positive');
  if (alreadyRefunded < 0 || alreadyRefunded + amount > split.total) {
    throw new RangeError(`cannot refund ${amount}: ${split.total - alreadyRefunded} of ${split.total} is refundable`);
  }
  const commissionCum = (r: Paise) => bpsOf(r, commissionBps);
  // The commission handed back is booked first against the referral the platform absorbs (up to the
  // referral), then against revenue; both cumulative amounts only grow, so no step flips sign.
  const expenseCum = (r: Paise) => Math.min(split.referral, commissionCum(r));
  const after = alreadyRefunded + amount;
  const commissionBack = commissionCum(after) - commissionCum(alreadyRefunded);
  const fromSeller = amount - commissionBack;
  const fromReferralExpense = expenseCum(after) - expenseCum(alreadyRefunded);
  return { amount, fromSeller, fromRevenue: commissionBack - fromReferralExpense, fromReferralExpense };
}
