import { type Client, ScheduleAlreadyRunning, ScheduleOverlapPolicy } from '@temporalio/client';
import type { Config } from './config';

interface ScheduleDefinition {
  scheduleId: string;
  workflowType: string;
  cron: string;
  timezone: string;
  args: unknown[];
}

/** Recurring jobs, as Temporal Schedules so ops can see, pause and trigger them in the UI. */
export function scheduleDefinitions(config: Config): ScheduleDefinition[] {
  return [
    {
      scheduleId: 'ledger-daily-maintenance',
      workflowType: 'ledgerMaintenanceWorkflow',
      cron: '5 0 * * *',
      timezone: 'Asia/Kolkata',
      args: [{}],
    },
    {
      // Stored Idempotency-Keys past their retention, so the table holds days, not years.
      scheduleId: 'idempotency-keys-daily-prune',
      workflowType: 'pruneIdempotencyKeysWorkflow',
      cron: '30 3 * * *',
      timezone: 'Asia/Kolkata',
      args: [{ retentionHours: config.IDEMPOTENCY_KEY_RETENTION_HOURS }],
    },
    {
      // Seller payouts: every Monday morning, a payout for each seller with a positive payable.
      scheduleId: 'seller-payouts-weekly',
      workflowType: 'payoutSweepWorkflow',
      cron: '0 6 * * 1',
      timezone: 'Asia/Kolkata',
      args: [{}],
    },
    // Nightly order generation at the cutoff (22:00 local): tomorrow's deliveries, one schedule per timezone served.
    {
      scheduleId: 'subscriptions-nightly-orders-asia-kolkata',
      workflowType: 'generateDeliveriesWorkflow',
      cron: '0 22 * * *',
      timezone: 'Asia/Kolkata',
      args: [{ timezone: 'Asia/Kolkata' }],
    },
  ];
}

/**
 * Creates each schedule, or brings an existing one up to date with its definition (a deploy that
 * changes a time or the task queue takes effect), keeping whatever pause state ops have set.
 */
export async function ensureSchedules(client: Client, config: Config): Promise<void> {
  for (const def of scheduleDefinitions(config)) {
    const options = {
      spec: { cronExpressions: [def.cron], timezone: def.timezone },
      action: { type: 'startWorkflow' as const, workflowType: def.workflowType, taskQueue: config.TEMPORAL_TASK_QUEUE, args: def.args },
      policies: { overlap: ScheduleOverlapPolicy.SKIP },
    };
    try {
      await client.schedule.create({ scheduleId: def.scheduleId, ...options });
    } catch (err) {
      if (!(err instanceof ScheduleAlreadyRunning)) throw err;
      await client.schedule.getHandle(def.scheduleId).update((previous) => ({ ...previous, ...options }));
    }
  }
}
