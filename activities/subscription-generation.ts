import { Context } from '@temporalio/activity';
import { subscriptionWorkflowId } from '../domain/flow-ids';
import { wouldDeliver, type ScheduleException, type ScheduleSubscription } from '../domain/schedule';
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

interface SubRow {
  id: string;
  start_date: string;
  end_date: string | null;
  recurrence: ScheduleSubscription['recurrence'];
  quantity: number;
  timezone: string;
  status: 'active' | 'cancelled';
  cancelled_from: string | null;
}

interface ExRow {
  subscription_id: string;
  id: string;
  type: ScheduleException['type'];
  from_date: string;
  to_date: string | null;
  quantity: number | null;
  reason: string;
  created_by: string;
  created_at: string;
  ended_at: string | null;
}

/**
 * One batch of nightly order generation: the next `limit` subscriptions (keyset by id) that may
 * deliver on `date`, their exceptions covering it, wouldDeliver for each, and one set-based insert
 * (unnest … ON CONFLICT DO NOTHING) — so re-running a night creates nothing new.
 */
export async function generateDeliveriesBatch(db: Queryable, req: GenerationBatchRequest): Promise<GenerationBatchResult> {
  const { rows: subs } = (await db.raw(
    `SELECT id, start_date::text, end_date::text, recurrence, quantity, timezone, status, cancelled_from::text
       FROM subscriptions
      WHERE timezone = ? AND id > ? AND (status = 'active' OR cancelled_from IS NOT NULL)
        AND start_date <= ?::date AND (end_date IS NULL OR end_date >= ?::date)
        AND (cancelled_from IS NULL OR cancelled_from > ?::date)
      ORDER BY id
      LIMIT ?`,
    [req.timezone, req.afterId, req.date, req.date, req.date, req.limit],
  )) as { rows: SubRow[] };
  if (subs.length === 0) return { subscriptions: 0, deliveries: 0, inserted: 0, lastId: null };
  const ids = subs.map((s) => s.id);

  const { rows: exRows } = (await db.raw(
    `SELECT subscription_id, id, type, from_date::text, to_date::text, quantity, reason, created_by,
            to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS created_at, ended_at::text
       FROM subscription_exceptions
      WHERE subscription_id = ANY(?::text[]) AND from_date <= ?::date
        AND (to_date IS NULL OR to_date >= ?::date) AND (ended_at IS NULL OR ended_at > ?::date)`,
    [ids, req.date, req.date, req.date],
  )) as { rows: ExRow[] };
  const bySub = new Map<string, ScheduleException[]>();
  for (const r of exRows) {
    const list = bySub.get(r.subscription_id) ?? [];
    list.push({
      id: r.id,
      type: r.type,
      from: r.from_date,
      to: r.to_date,
      ...(r.quantity != null ? { quantity: r.quantity } : {}),
      reason: r.reason,
      createdBy: r.created_by,
      createdAt: r.created_at,
      endedAt: r.ended_at,
    });
    bySub.set(r.subscription_id, list);
  }

  const outIds: string[] = [];
  const outQty: number[] = [];
  const outReason: string[] = [];
  const none: ScheduleException[] = [];
  for (const s of subs) {
    const d = wouldDeliver(
      {
        id: s.id,
        startDate: s.start_date,
        endDate: s.end_date,
        recurrence: s.recurrence,
        quantity: s.quantity,
        timezone: s.timezone,
        status: s.status,
        cancelledFrom: s.cancelled_from,
      },
      bySub.get(s.id) ?? none,
      req.date,
    );
    if (!d.deliver) continue;
    outIds.push(s.id);
    outQty.push(d.quantity);
    outReason.push(d.reason);
  }
  let inserted = 0;
  if (outIds.length) {
    const res = await db.raw(
      `INSERT INTO deliveries (subscription_id, delivery_date, quantity, reason)
       SELECT id, ?::date, q, r FROM unnest(?::text[], ?::int[], ?::text[]) AS t(id, q, r)
       ON CONFLICT (subscription_id, delivery_date) DO NOTHING`,
      [req.date, outIds, outQty, outReason],
    );
    inserted = res.rowCount ?? 0;
  }
  return { subscriptions: subs.length, deliveries: outIds.length, inserted, lastId: subs[subs.length - 1].id };
}

export function createSubscriptionGenerationActivities({ db, temporal, logger }: ActivityDeps) {
  return {
    async generateDeliveriesBatch(req: GenerationBatchRequest): Promise<GenerationBatchResult> {
      return generateDeliveriesBatch(db, req);
    },

    /**
     * A holiday for every subscription in a region on a date: one set-based insert, keyed
     * `H-<date>` per subscription so repeating it adds nothing. Returns how many were added.
     */
    async addRegionHoliday(req: { region: string; date: string; reason: string; createdBy: string; createdAt: string }): Promise<number> {
      const res = await db.raw(
        `INSERT INTO subscription_exceptions (subscription_id, id, type, from_date, to_date, quantity, reason, created_by, created_at)
         SELECT id, 'H-' || ?, 'skip', ?::date, ?::date, NULL, ?, ?, ?::timestamptz
           FROM subscriptions
          WHERE region = ? AND status = 'active' AND (end_date IS NULL OR end_date >= ?::date)
         ON CONFLICT (subscription_id, id) DO NOTHING`,
        [req.date, req.date, req.date, req.reason, req.createdBy, req.createdAt, req.region, req.date],
      );
      return res.rowCount ?? 0;
    },

    /** Tells the running workflows of one page of the region about the holiday (their state mirrors Postgres). */
    async signalRegionHoliday(req: {
      region: string;
      date: string;
      afterId: string;
      limit: number;
    }): Promise<{ signalled: number; lastId: string | null }> {
      const { rows } = await db.raw(
        `SELECT s.id, e.reason, e.created_by, to_char(e.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS created_at
           FROM subscriptions s JOIN subscription_exceptions e ON e.subscription_id = s.id AND e.id = 'H-' || ?
          WHERE s.region = ? AND s.status = 'active' AND s.id > ?
          ORDER BY s.id LIMIT ?`,
        [req.date, req.region, req.afterId, req.limit],
      );
      if (!temporal) throw new Error('signalRegionHoliday needs a Temporal client');
      let signalled = 0;
      const queue = [...rows];
      const workers = Array.from({ length: 16 }, async () => {
        for (let r = queue.shift(); r; r = queue.shift()) {
          const ex: ScheduleException = {
            id: `H-${req.date}`,
            type: 'skip',
            from: req.date,
            to: req.date,
            reason: r.reason,
            createdBy: r.created_by,
            createdAt: r.created_at,
          };
          try {
            await temporal.workflow.getHandle(subscriptionWorkflowId(r.id)).signal('exceptionAdded', ex);
            signalled++;
          } catch (err) {
            // A finished workflow (ended subscription) needs nothing; Postgres already has the row.
            logger.debug({ subscriptionId: r.id, err: String(err) }, 'holiday signal not delivered');
          }
          Context.current().heartbeat();
        }
      });
      await Promise.all(workers);
      return { signalled, lastId: rows.length ? rows[rows.length - 1].id : null };
    },
  };
}

export type SubscriptionGenerationActivities = ReturnType<typeof createSubscriptionGenerationActivities>;
