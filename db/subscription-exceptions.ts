/**
 * subscription_exceptions: the dated exceptions (skips, extras, quantity changes) of each
 * subscription, written by its workflow and by a regional holiday, read by the API and nightly
 * generation. One mapping between a row and a ScheduleException, here.
 */
import type { ScheduleException } from '../domain/schedule';
import { holidayExceptionId } from '../contracts/delivery-generation';
import type { Queryable } from './knex';

/** The columns of an exception as its object reads them (dates as text, created_at as ISO UTC). */
const EXCEPTION_COLUMNS = `e.subscription_id, e.id, e.type, e.from_date::text AS from_date, e.to_date::text AS to_date, e.quantity,
  e.reason, e.created_by, to_char(e.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS created_at, e.ended_at::text AS ended_at`;

interface ExceptionRow {
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

/** Row → object: a skip carries no quantity. */
export function exceptionOf(r: ExceptionRow): ScheduleException {
  return {
    id: r.id,
    type: r.type,
    from: r.from_date,
    to: r.to_date,
    ...(r.quantity != null ? { quantity: r.quantity } : {}),
    reason: r.reason,
    createdBy: r.created_by,
    createdAt: r.created_at,
    endedAt: r.ended_at,
  };
}

/** Object → row. */
function exceptionRow(subscriptionId: string, ex: ScheduleException) {
  return {
    subscription_id: subscriptionId,
    id: ex.id,
    type: ex.type,
    from_date: ex.from,
    to_date: ex.to,
    quantity: ex.type === 'skip' ? null : (ex.quantity ?? null),
    reason: ex.reason,
    created_by: ex.createdBy,
    created_at: ex.createdAt,
    ended_at: ex.endedAt ?? null,
  };
}

/** Saves an exception once (a repeated save of the same id changes nothing). */
export async function saveException(q: Queryable, subscriptionId: string, ex: ScheduleException): Promise<void> {
  await q('subscription_exceptions').insert(exceptionRow(subscriptionId, ex)).onConflict(['subscription_id', 'id']).ignore();
}

/** Ends exceptions from a date; never moves an end later and never deletes. */
export async function endExceptions(q: Queryable, subscriptionId: string, ends: { id: string; endedAt: string }[]): Promise<void> {
  for (const e of ends) {
    await q.raw(
      `UPDATE subscription_exceptions SET ended_at = ?::date
        WHERE subscription_id = ? AND id = ? AND (ended_at IS NULL OR ended_at > ?::date)`,
      [e.endedAt, subscriptionId, e.id, e.endedAt],
    );
  }
}

/** A subscription's exceptions, oldest first. */
export async function loadSubscriptionExceptions(q: Queryable, subscriptionId: string): Promise<ScheduleException[]> {
  const { rows } = await q.raw(
    `SELECT ${EXCEPTION_COLUMNS} FROM subscription_exceptions e WHERE e.subscription_id = ? ORDER BY e.created_at, e.id`,
    [subscriptionId],
  );
  return (rows as ExceptionRow[]).map(exceptionOf);
}

/** The exceptions of these subscriptions that apply on `date`, by subscription. */
export async function exceptionsCovering(q: Queryable, subscriptionIds: string[], date: string): Promise<Map<string, ScheduleException[]>> {
  const { rows } = await q.raw(
    `SELECT ${EXCEPTION_COLUMNS} FROM subscription_exceptions e
      WHERE e.subscription_id = ANY(?::text[]) AND e.from_date <= ?::date
        AND (e.to_date IS NULL OR e.to_date >= ?::date) AND (e.ended_at IS NULL OR e.ended_at > ?::date)`,
    [subscriptionIds, date, date, date],
  );
  const bySub = new Map<string, ScheduleException[]>();
  for (const r of rows as ExceptionRow[]) {
    const list = bySub.get(r.subscription_id) ?? [];
    list.push(exceptionOf(r));
    bySub.set(r.subscription_id, list);
  }
  return bySub;
}

export interface RegionHoliday {
  region: string;
  date: string;
  reason: string;
  createdBy: string;
  createdAt: string;
}

/**
 * A holiday skip for every active subscription of a region that runs on the date: one set-based
 * insert, keyed per date so repeating it adds nothing. Returns how many were added.
 */
export async function addRegionHoliday(q: Queryable, h: RegionHoliday): Promise<number> {
  const res = await q.raw(
    `INSERT INTO subscription_exceptions (subscription_id, id, type, from_date, to_date, quantity, reason, created_by, created_at)
     SELECT id, ?, 'skip', ?::date, ?::date, NULL, ?, ?, ?::timestamptz
       FROM subscriptions
      WHERE region = ? AND status = 'active' AND (end_date IS NULL OR end_date >= ?::date)
     ON CONFLICT (subscription_id, id) DO NOTHING`,
    [holidayExceptionId(h.date), h.date, h.date, h.reason, h.createdBy, h.createdAt, h.region, h.date],
  );
  return res.rowCount ?? 0;
}

/** One page (keyset by subscription id) of the active subscriptions of a region with the holiday's skip. */
export async function regionHolidayPage(
  q: Queryable,
  p: { region: string; date: string; afterId: string; limit: number },
): Promise<{ subscriptionId: string; exception: ScheduleException }[]> {
  const { rows } = await q.raw(
    `SELECT ${EXCEPTION_COLUMNS}
       FROM subscriptions s JOIN subscription_exceptions e ON e.subscription_id = s.id AND e.id = ?
      WHERE s.region = ? AND s.status = 'active' AND s.id > ?
      ORDER BY s.id LIMIT ?`,
    [holidayExceptionId(p.date), p.region, p.afterId, p.limit],
  );
  return (rows as ExceptionRow[]).map((r) => ({ subscriptionId: r.subscription_id, exception: exceptionOf(r) }));
}
