import { ApplicationFailure, Context } from '@temporalio/activity';
import { WorkflowExecutionAlreadyStartedError, WorkflowIdReusePolicy } from '@temporalio/common';
import { PAYOUT_WORKFLOW_TYPE, payoutKeys, payoutWorkflowId, type PayoutInput } from '../contracts/payout';
import type { payoutWorkflow } from '../workflows/payout';
import { FlowStatus, SellerId } from '../workflows/search-attributes';
import { accounts } from '../domain/ledger/accounts';
import { transfer } from '../domain/ledger/journal';
import { postJournal } from '../db/ledger';
import { createPayout, findPayout, lockPayableBalance, pendingPayouts, sellersToPay, updatePayout } from '../db/payouts';
import type { PayoutProvider, ProviderPayout } from '../infra/payout-provider';
import type { ActivityDeps } from './deps';

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
        const payout = await findPayout(trx, req.payoutId, { lock: true });
        if (!payout) throw ApplicationFailure.nonRetryable(`payout ${req.payoutId} not found`, 'PayoutNotFound');
        if (payout.status !== 'pending') {
          return { amount: payout.amount ?? 0, bankAccount: payout.bank_account_ref, sellerId: payout.seller_id };
        }
        const payable = accounts.sellerPayable(payout.seller_id);
        const balance = await lockPayableBalance(trx, payable);
        if (balance <= 0) {
          await updatePayout(trx, req.payoutId, {
            status: 'skipped',
            failure_code: 'nothing_to_pay',
            failure_message: `payable is ${balance} paise`,
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
        await updatePayout(trx, req.payoutId, { status: 'in_flight', amount: balance });
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
      await updatePayout(db, req.payoutId, { provider_payout_id: result.id, provider_state: result.status });
      return result;
    },

    async getPayout(req: { payoutId: string; providerPayoutId: string }): Promise<ProviderPayout> {
      const result = await bank().getPayout(req.providerPayoutId);
      await updatePayout(db, req.payoutId, { provider_state: result.status });
      return result;
    },

    async recordPayoutState(req: { payoutId: string; providerState: string }): Promise<void> {
      await updatePayout(db, req.payoutId, { provider_state: req.providerState });
    },

    /**
     * The bank confirmed (or staff read it on the statement): the money has left us (in flight →
     * external:bank), with the bank's UTR on the row when it is known.
     */
    async finalisePayout(req: {
      payoutId: string;
      sellerId: string;
      amount: number;
      providerPayoutId: string | null;
      utr?: string | null;
      markedBy?: { by: string; reason: string };
    }): Promise<void> {
      await db.transaction(async (trx) => {
        await postJournal(trx, {
          idempotencyKey: payoutKeys.finalise(req.payoutId),
          reason: 'payout',
          refType: 'payout',
          refId: req.payoutId,
          ...(req.markedBy ? { actor: `user:${req.markedBy.by}` } : {}),
          metadata: {
            providerPayoutId: req.providerPayoutId,
            ...(req.utr ? { utr: req.utr } : {}),
            ...(req.markedBy ? { markedFromStatement: req.markedBy } : {}),
          },
          lines: transfer(accounts.sellerPayoutInFlight(req.sellerId), accounts.externalBank, req.amount),
        });
        await updatePayout(trx, req.payoutId, {
          status: 'paid',
          provider_state: req.markedBy ? 'marked_paid' : 'succeeded',
          ...(req.utr ? { utr: req.utr } : {}),
        });
      });
    },

    /** The bank said no for good (or the statement shows it): the money goes back to the payable and the seller sees why. */
    async failPayout(req: {
      payoutId: string;
      sellerId: string;
      amount: number;
      failureCode: string;
      message: string;
      markedBy?: { by: string; reason: string };
    }): Promise<void> {
      await db.transaction(async (trx) => {
        await postJournal(trx, {
          idempotencyKey: payoutKeys.giveBack(req.payoutId),
          reason: 'payout_failed',
          refType: 'payout',
          refId: req.payoutId,
          ...(req.markedBy ? { actor: `user:${req.markedBy.by}` } : {}),
          metadata: { failureCode: req.failureCode, ...(req.markedBy ? { markedFromStatement: req.markedBy } : {}) },
          lines: transfer(accounts.sellerPayoutInFlight(req.sellerId), accounts.sellerPayable(req.sellerId), req.amount),
        });
        await updatePayout(trx, req.payoutId, {
          status: 'failed',
          provider_state: req.markedBy ? 'marked_failed' : 'failed',
          failure_code: req.failureCode,
          failure_message: req.message,
        });
      });
    },

    /**
     * The weekly sweep: a payout for each seller with a positive payable and none under way, made by
     * the same createPayout as a seller's own request (a concurrent request and the sweep are safe).
     */
    async createSweepPayouts(req: { limit: number; requestedBy: string }): Promise<Array<{ payoutId: string; sellerId: string }>> {
      const created: Array<{ payoutId: string; sellerId: string }> = [];
      for (const seller of await sellersToPay(db, req.limit)) {
        const { payout, created: isNew } = await createPayout(db, {
          sellerId: seller.id,
          bankAccountRef: seller.bank_account_ref,
          requestedBy: req.requestedBy,
        });
        if (isNew) created.push({ payoutId: payout.id, sellerId: seller.id });
      }
      // Pending payouts whose workflow may never have started (an API that died between the insert
      // and the start) are picked up too; starting an already-running payout is a no-op.
      for (const p of await pendingPayouts(db, req.limit)) {
        if (!created.some((c) => c.payoutId === p.id)) created.push({ payoutId: p.id, sellerId: p.seller_id });
      }
      return created;
    },

    /** Starts each payout's workflow; one that already exists (running or finished) is left alone. */
    async startPayoutWorkflows(req: { payouts: Array<{ payoutId: string; sellerId: string }> }): Promise<number> {
      if (!temporal) throw ApplicationFailure.nonRetryable('no Temporal client in the activity deps', 'TemporalMissing');
      const taskQueue = Context.current().info.taskQueue;
      let started = 0;
      for (const p of req.payouts) {
        try {
          await temporal.workflow.start<typeof payoutWorkflow>(PAYOUT_WORKFLOW_TYPE, {
            taskQueue,
            workflowId: payoutWorkflowId(p.payoutId),
            workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
            args: [{ payoutId: p.payoutId, sellerId: p.sellerId } satisfies PayoutInput],
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
