import { accounts } from '../domain/ledger/accounts';
import { transfer } from '../domain/ledger/journal';
import { postJournal } from '../db/ledger';
import type { ProviderPayment } from '../infra/payment-provider';
import { topupWorkflowId } from '../domain/flow-ids';
import type { TopupInput, TopupStatus } from '../workflows/topup';
import type { ActivityDeps } from './deps';
import { businessFailures } from './failures';

export function createTopupActivities({ db, payments }: ActivityDeps) {
  return {
    /** One charge per top-up: the key is the top-up's, so retries never charge twice. */
    async createTopupPayment(input: TopupInput): Promise<ProviderPayment> {
      return businessFailures(() =>
        payments.createPayment({
          idempotencyKey: `topup-${input.topupId}:charge`,
          amount: input.amount,
          paymentMethod: input.paymentMethod,
          metadata: { workflowId: topupWorkflowId(input.topupId), topupId: input.topupId },
        }),
      );
    },

    async getTopupPayment(paymentId: string): Promise<ProviderPayment> {
      return payments.getPayment(paymentId);
    },

    async recordTopupStatus(update: {
      topupId: string;
      status: TopupStatus;
      paymentId: string | null;
      failureCode: string | null;
      message?: string;
    }): Promise<void> {
      await db('topups')
        .where({ id: update.topupId })
        .update({
          status: update.status,
          provider_payment_id: update.paymentId,
          failure_code: update.failureCode,
          failure_message: update.message ?? null,
          updated_at: db.fn.now(),
        });
    },

    /** Credits the wallet and marks the top-up succeeded in one transaction; safe to repeat. */
    async creditTopup(req: {
      topupId: string;
      userId: string;
      amount: number;
      paymentId: string;
    }): Promise<{ journalId: number; applied: boolean }> {
      return db.transaction(async (trx) => {
        const posted = await postJournal(trx, {
          idempotencyKey: `topup-${req.topupId}:credit`,
          reason: 'topup',
          refType: 'topup',
          refId: req.topupId,
          actor: `user:${req.userId}`,
          metadata: { paymentId: req.paymentId },
          lines: transfer(accounts.externalPsp, accounts.userWallet(req.userId), req.amount),
        });
        await trx('topups').where({ id: req.topupId }).update({ status: 'succeeded', updated_at: trx.fn.now() });
        return posted;
      });
    },
  };
}

export type TopupActivities = ReturnType<typeof createTopupActivities>;
