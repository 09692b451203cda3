import { topupKeys, topupWorkflowId, type TopupInput } from '../contracts/topup';
import { creditTopup, recordTopupStatus, type TopupCredit, type TopupStatusUpdate } from '../db/topups';
import type { ProviderPayment } from '../infra/payment-provider';
import type { ActivityDeps } from './deps';
import { businessFailures } from './failures';

export function createTopupActivities({ db, payments }: ActivityDeps) {
  return {
    /** One charge per top-up: the key is the top-up's, so retries never charge twice. */
    async createTopupPayment(input: TopupInput): Promise<ProviderPayment> {
      return businessFailures(() =>
        payments.createPayment({
          idempotencyKey: topupKeys.charge(input.topupId),
          amount: input.amount,
          paymentMethod: input.paymentMethod,
          metadata: { workflowId: topupWorkflowId(input.topupId), topupId: input.topupId },
        }),
      );
    },

    async getTopupPayment(paymentId: string): Promise<ProviderPayment> {
      return payments.getPayment(paymentId);
    },

    async recordTopupStatus(update: TopupStatusUpdate): Promise<void> {
      await recordTopupStatus(db, update);
    },

    /** Credits the wallet and marks the top-up succeeded in one transaction; safe to repeat. */
    async creditTopup(req: TopupCredit): Promise<{ journalId: number; applied: boolean }> {
      return creditTopup(db, req);
    },
  };
}

export type TopupActivities = ReturnType<typeof createTopupActivities>;
