import { continueAsNew, proxyActivities, setHandler, upsertMemo } from '@temporalio/workflow';
import type { SubscriptionGenerationActivities } from '../activities/subscription-generation';
import {
  generationProgressQuery,
  type GenerateDeliveriesInput,
  type GenerationProgress,
  type RegionHolidayInput,
  type RegionHolidayResult,
} from '../contracts/delivery-generation';
import { DEFAULT_REASON, addDays, localDateOf, DEFAULT_TIMEZONE } from '../domain/schedule';
import { flowControl, isAbandoned } from './stuck';

const gen = proxyActivities<SubscriptionGenerationActivities>({
  startToCloseTimeout: '5m',
  heartbeatTimeout: '1m',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m' },
});

export type { GenerateDeliveriesInput, GenerationProgress, RegionHolidayInput } from '../contracts/delivery-generation';

const BATCHES_PER_RUN = 200;

/**
 * Nightly order generation (Temporal Schedule at the cutoff): tomorrow's deliveries for every
 * subscription that may deliver, in keyset batches. Idempotent: re-running inserts nothing new.
 * Progress: the `progress` query, the memo, and FlowStatus (`generating` → `completed`).
 * A batch stuck on bad data parks the run (`stuck`); abandoning it ends the night's run with what
 * was generated (FlowStatus `abandoned`, the rest of the date's deliveries are missing — ops rerun it).
 */
export async function generateDeliveriesWorkflow(input: GenerateDeliveriesInput = {}): Promise<GenerationProgress> {
  const timezone = input.timezone ?? DEFAULT_TIMEZONE;
  const date = input.date ?? addDays(localDateOf(Date.now(), timezone), 1);
  const batchSize = input.batchSize ?? 5_000;
  const progress: GenerationProgress = input.progress ?? {
    date,
    timezone,
    batches: 0,
    subscriptions: 0,
    deliveries: 0,
    inserted: 0,
    afterId: '',
    done: false,
  };
  setHandler(generationProgressQuery, () => progress);
  const flow = flowControl({ flowType: 'generation' });
  const summary = (what: string) =>
    `Deliveries for ${progress.date} (${timezone}): ${what}, ${progress.deliveries} deliveries for ${progress.subscriptions} subscriptions`;
  flow.status('generating', summary('generating'));

  try {
    for (let batchesThisRun = 0; ; batchesThisRun++) {
      if (batchesThisRun >= BATCHES_PER_RUN) {
        return continueAsNew<typeof generateDeliveriesWorkflow>({ timezone, date: progress.date, batchSize, progress });
      }
      const request = { date: progress.date, timezone, afterId: progress.afterId, limit: batchSize };
      const r = await flow.step(
        'generate_batch',
        () => gen.generateDeliveriesBatch(request),
        flow.giveUp('ends the run with the deliveries generated so far'),
      );
      if (r.lastId === null) break;
      progress.batches += 1;
      progress.subscriptions += r.subscriptions;
      progress.deliveries += r.deliveries;
      progress.inserted += r.inserted;
      progress.afterId = r.lastId;
      upsertMemo({
        progress: {
          batches: progress.batches,
          subscriptions: progress.subscriptions,
          deliveries: progress.deliveries,
          inserted: progress.inserted,
        },
      });
      if (r.subscriptions < batchSize) break;
    }
  } catch (err) {
    if (!isAbandoned(err)) throw err;
    flow.status('abandoned', summary(`abandoned by support after batch ${progress.batches}`));
    return progress;
  }
  progress.done = true;
  upsertMemo({ progress: { ...progress } });
  flow.status('completed', summary('completed'));
  return progress;
}

/**
 * `holiday-<region>-<date>`: one call adds a holiday skip to every active subscription of the
 * region (a single set-based insert), then tells their workflows in pages. A step stuck on bad data
 * parks it (`stuck`); abandoning ends the holiday with what was applied (FlowStatus `abandoned`).
 */
export async function regionHolidayWorkflow(input: RegionHolidayInput): Promise<RegionHolidayResult> {
  const flow = flowControl({ flowType: 'holiday' });
  const applied = { added: 0, signalled: 0 };
  const summary = (what: string) =>
    `Holiday in ${input.region} on ${input.date}: ${what}, ${applied.added} skips added, ${applied.signalled} subscriptions told`;
  const ends = flow.giveUp<never>('ends the holiday with what was applied so far');
  flow.announce('applying', summary('applying'));
  try {
    const holiday = {
      region: input.region,
      date: input.date,
      reason: input.reason ?? DEFAULT_REASON.holiday,
      createdBy: input.createdBy,
      createdAt: input.createdAt,
    };
    applied.added = await flow.step('add_skips', () => gen.addRegionHoliday(holiday), ends);
    let afterId = '';
    for (;;) {
      const pageAfter = afterId;
      const page = await flow.step(
        'tell_subscriptions',
        () => gen.signalRegionHoliday({ region: input.region, date: input.date, afterId: pageAfter, limit: 500 }),
        ends,
      );
      applied.signalled += page.signalled;
      if (page.lastId === null) break;
      afterId = page.lastId;
    }
  } catch (err) {
    if (!isAbandoned(err)) throw err;
    flow.status('abandoned', summary(`abandoned by support at step ${err.step}`));
    return applied;
  }
  flow.status('completed', summary('completed'));
  return applied;
}
