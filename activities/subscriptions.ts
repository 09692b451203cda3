import { ApplicationFailure } from '@temporalio/activity';
import { mandateNoticeKey, renewalAttemptKey, subscriptionWorkflowId, type SubscriptionProjection } from '../contracts/subscription';
import {
  claimMandateDebit,
  finishMandateDebit,
  mandateById,
  mandateDebit,
  openMandateDebit,
  recordMandateNotice,
  setMandateStatusByToken,
  type Mandate,
} from '../db/mandates';
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

/** A charge attempt made against a mandate (its payment-method token). */
export interface MandateCharge extends RenewalCharge {
  paymentMethod: string;
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

  const declined = async (c: RenewalCharge, code: string, message: string): Promise<never> => {
    await recordRenewalAttempt(db, attempt(c, 'provider', 'declined', code));
    throw ApplicationFailure.nonRetryable(message, 'PaymentDeclined', { code });
  };

  /** The mandate behind the payment method, if it can be charged `amount` now; otherwise the attempt is declined. */
  const usableMandate = async (c: MandateCharge): Promise<Mandate> => {
    const mandate = await mandateById(db, c.paymentMethod);
    if (!mandate || mandate.subscriptionId !== c.subscriptionId || !payments.mandates) {
      return declined(c, 'mandate_inactive', `no mandate ${c.paymentMethod} for this subscription`);
    }
    if (mandate.status !== 'active') return declined(c, `mandate_${mandate.status}`, `mandate ${mandate.id} is ${mandate.status}`);
    // The provider's word on the token too: a token webhook that never came does not lead to a debit of a stopped mandate.
    const token = await payments.mandates.getMandateToken(mandate.providerCustomerId, mandate.tokenId).catch((err) => {
      if (err instanceof PaymentDeclinedError) return null;
      throw err;
    });
    if (token?.status !== 'confirmed') {
      const status = token?.status === 'paused' ? 'paused' : 'cancelled';
      await setMandateStatusByToken(db, mandate.tokenId, status);
      return declined(c, `mandate_${status}`, `the provider says token ${mandate.tokenId} is ${token?.status ?? 'gone'}`);
    }
    // Refused before trying: the provider would refuse it anyway, and the customer is not notified of a debit that cannot happen.
    if (c.amount > mandate.maxAmount) {
      return declined(c, 'amount_above_mandate_limit', `${c.amount} is above the mandate's limit of ${mandate.maxAmount}`);
    }
    return mandate;
  };

  const mandateDeclined = async (c: MandateCharge, err: unknown): Promise<never> => {
    if (!(err instanceof PaymentDeclinedError)) throw err;
    await finishMandateDebit(db, { ...c, status: 'failed', errorCode: err.code });
    return declined(c, err.code, err.message);
  };

  return {
    /**
     * The pre-debit notification of a mandate charge attempt: the provider order carrying it (one per
     * attempt, by key) and the earliest instant the debit may run — never less than `noticeMs` after
     * the notice actually went out, however late this step ran. The renewal records the order, so the
     * provider's webhooks for it find the subscription.
     */
    async noticeMandateDebit(
      c: MandateCharge & { paymentAfterMs: number; noticeMs: number },
    ): Promise<{ orderId: string; paymentAfterMs: number }> {
      const existing = await mandateDebit(db, c);
      if (existing?.order_id && existing.notified_at) return { orderId: existing.order_id, paymentAfterMs: existing.debit_after.getTime() };
      const mandate = await usableMandate(c);
      const paymentAfterMs = Math.max(c.paymentAfterMs, Date.now() + c.noticeMs);
      await openMandateDebit(db, { ...c, mandateId: mandate.id, amount: c.amount, debitAfter: new Date(paymentAfterMs) });
      const notice = await payments
        .mandates!.notifyMandateDebit({
          idempotencyKey: mandateNoticeKey(c.subscriptionId, c.period, c.attempt),
          providerCustomerId: mandate.providerCustomerId,
          tokenId: mandate.tokenId,
          amount: c.amount,
          paymentAfterMs,
          metadata: { workflowId: subscriptionWorkflowId(c.subscriptionId), subscriptionId: c.subscriptionId, period: String(c.period) },
        })
        .catch((err) => mandateDeclined(c, err));
      await recordMandateNotice(db, { ...c, orderId: notice.orderId, debitAfter: new Date(notice.paymentAfterMs), noticeMs: c.noticeMs });
      await recordRenewalPayment(db, { subscriptionId: c.subscriptionId, period: c.period, paymentId: notice.orderId });
      const row = await mandateDebit(db, c);
      return { orderId: notice.orderId, paymentAfterMs: row!.debit_after.getTime() };
    },

    /**
     * The one debit of the attempt, once its notice's window has passed. Never a second debit in the
     * cycle: another attempt of the period that is debiting or paid refuses this one
     * (`cycle_already_debited`), and a repeat of this attempt returns the payment it made.
     */
    async debitMandate(c: MandateCharge & { orderId: string }): Promise<ProviderPayment> {
      const row = await mandateDebit(db, c);
      if (!row || row.order_id !== c.orderId) throw new Error(`mandate debit ${c.orderId} was not noticed`);
      if (row.status !== 'debiting' && row.status !== 'succeeded') {
        if (Date.now() < row.debit_after.getTime()) throw new Error(`debit of ${c.orderId} before ${row.debit_after.toISOString()}`);
        await usableMandate(c);
        const claim = await db.transaction((trx) => claimMandateDebit(trx, c));
        if (claim === 'other_attempt') return declined(c, 'cycle_already_debited', `period ${c.period} already has a debit`);
      }
      const mandate = (await mandateById(db, c.paymentMethod))!;
      return payments
        .mandates!.debitMandate({
          idempotencyKey: mandateNoticeKey(c.subscriptionId, c.period, c.attempt),
          orderId: c.orderId,
          providerCustomerId: mandate.providerCustomerId,
          tokenId: mandate.tokenId,
          amount: c.amount,
          metadata: { workflowId: subscriptionWorkflowId(c.subscriptionId), subscriptionId: c.subscriptionId, period: String(c.period) },
        })
        .catch((err) => mandateDeclined(c, err));
    },

    /** The provider reported the mandate debit failed: recorded on the attempt (a later attempt may debit the cycle). */
    async recordMandateDebitFailed(c: MandateCharge & { errorCode: string }): Promise<void> {
      await finishMandateDebit(db, { ...c, status: 'failed', errorCode: c.errorCode });
      await recordRenewalAttempt(db, attempt(c, 'provider', 'declined', c.errorCode));
    },

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
        // A mandate debit (if this attempt was one) succeeded: the cycle's one debit.
        await finishMandateDebit(trx, { ...c, status: 'succeeded' });
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
