import { type Client, ScheduleAlreadyRunning, ScheduleOverlapPolicy } from '@temporalio/client';
import type { Workflow } from '@temporalio/common';
import { DEFAULT_CUTOFF, DEFAULT_TIMEZONE } from '../domain/rules';
import { generateDeliveriesWorkflow } from '../workflows/subscription-generation';
import { pruneIdempotencyKeysWorkflow } from '../workflows/idempotency-keys';
import { ledgerMaintenanceWorkflow } from '../workflows/ledger-maintenance';
import { payoutSweepWorkflow } from '../workflows/payout';
import { nightlyGenerationScheduleId } from '../contracts/delivery-generation';
import { IDEMPOTENCY_KEY_PRUNE_SCHEDULE_ID, LEDGER_MAINTENANCE_SCHEDULE_ID } from '../contracts/maintenance';
import type { Config } from './config';

interface ScheduleDefinition {
  scheduleId: string;
  workflowType: Workflow;
  cron: string;
  timezone: string;
  args: unknown[];
}

/** Recurring jobs, as Temporal Schedules so ops can see, pause and trigger them in the UI. */
export function scheduleDefinitions(config: Config): ScheduleDefinition[] {
  return [
    {
      scheduleId: LEDGER_MAINTENANCE_SCHEDULE_ID,
      workflowType: ledgerMaintenanceWorkflow,
      cron: '5 0 * * *',
      timezone: DEFAULT_TIMEZONE,
      args: [{}],
    },
    {
      // Stored Idempotency-Keys past their retention, so the table holds days, not years.
      scheduleId: IDEMPOTENCY_KEY_PRUNE_SCHEDULE_ID,
      workflowType: pruneIdempotencyKeysWorkflow,
      cron: '30 3 * * *',
      timezone: DEFAULT_TIMEZONE,
      args: [{ retentionHours: config.IDEMPOTENCY_KEY_RETENTION_HOURS }],
    },
    {
      // Seller payouts: every Monday morning, a payout for each seller with a positive payable.
      scheduleId: 'seller-payouts-weekly',
      workflowType: payoutSweepWorkflow,
      cron: '0 6 * * 1',
      timezone: DEFAULT_TIMEZONE,
      args: [{}],
    },
    // Nightly order generation at the cutoff (local time): tomorrow's deliveries, one schedule per timezone served.
    {
      scheduleId: nightlyGenerationScheduleId(DEFAULT_TIMEZONE),
      workflowType: generateDeliveriesWorkflow,
      cron: cronAt(DEFAULT_CUTOFF),
      timezone: DEFAULT_TIMEZONE,
      args: [{ timezone: DEFAULT_TIMEZONE }],
    },
  ];
}

/** `HH:MM` → a daily cron expression at that minute. */
function cronAt(hhmm: string): string {
  const [hours, minutes] = hhmm.split(':').map(Number);
  return `${minutes} ${hours} * * *`;
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
