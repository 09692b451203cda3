import { ApplicationFailure, Context } from '@temporalio/activity';
import { WorkflowExecutionAlreadyStartedError, WorkflowIdReusePolicy } from '@temporalio/common';
import { payoutWorkflowId } from '../domain/flow-ids';
import { FlowStatus, SellerId } from '../workflows/search-attributes';
import { randomUUID } from 'node:crypto';
import { accounts } from '../domain/ledger/accounts';
import { transfer } from '../domain/ledger/journal';
import { postJournal } from '../db/ledger';
import type { PayoutProvider, ProviderPayout } from '../infra/payout-provider';
import type { ActivityDeps } from './deps';

export const payoutKeys = {
  provider: (payoutId: string) => `payout-${payoutId}`,
  reserve: (payoutId: string) => `payout-${payoutId}:reserve`,
  finalise: (payoutId: string) => `payout-${payoutId}:finalise`,
  giveBack: (payoutId: string) => `payout-${payoutId}:return`,
};

export const newPayoutId = () => `po_${randomUUID().replace(/-/g, '').slice(0, 24)}`;

export function createPayoutActivities({ db, payouts, temporal }: ActivityDeps) {
  const bank = (): PayoutProvider => {
    if (!payouts) throw ApplicationFailure.nonRetryable('no payout provider is configured', 'PayoutProviderMissing');
    return payouts;
  };
  return {
    /**
     * Moves the seller's whole positive payable into payout-in-flight. The payable's balance row is
     * locked first, so a concurrent refund clawback waits and the amount moved is exactly what was
     * there. A non-positive payable is not paid out: the payout ends `skipped`.
     */
    async reservePayout(req: { payoutId: string }): Promise<{ amount: number; bankAccount: string; sellerId: string }> {
      return db.transaction(async (trx) => {
        const payout = await trx('payouts').where({ id: req.payoutId }).forUpdate().first();
        if (!payout) throw ApplicationFailure.nonRetryable(`payout ${req.payoutId} not found`, 'PayoutNotFound');
        if (payout.status !== 'pending') {
          return { amount: payout.amount ?? 0, bankAccount: payout.bank_account_ref, sellerId: payout.seller_id };
        }
        const payable = accounts.sellerPayable(payout.seller_id);
        const locked = await trx.raw(`SELECT balance FROM account_balances WHERE account_id = ? AND shard = 0 FOR UPDATE`, [payable]);
        const balance: number = locked.rows[0]?.balance ?? 0;
        if (balance <= 0) {
          await trx('payouts')
            .where({ id: req.payoutId })
            .update({
              status: 'skipped',
              failure_code: 'nothing_to_pay',
              failure_message: `payable is ${balance} paise`,
              updated_at: trx.fn.now(),
            });
          return { amount: 0, bankAccount: payout.bank_account_ref, sellerId: payout.seller_id };
        }
        await postJournal(trx, {
          idempotencyKey: payoutKeys.reserve(req.payoutId),
          reason: 'payout_reserve',
          refType: 'payout',
          refId: req.payoutId,
          lines: transfer(payable, accounts.sellerPayoutInFlight(payout.seller_id), balance),
        });
        await trx('payouts').where({ id: req.payoutId }).update({ status: 'in_flight', amount: balance, updated_at: trx.fn.now() });
        return { amount: balance, bankAccount: payout.bank_account_ref, sellerId: payout.seller_id };
      });
    },

    /**
     * Asks the bank to pay. ALWAYS the payout's one key: a timeout here means "unknown", and the
     * workflow retries this very call, which the bank answers with the payout it already has.
     */
    async sendPayout(req: { payoutId: string; amount: number; bankAccount: string }): Promise<ProviderPayout> {
      const result = await bank().createPayout({
        idempotencyKey: payoutKeys.provider(req.payoutId),
        amount: req.amount,
        bankAccount: req.bankAccount,
      });
      await db('payouts')
        .where({ id: req.payoutId })
        .update({ provider_payout_id: result.id, provider_state: result.status, updated_at: db.fn.now() });
      return result;
    },

    async getPayout(req: { payoutId: string; providerPayoutId: string }): Promise<ProviderPayout> {
      const result = await bank().getPayout(req.providerPayoutId);
      await db('payouts').where({ id: req.payoutId }).update({ provider_state: result.status, updated_at: db.fn.now() });
      return result;
    },

    async recordPayoutState(req: { payoutId: string; providerState: string }): Promise<void> {
      await db('payouts').where({ id: req.payoutId }).update({ provider_state: req.providerState, updated_at: db.fn.now() });
    },

    /** The bank confirmed: the money has left us (in flight → external:bank). */
    async finalisePayout(req: { payoutId: string; sellerId: string; amount: number; providerPayoutId: string }): Promise<void> {
      await db.transaction(async (trx) => {
        await postJournal(trx, {
          idempotencyKey: payoutKeys.finalise(req.payoutId),
          reason: 'payout',
          refType: 'payout',
          refId: req.payoutId,
          metadata: { providerPayoutId: req.providerPayoutId },
          lines: transfer(accounts.sellerPayoutInFlight(req.sellerId), accounts.externalBank, req.amount),
        });
        await trx('payouts').where({ id: req.payoutId }).update({ status: 'paid', provider_state: 'succeeded', updated_at: trx.fn.now() });
      });
    },

    /** The bank said no for good: the money goes back to the payable and the seller sees why. */
    async failPayout(req: { payoutId: string; sellerId: string; amount: number; failureCode: string; message: string }): Promise<void> {
      await db.transaction(async (trx) => {
        await postJournal(trx, {
          idempotencyKey: payoutKeys.giveBack(req.payoutId),
          reason: 'payout_failed',
          refType: 'payout',
          refId: req.payoutId,
          metadata: { failureCode: req.failureCode },
          lines: transfer(accounts.sellerPayoutInFlight(req.sellerId), accounts.sellerPayable(req.sellerId), req.amount),
        });
        await trx('payouts').where({ id: req.payoutId }).update({
          status: 'failed',
          provider_state: 'failed',
          failure_code: req.failureCode,
          failure_message: req.message,
          updated_at: trx.fn.now(),
        });
      });
    },

    /**
     * The weekly sweep: one pending payout row for each seller with a positive payable and no payout
     * already active (the partial unique index makes a concurrent manual request and the sweep safe).
     */
    async createSweepPayouts(req: { limit: number; requestedBy: string }): Promise<Array<{ payoutId: string; sellerId: string }>> {
      const { rows } = await db.raw(
        `SELECT s.id, s.bank_account_ref FROM sellers s
         JOIN account_balances b ON b.account_id = 'seller:' || s.id || ':payable' AND b.balance > 0
         WHERE NOT EXISTS (SELECT 1 FROM payouts p WHERE p.seller_id = s.id AND p.status IN ('pending', 'in_flight'))
         ORDER BY s.id LIMIT ?`,
        [req.limit],
      );
      const created: Array<{ payoutId: string; sellerId: string }> = [];
      for (const r of rows) {
        const payoutId = newPayoutId();
        const inserted = await db.raw(
          `INSERT INTO payouts (id, seller_id, status, bank_account_ref, requested_by) VALUES (?, ?, 'pending', ?, ?)
           ON CONFLICT (seller_id) WHERE status IN ('pending', 'in_flight') DO NOTHING RETURNING id`,
          [payoutId, r.id, r.bank_account_ref, req.requestedBy],
        );
        if (inserted.rows.length) created.push({ payoutId, sellerId: r.id });
      }
      // Pending payouts whose workflow may never have started (an API that died between the insert
      // and the start) are picked up too; starting an already-running payout is a no-op.
      const pending = await db('payouts').where({ status: 'pending' }).orderBy('created_at').limit(req.limit).select('id', 'seller_id');
      for (const p of pending) if (!created.some((c) => c.payoutId === p.id)) created.push({ payoutId: p.id, sellerId: p.seller_id });
      return created;
    },

    /** Starts each payout's workflow; one that already exists (running or finished) is left alone. */
    async startPayoutWorkflows(req: { payouts: Array<{ payoutId: string; sellerId: string }> }): Promise<number> {
      if (!temporal) throw ApplicationFailure.nonRetryable('no Temporal client in the activity deps', 'TemporalMissing');
      const taskQueue = Context.current().info.taskQueue;
      let started = 0;
      for (const p of req.payouts) {
        try {
          await temporal.workflow.start('payoutWorkflow', {
            taskQueue,
            workflowId: payoutWorkflowId(p.payoutId),
            workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
            args: [{ payoutId: p.payoutId, sellerId: p.sellerId }],
            typedSearchAttributes: [
              { key: SellerId, value: p.sellerId },
              { key: FlowStatus, value: 'pending' },
            ],
          });
          started++;
        } catch (err) {
          if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
        }
      }
      return started;
    },
  };
}

export type PayoutActivities = ReturnType<typeof createPayoutActivities>;
