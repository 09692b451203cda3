import { randomUUID } from 'node:crypto';
import { payoutWorkflowId } from '../../contracts/payout';
import { postJournal } from '../../db/ledger';
import { accounts } from '../../domain/ledger/accounts';
import { transfer } from '../../domain/ledger/journal';
import { payoutWorkflow } from '../../workflows/payout';
import { seedSeller } from './checkout';
import type { TestDatabase } from './db';
import { eventually, uniqueId, type TestWorker } from './temporal';

/**
 * A payout in flight whose bank has said "pending" and been quiet past reconciliation's grace
 * period, and whose flow will not ask again for ten minutes: only staff (poll now, or a mark from
 * the bank statement) can settle it within a test.
 */
export async function unansweredPayout(tdb: TestDatabase, worker: TestWorker, amount: number) {
  const sellerId = await seedSeller(tdb.db, { bank: 'pending-then-ok:HDFC0001' });
  await postJournal(tdb.db, {
    idempotencyKey: uniqueId('test-settle-'),
    reason: 'order_settlement',
    lines: transfer(accounts.externalPsp, accounts.sellerPayable(sellerId), amount),
  });
  const payoutId = `po_${randomUUID().replace(/-/g, '').slice(0, 24)}`;
  await tdb
    .db('payouts')
    .insert({ id: payoutId, seller_id: sellerId, status: 'pending', bank_account_ref: 'pending-then-ok:HDFC0001', requested_by: 'test' });
  const h = await worker.client.workflow.start(payoutWorkflow, {
    taskQueue: worker.taskQueue,
    workflowId: payoutWorkflowId(payoutId),
    args: [{ payoutId, sellerId, pollMs: 600_000, maxPollMs: 600_000 }],
  });
  await eventually(async () => (await tdb.db('payouts').where({ id: payoutId }).first()).provider_state === 'pending');
  await tdb
    .db('payouts')
    .where({ id: payoutId })
    .update({ updated_at: tdb.db.raw("now() - interval '11 minutes'") });
  return { sellerId, payoutId, h };
}
