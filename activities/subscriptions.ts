import { ApplicationFailure } from '@temporalio/activity';
import { accounts } from '../domain/ledger/accounts';
import { transfer } from '../domain/ledger/journal';
import { postJournal } from '../db/ledger';
import { InsufficientFundsError } from '../db/errors';
import { recordRenewalPayment } from '../db/subscriptions';
import type { Tx } from '../db/knex';
import { subscriptionWorkflowId } from '../domain/flow-ids';
import type { ScheduleException } from '../domain/schedule';
import type { ProviderPayment } from '../infra/payment-provider';
import { PaymentDeclinedError } from '../infra/payment-provider';
import type { ActivityDeps } from './deps';

/** Deterministic key of one charge attempt: provider idempotency key and ledger key alike. */
export const renewalAttemptKey = (subscriptionId: string, period: number, attempt: number) =>
  `subscription-${subscriptionId}:renewal-${period}:attempt-${attempt}`;

export interface RenewalCharge {
  subscriptionId: string;
  customerId: string;
  period: number;
  attempt: number;
  amount: number;
}

export type WalletChargeResult = { outcome: 'paid'; journalId: number; alreadyPaid: boolean } | { outcome: 'insufficient_wallet' };

export interface SubscriptionPatch {
  quantity?: number;
  paymentMethod?: string;
  status?: 'active' | 'cancelled';
  cancelledFrom?: string | null;
  billingState?: string;
  billingReason?: string | null;
  nextRenewalDate?: string | null;
  paidThrough?: string | null;
  pausedDaysCredited?: number;
}

const PATCH_COLUMNS: Record<keyof SubscriptionPatch, string> = {
  quantity: 'quantity',
  paymentMethod: 'payment_method',
  status: 'status',
  cancelledFrom: 'cancelled_from',
  billingState: 'billing_state',
  billingReason: 'billing_reason',
  nextRenewalDate: 'next_renewal_date',
  paidThrough: 'paid_through',
  pausedDaysCredited: 'paused_days_credited',
};

export function exceptionRow(subscriptionId: string, ex: ScheduleException) {
  return {
    subscription_id: subscriptionId,
    id: ex.id,
    type: ex.type,
    from_date: ex.from,
    to_date: ex.to,
    quantity: ex.type === 'skip' ? null : (ex.quantity ?? null),
    reason: ex.reason,
    created_by: ex.createdBy,
    created_at: ex.createdAt,
    ended_at: ex.endedAt ?? null,
  };
}

export function createSubscriptionActivities({ db, payments, logger }: ActivityDeps) {
  /** Locks the period's renewal row; a period is paid at most once whatever the attempt. */
  async function lockRenewal(trx: Tx, subscriptionId: string, period: number) {
    const row = await trx('subscription_renewals').where({ subscription_id: subscriptionId, period }).forUpdate().first();
    if (!row) throw new Error(`renewal ${subscriptionId}/${period} was not opened`);
    return row;
  }

  async function recordAttempt(
    q: Tx | typeof db,
    c: RenewalCharge,
    method: string,
    outcome: 'paid' | 'declined' | 'insufficient_wallet',
    errorCode: string | null,
  ): Promise<void> {
    await q.raw(
      `INSERT INTO subscription_renewal_attempts (idempotency_key, subscription_id, period, attempt, method, outcome, error_code)
       VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
      [
        `${renewalAttemptKey(c.subscriptionId, c.period, c.attempt)}:${method}`,
        c.subscriptionId,
        c.period,
        c.attempt,
        method,
        outcome,
        errorCode,
      ],
    );
  }

  return {
    async saveException(subscriptionId: string, ex: ScheduleException): Promise<void> {
      await db('subscription_exceptions').insert(exceptionRow(subscriptionId, ex)).onConflict(['subscription_id', 'id']).ignore();
    },

    /** Ends exceptions from a date; never moves an end later and never deletes. */
    async endExceptions(subscriptionId: string, ends: { id: string; endedAt: string }[]): Promise<void> {
      for (const e of ends) {
        await db.raw(
          `UPDATE subscription_exceptions SET ended_at = ?::date
           WHERE subscription_id = ? AND id = ? AND (ended_at IS NULL OR ended_at > ?::date)`,
          [e.endedAt, subscriptionId, e.id, e.endedAt],
        );
      }
    },

    async syncSubscription(subscriptionId: string, patch: SubscriptionPatch): Promise<void> {
      const update: Record<string, unknown> = { updated_at: db.fn.now() };
      for (const [k, v] of Object.entries(patch)) {
        if (v !== undefined) update[PATCH_COLUMNS[k as keyof SubscriptionPatch]] = v;
      }
      await db('subscriptions').where({ id: subscriptionId }).update(update);
    },

    async openRenewal(req: { subscriptionId: string; period: number; periodStart: string; amount: number }): Promise<void> {
      await db.raw(
        `INSERT INTO subscription_renewals (subscription_id, period, period_start, amount, status)
         VALUES (?, ?, ?::date, ?, 'pending') ON CONFLICT DO NOTHING`,
        [req.subscriptionId, req.period, req.periodStart, req.amount],
      );
    },

    async recordRenewalState(req: {
      subscriptionId: string;
      period: number;
      status: 'retrying' | 'payment_failed';
      attempts: number;
      lastError: string;
      nextRetryAt: string | null;
    }): Promise<void> {
      await db('subscription_renewals')
        .where({ subscription_id: req.subscriptionId, period: req.period })
        .whereNot({ status: 'paid' })
        .update({
          status: req.status,
          attempts: req.attempts,
          last_error: req.lastError,
          next_retry_at: req.nextRetryAt,
          updated_at: db.fn.now(),
        });
    },

    /** Wallet → platform revenue, keyed by the attempt. Short wallet → `insufficient_wallet` (no money moved). */
    async chargeRenewalFromWallet(c: RenewalCharge): Promise<WalletChargeResult> {
      const key = renewalAttemptKey(c.subscriptionId, c.period, c.attempt);
      return db.transaction(async (trx) => {
        const renewal = await lockRenewal(trx, c.subscriptionId, c.period);
        if (renewal.status === 'paid') return { outcome: 'paid', journalId: Number(renewal.journal_id), alreadyPaid: true };
        try {
          const posted = await trx.transaction((sp) =>
            postJournal(sp, {
              idempotencyKey: key,
              reason: 'subscription_renewal',
              refType: 'subscription',
              refId: c.subscriptionId,
              actor: 'system',
              metadata: { period: c.period, attempt: c.attempt, via: 'wallet' },
              lines: transfer(accounts.userWallet(c.customerId), accounts.platformRevenue, c.amount),
            }),
          );
          await trx('subscription_renewals').where({ subscription_id: c.subscriptionId, period: c.period }).update({
            status: 'paid',
            paid_via: 'wallet',
            paid_attempt: c.attempt,
            journal_id: posted.journalId,
            attempts: c.attempt,
            last_error: null,
            next_retry_at: null,
            updated_at: trx.fn.now(),
          });
          await recordAttempt(trx, c, 'wallet', 'paid', null);
          return { outcome: 'paid', journalId: posted.journalId, alreadyPaid: false };
        } catch (err) {
          if (!(err instanceof InsufficientFundsError)) throw err;
          await recordAttempt(trx, c, 'wallet', 'insufficient_wallet', 'insufficient_wallet');
          return { outcome: 'insufficient_wallet' };
        }
      });
    },

    /**
     * Charges the payment method with the attempt's key (a retried activity never charges twice),
     * and records the payment on the renewal so the provider's webhook finds it while it is pending.
     */
    async chargeRenewalViaProvider(c: RenewalCharge & { paymentMethod: string }): Promise<ProviderPayment> {
      const key = renewalAttemptKey(c.subscriptionId, c.period, c.attempt);
      try {
        const payment = await payments.createPayment({
          idempotencyKey: key,
          amount: c.amount,
          paymentMethod: c.paymentMethod,
          metadata: { workflowId: subscriptionWorkflowId(c.subscriptionId), subscriptionId: c.subscriptionId, period: String(c.period) },
        });
        await recordRenewalPayment(db, { subscriptionId: c.subscriptionId, period: c.period, paymentId: payment.id });
        return payment;
      } catch (err) {
        if (err instanceof PaymentDeclinedError) {
          await recordAttempt(db, c, 'provider', 'declined', err.code);
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
      const key = renewalAttemptKey(c.subscriptionId, c.period, c.attempt);
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
        const posted = await postJournal(trx, {
          idempotencyKey: key,
          reason: 'subscription_renewal',
          refType: 'subscription',
          refId: c.subscriptionId,
          actor: 'system',
          metadata: { period: c.period, attempt: c.attempt, via: 'provider', paymentId: c.paymentId },
          lines: transfer(accounts.externalPsp, accounts.platformRevenue, c.amount),
        });
        await trx('subscription_renewals').where({ subscription_id: c.subscriptionId, period: c.period }).update({
          status: 'paid',
          paid_via: 'provider',
          paid_attempt: c.attempt,
          journal_id: posted.journalId,
          provider_payment_id: c.paymentId,
          attempts: c.attempt,
          last_error: null,
          next_retry_at: null,
          updated_at: trx.fn.now(),
        });
        await recordAttempt(trx, c, 'provider', 'paid', null);
        return { journalId: posted.journalId, alreadyPaid: false };
      });
    },

    /** Records a notification once per key (the outbox a push/SMS sender drains). */
    async notifyCustomer(n: {
      key: string;
      customerId: string;
      subscriptionId: string;
      kind: string;
      message: string;
      data?: Record<string, unknown>;
    }): Promise<boolean> {
      const { rows } = await db.raw(
        `INSERT INTO notifications (key, customer_id, subscription_id, kind, message, data)
         VALUES (?, ?, ?, ?, ?, ?::jsonb) ON CONFLICT (key) DO NOTHING RETURNING id`,
        [n.key, n.customerId, n.subscriptionId, n.kind, n.message, JSON.stringify(n.data ?? {})],
      );
      return rows.length > 0;
    },
  };
}

export type SubscriptionActivities = ReturnType<typeof createSubscriptionActivities>;
