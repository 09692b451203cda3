/**
 * deliveries: one row per subscription and date, written by nightly order generation (idempotent:
 * a re-run of the same night inserts nothing new) and read by the API's explain.
 */
import type { Queryable } from './knex';
import type { SubscriptionRow } from './subscriptions';

export type GenerationCandidate = Pick<
  SubscriptionRow,
  'id' | 'start_date' | 'end_date' | 'recurrence' | 'quantity' | 'timezone' | 'status' | 'cancelled_from'
>;

/** The next `limit` subscriptions of a timezone (keyset by id) that may deliver on `date`. */
export async function generationCandidates(
  q: Queryable,
  req: { date: string; timezone: string; afterId: string; limit: number },
): Promise<GenerationCandidate[]> {
  const { rows } = await q.raw(
    `SELECT id, start_date::text, end_date::text, recurrence, quantity, timezone, status, cancelled_from::text
       FROM subscriptions
      WHERE timezone = ? AND id > ? AND (status = 'active' OR cancelled_from IS NOT NULL)
        AND start_date <= ?::date AND (end_date IS NULL OR end_date >= ?::date)
        AND (cancelled_from IS NULL OR cancelled_from > ?::date)
      ORDER BY id
      LIMIT ?`,
    [req.timezone, req.afterId, req.date, req.date, req.date, req.limit],
  );
  return rows;
}

/** One set-based insert of a date's deliveries; returns how many rows were new. */
export async function insertDeliveries(
  q: Queryable,
  date: string,
  d: { subscriptionIds: string[]; quantities: number[]; reasons: string[] },
): Promise<number> {
  if (d.subscriptionIds.length === 0) return 0;
  const res = await q.raw(
    `INSERT INTO deliveries (subscription_id, delivery_date, quantity, reason)
     SELECT id, ?::date, q, r FROM unnest(?::text[], ?::int[], ?::text[]) AS t(id, q, r)
     ON CONFLICT (subscription_id, delivery_date) DO NOTHING`,
    [date, d.subscriptionIds, d.quantities, d.reasons],
  );
  return res.rowCount ?? 0;
}

/** The delivery generated for a subscription on a date, if any. */
export async function findDelivery(
  q: Queryable,
  subscriptionId: string,
  date: string,
): Promise<{ quantity: number; status: string } | null> {
  const { rows } = await q.raw(`SELECT quantity, status FROM deliveries WHERE subscription_id = ? AND delivery_date = ?::date`, [
    subscriptionId,
    date,
  ]);
  return rows[0] ?? null;
}
