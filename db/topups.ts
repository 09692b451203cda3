/**
 * All table access of wallet top-ups: the `topups` row (created by the API with its workflow, kept up
 * to date by the workflow's activities) and the wallet credit, posted with the row's final status in
 * one transaction.
 */
import { topupKeys, type TopupStatus } from '../contracts/topup';
import { accounts } from '../domain/ledger/accounts';
import { transfer } from '../domain/ledger/journal';
import { postJournal } from './ledger';
import type { Db, Queryable } from './knex';

export interface TopupRow {
  id: string;
  user_id: string;
  amount: number;
  payment_method: string;
  status: TopupStatus;
  provider_payment_id: string | null;
  failure_code: string | null;
  failure_message: string | null;
}

export async function insertTopup(
  q: Queryable,
  topup: { id: string; userId: string; amount: number; paymentMethod: string },
): Promise<TopupRow> {
  const [row] = await q('topups')
    .insert({ id: topup.id, user_id: topup.userId, amount: topup.amount, payment_method: topup.paymentMethod, status: 'pending' })
    .returning('*');
  return row;
}

export async function getTopup(q: Queryable, topupId: string): Promise<TopupRow | undefined> {
  return q('topups').where({ id: topupId }).first();
}

export interface TopupStatusUpdate {
  topupId: string;
  status: TopupStatus;
  paymentId: string | null;
  failureCode: string | null;
  message?: string;
}

export async function recordTopupStatus(q: Queryable, update: TopupStatusUpdate): Promise<void> {
  await q('topups')
    .where({ id: update.topupId })
    .update({
      status: update.status,
      provider_payment_id: update.paymentId,
      failure_code: update.failureCode,
      failure_message: update.message ?? null,
      updated_at: q.fn.now(),
    });
}

export interface TopupCredit {
  topupId: string;
  userId: string;
  amount: number;
  paymentId: string;
}

/** Credits the wallet and marks the top-up succeeded in one transaction; keyed by the top-up, so safe to repeat. */
export async function creditTopup(db: Db, credit: TopupCredit): Promise<{ journalId: number; applied: boolean }> {
  return db.transaction(async (trx) => {
    const posted = await postJournal(trx, {
      idempotencyKey: topupKeys.credit(credit.topupId),
      reason: 'topup',
      refType: 'topup',
      refId: credit.topupId,
      actor: `user:${credit.userId}`,
      metadata: { paymentId: credit.paymentId },
      lines: transfer(accounts.externalPsp, accounts.userWallet(credit.userId), credit.amount),
    });
    await trx('topups').where({ id: credit.topupId }).update({ status: 'succeeded', updated_at: trx.fn.now() });
    return posted;
  });
}
