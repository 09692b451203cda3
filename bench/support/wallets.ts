import { postJournals } from '../../db/ledger';
import type { Db } from '../../db/knex';
import { accounts } from '../../domain/ledger/accounts';
import { transfer } from '../../domain/ledger/journal';

/** Funds each benchmark user's wallet from the provider account, so no request is refused for money. */
export async function fundWallets(db: Db, userIds: readonly string[], amount = 1_000_000_000): Promise<void> {
  await db.transaction((trx) =>
    postJournals(
      trx,
      userIds.map((userId) => ({
        idempotencyKey: `bench-fund-${userId}`,
        reason: 'topup',
        lines: transfer(accounts.externalPsp, accounts.userWallet(userId), amount),
      })),
    ),
  );
}
