import type { WorkflowHandle, WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { accounts } from '../../domain/ledger/accounts';
import { transfer } from '../../domain/ledger/journal';
import { postJournal } from '../../db/ledger';
import type { Db } from '../../db/knex';
import { insertSubscriptionRow } from '../../db/subscriptions';
import {
  INITIAL_FLOW_STATUS,
  stateQuery,
  subscriptionWorkflowId,
  type SubscriptionRecord,
  type SubscriptionSettings,
  type SubscriptionWorkflowInput,
} from '../../contracts/subscription';
import { readRejection } from '../../domain/rejection';
import { quotePlan } from '../../domain/subscription';
import { CustomerId, FlowStatus } from '../../workflows/search-attributes';
import { subscriptionWorkflow } from '../../workflows/subscription';
import { uniqueId, type TestWorker } from '../support/temporal';

/** Subscription clock for tests: it reads 2026-08-01 00:00:01 IST when the workflow starts; one day = `dayMs` real ms. */
export const SIM_START_MS = Date.parse('2026-08-01T00:00:01+05:30');
/** Catalog price of one unit per delivery; a 3-day test period of one daily unit costs PRICE. */
export const UNIT_PRICE = 3_000;
export const PRICE = 9_000;

export function testSettings(overrides: Partial<SubscriptionSettings> = {}): Partial<SubscriptionSettings> {
  return { billingPeriod: { unit: 'day', count: 3 }, dayMs: 1_000, simStartMs: SIM_START_MS, dunningRetryDays: [1, 2], ...overrides };
}

export async function fundWallet(db: Db, userId: string, amount: number): Promise<void> {
  await postJournal(db, {
    idempotencyKey: `test-fund-${userId}-${amount}-${Math.random()}`,
    reason: 'topup',
    lines: transfer(accounts.externalPsp, accounts.userWallet(userId), amount),
  });
}

/**
 * A subscription row priced the way the API prices one: UNIT_PRICE over the test billing period
 * (the workflow charges the computed `pricePerPeriod`).
 */
export async function insertSubscription(db: Db, overrides: Partial<SubscriptionRecord> = {}): Promise<SubscriptionRecord> {
  const plan = {
    quantity: 1,
    recurrence: { kind: 'daily' as const },
    startDate: '2026-08-02',
    endDate: null,
    timezone: 'Asia/Kolkata',
    ...overrides,
  };
  const quote = quotePlan(plan, UNIT_PRICE, testSettings().billingPeriod!);
  const sub: SubscriptionRecord = {
    id: uniqueId('sub_'),
    customerId: uniqueId('cust'),
    productId: 'milk-500ml',
    pricePerPeriod: quote.periodCharge,
    unitPrice: UNIT_PRICE,
    region: 'blr',
    paymentMethod: 'pm_ok',
    ...plan,
  };
  await insertSubscriptionRow(db, sub, { unit: '500 ml', deliveriesPerPeriod: quote.deliveriesPerPeriod });
  return sub;
}

export async function startSubscription(
  worker: TestWorker,
  sub: SubscriptionRecord,
  settings: Partial<SubscriptionSettings> = testSettings(),
  taskQueue = worker.taskQueue,
): Promise<WorkflowHandleWithFirstExecutionRunId> {
  const input: SubscriptionWorkflowInput = { subscription: sub, settings };
  return worker.client.workflow.start(subscriptionWorkflow, {
    taskQueue,
    workflowId: subscriptionWorkflowId(sub.id),
    args: [input],
    typedSearchAttributes: [
      { key: CustomerId, value: sub.customerId },
      { key: FlowStatus, value: INITIAL_FLOW_STATUS },
    ],
  });
}

export const state = (h: WorkflowHandle) => h.query(stateQuery);

/** The codes of a subscription's rejection (an update's validator refusing a request). */
export const rejectionCodes = (err: unknown): string[] => (readRejection(err)?.details.codes as string[] | undefined) ?? [];

export async function renewals(db: Db, subscriptionId: string) {
  const rows = await db.raw(
    `SELECT period, period_start::text AS period_start, amount::int AS amount, status, paid_via, paid_attempt, attempts, provider_payment_id
       FROM subscription_renewals WHERE subscription_id = ? ORDER BY period`,
    [subscriptionId],
  );
  return rows.rows as {
    period: number;
    period_start: string;
    amount: number;
    status: string;
    paid_via: string | null;
    paid_attempt: number | null;
    attempts: number;
    provider_payment_id: string | null;
  }[];
}

/** What each journal of the subscription took into platform revenue, by idempotency key. */
export async function chargedAmounts(db: Db, subscriptionId: string): Promise<Record<string, number>> {
  const { rows } = await db.raw(
    `SELECT j.idempotency_key AS key, l.amount::int AS amount
       FROM journal j JOIN journal_lines l ON l.journal_id = j.id AND l.account_id = ?
      WHERE j.ref_type = 'subscription' AND j.ref_id = ? ORDER BY j.id`,
    [accounts.platformRevenue, subscriptionId],
  );
  return Object.fromEntries(rows.map((r: { key: string; amount: number }) => [r.key, r.amount]));
}

export async function journalsFor(db: Db, subscriptionId: string): Promise<string[]> {
  const rows = await db('journal').where({ ref_type: 'subscription', ref_id: subscriptionId }).orderBy('id').select('idempotency_key');
  return rows.map((r: { idempotency_key: string }) => r.idempotency_key);
}

export async function notificationKinds(db: Db, subscriptionId: string) {
  return (await db('notifications').where({ subscription_id: subscriptionId }).orderBy('id').select('key', 'kind', 'data')) as {
    key: string;
    kind: string;
    data: any;
  }[];
}

export async function stop(handle: WorkflowHandle): Promise<void> {
  try {
    await handle.terminate('test finished');
  } catch {
    // already closed
  }
}
