/**
 * The end of an area's delivery day: deliveries nobody reported become `unconfirmed`, the day's
 * summary is stored, and ops get an alert while any delivery is left unconfirmed. A report that
 * arrives after the close keeps the stored summary and the alert current (refreshClosedDays, in the
 * report's own transaction). delivery_alerts also carries the per-delivery credit alerts.
 */
import type { DeliveryAlertKind, DeliveryDaySummary } from '../contracts/fulfilment';
import { FAILURE_REASONS, type FailureReason } from '../domain/fulfilment';
import type { Queryable, Tx } from './knex';

/** The counts of the days in `pairs` (a relation of area_id, delivery_date), computed from the deliveries. */
const DAY_COUNTS = (pairs: string) => `
  SELECT p.area_id, p.delivery_date,
         count(d.subscription_id)::int AS total,
         (count(*) FILTER (WHERE d.status = 'delivered'))::int AS delivered,
         (count(*) FILTER (WHERE d.status = 'failed'))::int AS failed,
         jsonb_build_object(${FAILURE_REASONS.map((r) => `'${r}', count(*) FILTER (WHERE d.failure_reason = '${r}')`).join(', ')}) AS failed_by_reason,
         (count(*) FILTER (WHERE d.status = 'unconfirmed'))::int AS unconfirmed,
         (count(*) FILTER (WHERE d.status = 'scheduled'))::int AS scheduled,
         (count(*) FILTER (WHERE d.credit_journal_id IS NOT NULL))::int AS credits,
         COALESCE(sum(d.credited_amount), 0)::bigint AS credited_amount
    FROM ${pairs} p
    LEFT JOIN subscriptions s ON s.region = p.area_id
    LEFT JOIN deliveries d ON d.subscription_id = s.id AND d.delivery_date = p.delivery_date
   GROUP BY p.area_id, p.delivery_date`;

const SUMMARY_COLUMNS = 'total, delivered, failed, failed_by_reason, unconfirmed, scheduled, credits, credited_amount';

interface SummaryRow {
  area_id: string;
  delivery_date: string;
  total: number;
  delivered: number;
  failed: number;
  failed_by_reason: Record<FailureReason, number>;
  unconfirmed: number;
  scheduled: number;
  credits: number;
  credited_amount: number;
  closed_at: Date;
  updated_at: Date;
}

function summaryOf(r: SummaryRow): DeliveryDaySummary {
  return {
    areaId: r.area_id,
    date: r.delivery_date,
    total: r.total,
    delivered: r.delivered,
    failed: r.failed,
    failedByReason: r.failed_by_reason,
    unconfirmed: r.unconfirmed,
    scheduled: r.scheduled,
    credits: r.credits,
    creditedAmount: Number(r.credited_amount),
    closedAt: new Date(r.closed_at).toISOString(),
    updatedAt: new Date(r.updated_at).toISOString(),
  };
}

export interface DeliveryAlert {
  kind: DeliveryAlertKind;
  areaId: string;
  date: string;
  /** The delivery id, or '' for an alert about the area's day. */
  subject: string;
  message: string;
  count?: number;
}

/** Opens an alert, or brings the open one of the same kind and subject up to date. */
export async function raiseDeliveryAlert(q: Queryable, a: DeliveryAlert): Promise<void> {
  await q.raw(
    `INSERT INTO delivery_alerts (kind, area_id, delivery_date, subject, count, message) VALUES (?, ?, ?::date, ?, ?, ?)
     ON CONFLICT (kind, area_id, delivery_date, subject) WHERE resolved_at IS NULL
     DO UPDATE SET count = EXCLUDED.count, message = EXCLUDED.message, updated_at = now()`,
    [a.kind, a.areaId, a.date, a.subject, a.count ?? 0, a.message],
  );
}

const unconfirmedMessage = (areaId: string, date: string, n: number) =>
  `${n} ${n === 1 ? 'delivery' : 'deliveries'} in area ${areaId} on ${date} ${n === 1 ? 'was' : 'were'} never reported: follow up with the delivery staff`;

/** Keeps the day's unconfirmed-deliveries alert in step with the count: open while any are left, resolved at none. */
async function syncUnconfirmedAlerts(q: Queryable, days: { areaId: string; date: string; unconfirmed: number }[]): Promise<void> {
  for (const d of days) {
    if (d.unconfirmed > 0) {
      await raiseDeliveryAlert(q, {
        kind: 'deliveries_unconfirmed',
        areaId: d.areaId,
        date: d.date,
        subject: '',
        count: d.unconfirmed,
        message: unconfirmedMessage(d.areaId, d.date, d.unconfirmed),
      });
    } else {
      await q('delivery_alerts')
        .where({ kind: 'deliveries_unconfirmed', area_id: d.areaId, delivery_date: d.date, subject: '' })
        .whereNull('resolved_at')
        .update({ count: 0, resolved_at: q.fn.now(), updated_at: q.fn.now() });
    }
  }
}

/**
 * Closes an area's day: its still-scheduled deliveries become unconfirmed (each with a history
 * row), the summary is stored (a rerun recomputes it and keeps the first close's time) and the
 * alert follows the unconfirmed count. Safe to run twice.
 */
export async function closeAreaDay(
  trx: Tx,
  areaId: string,
  date: string,
): Promise<{ summary: DeliveryDaySummary; markedUnconfirmed: number; alertOpen: boolean }> {
  // The day's deliveries, locked in the order reports lock them: a report in flight either commits
  // before the summary is computed (and is counted) or waits and then finds the summary to refresh.
  await trx.raw(
    `SELECT 1 FROM deliveries d JOIN subscriptions s ON s.id = d.subscription_id
      WHERE s.region = ? AND d.delivery_date = ?::date ORDER BY d.subscription_id FOR UPDATE OF d`,
    [areaId, date],
  );
  const marked = await trx.raw(
    `WITH closed AS (
       UPDATE deliveries d SET status = 'unconfirmed', outcome_source = 'system', outcome_by = 'system:day-close', revision = d.revision + 1
         FROM subscriptions s
        WHERE s.id = d.subscription_id AND s.region = ? AND d.delivery_date = ?::date AND d.status = 'scheduled'
        RETURNING d.subscription_id, d.delivery_date, d.revision
     )
     INSERT INTO delivery_outcomes (subscription_id, delivery_date, revision, status, source, reported_by, result)
     SELECT subscription_id, delivery_date, revision, 'unconfirmed', 'system', 'system:day-close', 'applied' FROM closed`,
    [areaId, date],
  );
  const { rows } = await trx.raw(
    `INSERT INTO delivery_day_summaries (area_id, delivery_date, ${SUMMARY_COLUMNS})
     SELECT area_id, delivery_date, ${SUMMARY_COLUMNS}
       FROM (${DAY_COUNTS(`(SELECT ?::text AS area_id, ?::date AS delivery_date)`)}) c
     ON CONFLICT (area_id, delivery_date) DO UPDATE SET
       ${SUMMARY_COLUMNS.split(', ')
         .map((c) => `${c} = EXCLUDED.${c}`)
         .join(', ')}, updated_at = now()
     RETURNING area_id, delivery_date::text AS delivery_date, ${SUMMARY_COLUMNS}, closed_at, updated_at`,
    [areaId, date],
  );
  const summary = summaryOf(rows[0]);
  await syncUnconfirmedAlerts(trx, [{ areaId, date, unconfirmed: summary.unconfirmed }]);
  return { summary, markedUnconfirmed: marked.rowCount ?? 0, alertOpen: summary.unconfirmed > 0 };
}

/** Recomputes the stored summaries of those days that were already closed (a late report, a correction). */
export async function refreshClosedDays(trx: Tx, days: { areaId: string; date: string }[]): Promise<void> {
  const { rows } = await trx.raw(
    `WITH closed AS (
       SELECT DISTINCT p.area_id, p.delivery_date
         FROM unnest(?::text[], ?::date[]) AS p(area_id, delivery_date)
         JOIN delivery_day_summaries s ON s.area_id = p.area_id AND s.delivery_date = p.delivery_date
     )
     UPDATE delivery_day_summaries t SET
       ${SUMMARY_COLUMNS.split(', ')
         .map((c) => `${c} = c.${c}`)
         .join(', ')}, updated_at = now()
       FROM (${DAY_COUNTS('closed')}) c
      WHERE t.area_id = c.area_id AND t.delivery_date = c.delivery_date
      RETURNING t.area_id, t.delivery_date::text AS delivery_date, t.unconfirmed`,
    [days.map((d) => d.areaId), days.map((d) => d.date)],
  );
  if (rows.length === 0) return;
  await syncUnconfirmedAlerts(
    trx,
    rows.map((r: { area_id: string; delivery_date: string; unconfirmed: number }) => ({
      areaId: r.area_id,
      date: r.delivery_date,
      unconfirmed: r.unconfirmed,
    })),
  );
}

/** The stored summaries of a date, by area (only areas whose day has closed). */
export async function listDaySummaries(q: Queryable, date: string, areaIds?: string[]): Promise<DeliveryDaySummary[]> {
  const rows: SummaryRow[] = await q('delivery_day_summaries')
    .where({ delivery_date: date })
    .modify((b) => {
      if (areaIds) b.whereIn('area_id', areaIds);
    })
    .orderBy('area_id')
    .select('area_id', q.raw('delivery_date::text AS delivery_date'), ...SUMMARY_COLUMNS.split(', '), 'closed_at', 'updated_at');
  return rows.map(summaryOf);
}

export interface DeliveryAlertRow extends DeliveryAlert {
  id: number;
  count: number;
  raisedAt: Date;
  updatedAt: Date;
  resolvedAt: Date | null;
}

/** Newest first; `open` = only those still needing a human. */
export async function listDeliveryAlerts(q: Queryable, opts: { open: boolean; limit: number }): Promise<DeliveryAlertRow[]> {
  const rows = await q('delivery_alerts')
    .modify((b) => {
      if (opts.open) b.whereNull('resolved_at');
    })
    .orderBy([
      { column: 'raised_at', order: 'desc' },
      { column: 'id', order: 'desc' },
    ])
    .limit(opts.limit)
    .select(
      'id',
      'kind',
      'area_id',
      q.raw('delivery_date::text AS delivery_date'),
      'subject',
      'count',
      'message',
      'raised_at',
      'updated_at',
      'resolved_at',
    );
  return rows.map(
    (r: {
      id: number;
      kind: DeliveryAlertKind;
      area_id: string;
      delivery_date: string;
      subject: string;
      count: number;
      message: string;
      raised_at: Date;
      updated_at: Date;
      resolved_at: Date | null;
    }) => ({
      id: r.id,
      kind: r.kind,
      areaId: r.area_id,
      date: r.delivery_date,
      subject: r.subject,
      count: r.count,
      message: r.message,
      raisedAt: new Date(r.raised_at),
      updatedAt: new Date(r.updated_at),
      resolvedAt: r.resolved_at ? new Date(r.resolved_at) : null,
    }),
  );
}
