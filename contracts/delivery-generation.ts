/**
 * The contract of the two bulk subscription flows: nightly order generation
 * (`generateDeliveriesWorkflow`, run by a Temporal Schedule per timezone at its cutoff) and a
 * regional holiday (`regionHolidayWorkflow`, `holiday-<region>-<date>`): ids, inputs, results, the
 * progress query and the key of a holiday's skip.
 */
import { defineQuery } from '@temporalio/workflow';

/** A regional holiday: one per region and date. */
export const holidayWorkflowId = (region: string, date: string) => `holiday-${region}-${date}`;
/** A nightly order generation run started by hand (the Schedule names its own runs, see below). */
export const generationWorkflowId = (timezone: string, date: string) => `generation-${timezoneSlug(timezone)}-${date}`;
/** The nightly Schedule of one timezone; its runs are named `<scheduleId>-<scheduled instant>`. */
export const nightlyGenerationScheduleId = (timezone: string) => `subscriptions-nightly-orders-${timezoneSlug(timezone)}`;

/** `Asia/Kolkata` → `asia-kolkata`, as in the nightly Schedule's id. */
export const timezoneSlug = (timezone: string) => timezone.toLowerCase().replace(/[^a-z0-9]+/g, '-');

/** The skip a holiday adds to each subscription of its region: one per date, so repeating it adds nothing. */
export const holidayExceptionId = (date: string) => `H-${date}`;

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

/** FlowStatus values of a generation run and of a holiday. */
export const GENERATION_FLOW_STATUSES = ['generating', 'completed', 'abandoned', 'stuck'] as const;
export const HOLIDAY_FLOW_STATUSES = ['applying', 'completed', 'abandoned', 'stuck'] as const;

export interface RegionHolidayInput {
  region: string;
  date: string;
  reason?: string;
  createdBy: string;
  createdAt: string;
}

export interface RegionHolidayResult {
  added: number;
  signalled: number;
}
