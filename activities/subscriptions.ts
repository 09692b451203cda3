import { ApplicationFailure } from '@temporalio/activity';
import { renewalAttemptKey, subscriptionWorkflowId, type SubscriptionProjection } from '../contracts/subscription';
import { accounts } from '../domain/ledger/accounts';
import { transfer } from '../domain/ledger/journal';
import { postJournal } from '../db/ledger';
import { InsufficientFundsError } from '../db/errors';
import { endExceptions, saveException } from '../db/subscription-exceptions';
import { recordNotification, type CustomerNotice } from '../db/subscription-notifications';
import {
  lockRenewal,
  markRenewalPaid,
  openRenewal,
  recordRenewalAttempt,
  recordRenewalPayment,
  recordRenewalState,
  type RenewalOpening,
  type RenewalStateChange,
} from '../db/subscription-renewals';
import { writeSubscriptionProjection } from '../db/subscriptions';
import type { ScheduleException } from '../domain/schedule';
import type { ProviderPayment } from '../infra/payment-provider';
import { PaymentDeclinedError } from '../infra/payment-provider';
import type { ActivityDeps } from './deps';

export interface RenewalCharge {
  subscriptionId: string;
  customerId: string;
  period: number;
  attempt: number;
  amount: number;
}

export type WalletChargeResult = { outcome: 'paid'; journalId: number; alreadyPaid: boolean } | { outcome: 'insufficient_wallet' };

const renewalJournal = (c: RenewalCharge, from: string, metadata: Record<string, unknown>) => ({
  idempotencyKey: renewalAttemptKey(c.subscriptionId, c.period, c.attempt),
  reason: 'subscription_renewal',
  refType: 'subscription',
  refId: c.subscriptionId,
  actor: 'system',
  metadata: { period: c.period, attempt: c.attempt, ...metadata },
  lines: transfer(from, accounts.platformRevenue, c.amount),
});

/** The subscription workflow's steps: each one database transaction or one provider call, safe to run twice. */
export function createSubscriptionActivities({ db, payments, logger }: ActivityDeps) {
  const attempt = (
    c: RenewalCharge,
    method: 'wallet' | 'provider',
    outcome: 'paid' | 'declined' | 'insufficient_wallet',
    errorCode: string | null,
  ) => ({
    subscriptionId: c.subscriptionId,
    period: c.period,
    attempt: c.attempt,
    method,
    outcome,
    errorCode,
  });

  return {
    async saveException(subscriptionId: string, ex: ScheduleException): Promise<void> {
      await saveException(db, subscriptionId, ex);
    },

    /** Ends exceptions from a date; never moves an end later and never deletes. */
    async endExceptions(subscriptionId: string, ends: { id: string; endedAt: string }[]): Promise<void> {
      await endExceptions(db, subscriptionId, ends);
    },

    /**
     * Writes the subscriptions row from the workflow's state: the one writer of its live columns.
     * (A task scheduled by an older run may carry only some fields; the others stay as they are.)
     */
    async syncSubscription(subscriptionId: string, projection: SubscriptionProjection): Promise<void> {
      await writeSubscriptionProjection(db, subscriptionId, projection);
    },

    async openRenewal(req: RenewalOpening): Promise<void> {
      await openRenewal(db, req);
    },

    async recordRenewalState(req: RenewalStateChange): Promise<void> {
      await recordRenewalState(db, req);
    },

    /** Wallet → platform revenue, keyed by the attempt. Short wallet → `insufficient_wallet` (no money moved). */
    async chargeRenewalFromWallet(c: RenewalCharge): Promise<WalletChargeResult> {
      return db.transaction(async (trx) => {
        const renewal = await lockRenewal(trx, c.subscriptionId, c.period);
        if (renewal.status === 'paid') return { outcome: 'paid', journalId: Number(renewal.journal_id), alreadyPaid: true };
        try {
          const posted = await trx.transaction((sp) =>
            postJournal(sp, renewalJournal(c, accounts.userWallet(c.customerId), { via: 'wallet' })),
          );
          await markRenewalPaid(trx, { ...c, via: 'wallet', journalId: posted.journalId });
          await recordRenewalAttempt(trx, attempt(c, 'wallet', 'paid', null));
          return { outcome: 'paid', journalId: posted.journalId, alreadyPaid: false };
        } catch (err) {
          if (!(err instanceof InsufficientFundsError)) throw err;
          await recordRenewalAttempt(trx, attempt(c, 'wallet', 'insufficient_wallet', 'insufficient_wallet'));
          return { outcome: 'insufficient_wallet' };
        }
      });
    },

    /**
     * Charges the payment method with the attempt's key (a retried activity never charges twice),
     * and records the payment on the renewal so the provider's webhook finds it while it is pending.
     */
    async chargeRenewalViaProvider(c: RenewalCharge & { paymentMethod: string }): Promise<ProviderPayment> {
      try {
        const payment = await payments.createPayment({
          idempotencyKey: renewalAttemptKey(c.subscriptionId, c.period, c.attempt),
          amount: c.amount,
          paymentMethod: c.paymentMethod,
          metadata: { workflowId: subscriptionWorkflowId(c.subscriptionId), subscriptionId: c.subscriptionId, period: String(c.period) },
        });
        await recordRenewalPayment(db, { subscriptionId: c.subscriptionId, period: c.period, paymentId: payment.id });
        return payment;
      } catch (err) {
        if (err instanceof PaymentDeclinedError) {
          await recordRenewalAttempt(db, attempt(c, 'provider', 'declined', err.code));
          throw ApplicationFailure.nonRetryable(err.message, 'PaymentDeclined', { code: err.code });
        }
        throw err;
      }
    },

    async getRenewalPayment(paymentId: string): Promise<ProviderPayment> {
      return payments.getPayment(paymentId);
    },

    /** The provider took the money: external:psp → platform revenue under the attempt's key, renewal paid. */
    async settleRenewalViaProvider(c: RenewalCharge & { paymentId: string }): Promise<{ journalId: number; alreadyPaid: boolean }> {
      return db.transaction(async (trx) => {
        const renewal = await lockRenewal(trx, c.subscriptionId, c.period);
        if (renewal.status === 'paid') {
          if (renewal.paid_attempt !== c.attempt || renewal.paid_via !== 'provider') {
            logger.error(
              { subscriptionId: c.subscriptionId, period: c.period, paymentId: c.paymentId },
              'renewal paid twice: refund needed',
            );
          }
          return { journalId: Number(renewal.journal_id), alreadyPaid: true };
        }
        const posted = await postJournal(trx, renewalJournal(c, accounts.externalPsp, { via: 'provider', paymentId: c.paymentId }));
        await markRenewalPaid(trx, { ...c, via: 'provider', journalId: posted.journalId, paymentId: c.paymentId });
        await recordRenewalAttempt(trx, attempt(c, 'provider', 'paid', null));
        return { journalId: posted.journalId, alreadyPaid: false };
      });
    },

    /** Records a notification once per key (the outbox a push/SMS sender drains). */
    async notifyCustomer(n: CustomerNotice): Promise<boolean> {
      return recordNotification(db, n);
    },
  };
}

export type SubscriptionActivities = ReturnType<typeof createSubscriptionActivities>;
