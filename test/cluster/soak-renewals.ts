import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { postJournals } from '../../db/ledger';
import type { Db } from '../../db/knex';
import { getBalance } from '../../db/ledger-reports';
import { insertSubscriptionRow } from '../../db/subscriptions';
import { INITIAL_FLOW_STATUS, subscriptionWorkflowId, type SubscriptionWorkflowInput } from '../../contracts/subscription';
import { DEFAULT_TASK_QUEUE } from '../../contracts/task-queue';
import { accounts } from '../../domain/ledger/accounts';
import { transfer } from '../../domain/ledger/journal';
import { quotePlan, type SubscriptionSettings } from '../../domain/subscription';
import { CustomerId, FlowStatus } from '../../workflows/search-attributes';
import { subscriptionWorkflow } from '../../workflows/subscription';

/**
 * Subscriptions on a fast clock, so the soak sees renewals (the API's subscriptions bill monthly
 * on the real clock): one day lasts a second and a period three days, so each renews every ~3 s
 * and hands over to a new run each time — through the worker kills and the history restart.
 * The API starts subscriptions with the deployment's clock only, so these are started on the
 * cluster directly, as a test starts one. Each is funded for exactly PAID_PERIODS periods: it
 * must end with those paid once each, the next one declined, and an empty wallet.
 */
export const PAID_PERIODS = 4;
const UNIT_PRICE = 3_000;
const SIM_START_MS = Date.parse('2026-08-01T00:00:01+05:30');
const SETTINGS: Partial<SubscriptionSettings> = {
  billingPeriod: { unit: 'day', count: 3 },
  dayMs: 1_000,
  simStartMs: SIM_START_MS,
  dunningRetryDays: [1, 2],
};

export interface Renewing {
  userId: string;
  subscriptionId: string;
  pricePerPeriod: number;
}

export async function renewingSubscription(db: Db, temporal: Client, renewing: Renewing[]): Promise<void> {
  const id = randomUUID().replace(/-/g, '').slice(0, 16);
  const plan = { quantity: 1, recurrence: { kind: 'daily' as const }, startDate: '2026-08-02', endDate: null, timezone: 'Asia/Kolkata' };
  const quote = quotePlan(plan, UNIT_PRICE, SETTINGS.billingPeriod!);
  const sub = {
    id: `sub_soak${id}`,
    customerId: `soak-renew-${id}`,
    productId: 'soak-milk',
    pricePerPeriod: quote.periodCharge,
    unitPrice: UNIT_PRICE,
    region: 'blr',
    // The wallet pays first; once it is empty the card declines, so the funded periods are all it can pay.
    paymentMethod: 'pm_declined',
    ...plan,
  };
  await db.transaction(async (trx) => {
    await postJournals(trx, [
      {
        idempotencyKey: `soak-fund-${sub.customerId}`,
        reason: 'topup',
        lines: transfer(accounts.externalPsp, accounts.userWallet(sub.customerId), PAID_PERIODS * quote.periodCharge),
      },
    ]);
    await insertSubscriptionRow(trx, sub, { unit: '500 ml', deliveriesPerPeriod: quote.deliveriesPerPeriod });
  });
  renewing.push({ userId: sub.customerId, subscriptionId: sub.id, pricePerPeriod: quote.periodCharge });
  const input: SubscriptionWorkflowInput = { subscription: sub, settings: SETTINGS };
  await temporal.workflow.start(subscriptionWorkflow, {
    taskQueue: DEFAULT_TASK_QUEUE,
    workflowId: subscriptionWorkflowId(sub.id),
    args: [input],
    typedSearchAttributes: [
      { key: CustomerId, value: sub.customerId },
      { key: FlowStatus, value: INITIAL_FLOW_STATUS },
    ],
  });
}

/** Periods paid so far, and whether the one after the funded ones has been tried (and declined). */
async function renewalsOf(db: Db, subscriptionId: string) {
  const rows: Array<{ period: number; status: string }> = await db('subscription_renewals')
    .where({ subscription_id: subscriptionId })
    .select('period', 'status');
  return { paid: rows.filter((r) => r.status === 'paid').map((r) => r.period), beyond: rows.some((r) => r.period > PAID_PERIODS) };
}

/** Every fast-clock subscription has charged its funded periods and tried the next. */
export async function renewalsDone(db: Db, renewing: Renewing[]): Promise<boolean> {
  for (const r of renewing) {
    const { paid, beyond } = await renewalsOf(db, r.subscriptionId);
    if (paid.length < PAID_PERIODS || !beyond) return false;
  }
  return true;
}

/** Problems of the fast-clock subscriptions — a period not renewed (lost), charged twice or beyond the funds (doubled) — and the periods paid. */
export async function verifyRenewals(db: Db, renewing: Renewing[]) {
  const v = { lost: [] as string[], doubled: [] as string[], money: [] as string[], paid: 0 };
  const want = Array.from({ length: PAID_PERIODS }, (_, i) => i + 1).join(',');
  for (const r of renewing) {
    const { paid, beyond } = await renewalsOf(db, r.subscriptionId);
    v.paid += paid.length;
    const got = [...paid].sort((a, b) => a - b).join(',');
    if (paid.length > PAID_PERIODS) v.doubled.push(`subscription ${r.subscriptionId}: periods ${got} paid on funds for ${PAID_PERIODS}`);
    else if (got !== want || !beyond) v.lost.push(`subscription ${r.subscriptionId}: periods ${got} paid, want ${want} and the next tried`);
    // One charge journal per paid period: a charge applied twice shows as a second journal or an overdrawn wallet.
    const charges: Array<{ key: string }> = await db('journal')
      .where({ ref_type: 'subscription', ref_id: r.subscriptionId })
      .select('idempotency_key as key');
    const periods = charges.map((c) => /:renewal-(\d+):/.exec(c.key)?.[1]).filter((p) => p !== undefined);
    if (new Set(periods).size !== periods.length) v.doubled.push(`subscription ${r.subscriptionId}: charge journals ${periods.join(',')}`);
    const wallet = (await getBalance(db, accounts.userWallet(r.userId))).balance;
    if (wallet !== 0) v.money.push(`subscription ${r.subscriptionId}: wallet ${wallet} after ${paid.length} periods, want 0`);
  }
  return v;
}
