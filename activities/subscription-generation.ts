import { Context } from '@temporalio/activity';
import { exceptionAddedSignal, subscriptionWorkflowId } from '../contracts/subscription';
import { wouldDeliver, type ScheduleException } from '../domain/schedule';
import { generationCandidates, insertDeliveries } from '../db/subscription-deliveries';
import { addRegionHoliday, exceptionsCovering, regionHolidayPage, type RegionHoliday } from '../db/subscription-exceptions';
import { scheduleOfRow } from '../db/subscriptions';
import type { Queryable } from '../db/knex';
import type { ActivityDeps } from './deps';

export interface GenerationBatchRequest {
  /** The local date to generate deliveries for (tomorrow at the cutoff). */
  date: string;
  timezone: string;
  /** Keyset: generate for subscriptions with id > afterId. */
  afterId: string;
  limit: number;
}

export interface GenerationBatchResult {
  subscriptions: number;
  deliveries: number;
  inserted: number;
  lastId: string | null;
}

/** How many workflows a holiday page tells at once. */
const HOLIDAY_SIGNAL_CONCURRENCY = 16;

/**
 * One batch of nightly order generation: the next `limit` subscriptions (keyset by id) that may
 * deliver on `date`, their exceptions covering it, wouldDeliver for each, and one set-based insert
 * (unnest … ON CONFLICT DO NOTHING) — so re-running a night creates nothing new.
 */
export async function generateDeliveriesBatch(db: Queryable, req: GenerationBatchRequest): Promise<GenerationBatchResult> {
  const subs = await generationCandidates(db, req);
  if (subs.length === 0) return { subscriptions: 0, deliveries: 0, inserted: 0, lastId: null };
  const bySub = await exceptionsCovering(
    db,
    subs.map((s) => s.id),
    req.date,
  );
  const out = { subscriptionIds: [] as string[], quantities: [] as number[], reasons: [] as string[] };
  const none: ScheduleException[] = [];
  for (const s of subs) {
    const d = wouldDeliver(scheduleOfRow(s), bySub.get(s.id) ?? none, req.date);
    if (!d.deliver) continue;
    out.subscriptionIds.push(s.id);
    out.quantities.push(d.quantity);
    out.reasons.push(d.reason);
  }
  const inserted = await insertDeliveries(db, req.date, out);
  return { subscriptions: subs.length, deliveries: out.subscriptionIds.length, inserted, lastId: subs[subs.length - 1].id };
}

export function createSubscriptionGenerationActivities({ db, temporal, logger }: ActivityDeps) {
  return {
    async generateDeliveriesBatch(req: GenerationBatchRequest): Promise<GenerationBatchResult> {
      return generateDeliveriesBatch(db, req);
    },

    /** A holiday for every subscription in a region on a date (one set-based insert); returns how many were added. */
    async addRegionHoliday(req: RegionHoliday): Promise<number> {
      return addRegionHoliday(db, req);
    },

    /** Tells the running workflows of one page of the region about the holiday (their state mirrors Postgres). */
    async signalRegionHoliday(req: {
      region: string;
      date: string;
      afterId: string;
      limit: number;
    }): Promise<{ signalled: number; lastId: string | null }> {
      const page = await regionHolidayPage(db, req);
      if (!temporal) throw new Error('signalRegionHoliday needs a Temporal client');
      let signalled = 0;
      const queue = [...page];
      const workers = Array.from({ length: HOLIDAY_SIGNAL_CONCURRENCY }, async () => {
        for (let r = queue.shift(); r; r = queue.shift()) {
          try {
            await temporal.workflow.getHandle(subscriptionWorkflowId(r.subscriptionId)).signal(exceptionAddedSignal, r.exception);
            signalled++;
          } catch (err) {
            // A finished workflow (ended subscription) needs nothing; Postgres already has the row.
            logger.debug({ subscriptionId: r.subscriptionId, err: String(err) }, 'holiday signal not delivered');
          }
          Context.current().heartbeat();
        }
      });
      await Promise.all(workers);
      return { signalled, lastId: page.length ? page[page.length - 1].subscriptionId : null };
    },
  };
}

export type SubscriptionGenerationActivities = ReturnType<typeof createSubscriptionGenerationActivities>;
