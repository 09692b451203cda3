import { continueAsNew, defineQuery, proxyActivities, setHandler, upsertMemo, upsertSearchAttributes } from '@temporalio/workflow';
import type { SubscriptionGenerationActivities } from '../activities/subscription-generation';
import { addDays, localDateOf, DEFAULT_TIMEZONE } from '../domain/schedule';
import { FlowStatus } from './search-attributes';

const gen = proxyActivities<SubscriptionGenerationActivities>({
  startToCloseTimeout: '5m',
  heartbeatTimeout: '1m',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m' },
});

export interface GenerationProgress {
  date: string;
  timezone: string;
  batches: number;
  subscriptions: number;
  deliveries: number;
  /** Rows actually inserted (0 on a re-run of the same night). */
  inserted: number;
  afterId: string;
  done: boolean;
}

export interface GenerateDeliveriesInput {
  /** Timezone whose subscriptions this run covers (one schedule per timezone, at its cutoff). */
  timezone?: string;
  /** Defaults to tomorrow in `timezone` when the run starts. */
  date?: string;
  batchSize?: number;
  /** Carried across continue-as-new. */
  progress?: GenerationProgress;
}

export const generationProgressQuery = defineQuery<GenerationProgress>('progress');

const BATCHES_PER_RUN = 200;

/**
 * Nightly order generation (Temporal Schedule at the cutoff): tomorrow's deliveries for every
 * subscription that may deliver, in keyset batches. Idempotent: re-running inserts nothing new.
 * Progress: the `progress` query, the memo, and FlowStatus (`generating` → `completed`).
 */
export async function generateDeliveriesWorkflow(input: GenerateDeliveriesInput = {}): Promise<GenerationProgress> {
  const timezone = input.timezone ?? DEFAULT_TIMEZONE;
  const date = input.date ?? addDays(localDateOf(Date.now(), timezone), 1);
  const batchSize = input.batchSize ?? 5_000;
  const progress: GenerationProgress = input.progress ?? { date, timezone, batches: 0, subscriptions: 0, deliveries: 0, inserted: 0, afterId: '', done: false };
  setHandler(generationProgressQuery, () => progress);
  upsertSearchAttributes([{ key: FlowStatus, value: 'generating' }]);

  for (let batchesThisRun = 0; ; batchesThisRun++) {
    if (batchesThisRun >= BATCHES_PER_RUN) {
      return continueAsNew<typeof generateDeliveriesWorkflow>({ timezone, date: progress.date, batchSize, progress });
    }
    const r = await gen.generateDeliveriesBatch({ date: progress.date, timezone, afterId: progress.afterId, limit: batchSize });
    if (r.lastId === null) break;
    progress.batches += 1;
    progress.subscriptions += r.subscriptions;
    progress.deliveries += r.deliveries;
    progress.inserted += r.inserted;
    progress.afterId = r.lastId;
    upsertMemo({ progress: { batches: progress.batches, subscriptions: progress.subscriptions, deliveries: progress.deliveries, inserted: progress.inserted } });
    if (r.subscriptions < batchSize) break;
  }
  progress.done = true;
  upsertMemo({ progress: { ...progress } });
  upsertSearchAttributes([{ key: FlowStatus, value: 'completed' }]);
  return progress;
}

export interface RegionHolidayInput {
  region: string;
  date: string;
  reason?: string;
  createdBy: string;
  createdAt: string;
}

/**
 * `holiday-<region>-<date>`: one call adds a holiday skip to every active subscription of the
 * region (a single set-based insert), then tells their workflows in pages.
 */
export async function regionHolidayWorkflow(input: RegionHolidayInput): Promise<{ added: number; signalled: number }> {
  const added = await gen.addRegionHoliday({ region: input.region, date: input.date, reason: input.reason ?? 'holiday', createdBy: input.createdBy, createdAt: input.createdAt });
  let signalled = 0;
  let afterId = '';
  for (;;) {
    const page = await gen.signalRegionHoliday({ region: input.region, date: input.date, afterId, limit: 500 });
    signalled += page.signalled;
    if (page.lastId === null) break;
    afterId = page.lastId;
  }
  upsertSearchAttributes([{ key: FlowStatus, value: 'completed' }]);
  return { added, signalled };
}
