/**
 * Ledger account names and the rules that follow from them.
 * Sign convention: a line's amount is added to the account's balance; every journal sums to zero.
 * Money arriving from outside debits `external:*` (which therefore goes negative).
 */

export const accounts = {
  userWallet: (userId: string) => `user:${userId}:wallet`,
  sellerPayable: (sellerId: string) => `seller:${sellerId}:payable`,
  sellerPayoutInFlight: (sellerId: string) => `seller:${sellerId}:payout_in_flight`,
  orderEscrow: (orderId: string) => `order:${orderId}:escrow`,
  marketEscrow: (marketId: string) => `market:${marketId}:escrow`,
  platformRevenue: 'platform:revenue',
  platformReferralExpense: 'platform:referral_expense',
  externalPsp: 'external:psp',
  externalBank: 'external:bank',
} as const;

export interface AccountPolicy {
  /** Accounts that represent the outside world, the platform's P&L, or a debt a seller may owe. */
  mayGoNegative: boolean;
  /** Hot accounts are split into this many balance rows so postings do not queue on one lock. */
  shards: number;
}

const HOT_ACCOUNT_SHARDS = 16;

export function accountPolicy(account: string): AccountPolicy {
  if (account.startsWith('external:') || account.startsWith('platform:')) {
    return { mayGoNegative: true, shards: HOT_ACCOUNT_SHARDS };
  }
  // A refund after settlement claws back from the seller, who then owes the platform.
  if (account.startsWith('seller:') && account.endsWith(':payable')) return { mayGoNegative: true, shards: 1 };
  return { mayGoNegative: false, shards: 1 };
}

const ACCOUNT_NAME = /^(user|seller|order|market|platform|external)(:[A-Za-z0-9_.-]+){1,2}$/;

export function isValidAccountName(account: string): boolean {
  return ACCOUNT_NAME.test(account);
}

/** FNV-1a, so the same posting always lands on the same shard of a hot account. */
export function shardFor(account: string, idempotencyKey: string): number {
  const { shards } = accountPolicy(account);
  if (shards === 1) return 0;
  let hash = 0x811c9dc5;
  for (let i = 0; i < idempotencyKey.length; i++) {
    hash ^= idempotencyKey.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % shards;
}
