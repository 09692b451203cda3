/**
 * The route sheet: every delivery of one day in one area, in route order — the sequence ops set
 * per address, addresses without one after those, then by address and subscription so the order
 * never changes between two fetches of the same data.
 */
import { deliveryIdOf, type DeliveryStatus, type FailureReason } from '../domain/fulfilment';
import type { Queryable } from './knex';

export interface RouteSheetEntry {
  deliveryId: string;
  subscriptionId: string;
  sequence: number | null;
  quantity: number;
  product: { productId: string; name: string | null; unit: string | null };
  address: { addressId: string; line: string; notes: string | null } | null;
  status: DeliveryStatus;
  failureReason: FailureReason | null;
  outcomeAt: string | null;
  revision: number;
}

interface RouteRow {
  subscription_id: string;
  quantity: number;
  status: DeliveryStatus;
  failure_reason: FailureReason | null;
  outcome_at: Date | null;
  revision: number;
  product_id: string;
  product_name: string | null;
  unit: string | null;
  address_id: string | null;
  line: string | null;
  notes: string | null;
  sequence: number | null;
}

export async function loadRouteSheet(q: Queryable, areaId: string, date: string): Promise<RouteSheetEntry[]> {
  const { rows } = await q.raw(
    `SELECT d.subscription_id, d.quantity, d.status, d.failure_reason, d.outcome_at, d.revision,
            s.product_id, p.name AS product_name, COALESCE(s.unit, p.unit) AS unit,
            a.id AS address_id, a.line, a.notes, a.sequence
       FROM subscriptions s
       -- Key lookups per subscription of the area (the day holds every area's deliveries, an area a few hundred);
       -- LIMIT keeps the planner from flattening them into scans of whole tables.
       CROSS JOIN LATERAL (
         SELECT subscription_id, quantity, status, failure_reason, outcome_at, revision
           FROM deliveries WHERE subscription_id = s.id AND delivery_date = ?::date LIMIT 1
       ) d
       LEFT JOIN LATERAL (
         SELECT a.id, a.line, a.notes, a.sequence
           FROM subscription_addresses sa JOIN delivery_addresses a ON a.id = sa.address_id
          WHERE sa.subscription_id = s.id LIMIT 1
       ) a ON true
       LEFT JOIN products p ON p.id = s.product_id
      WHERE s.region = ?
      ORDER BY a.sequence ASC NULLS LAST, a.id ASC NULLS LAST, s.id ASC`,
    [date, areaId],
  );
  return (rows as RouteRow[]).map((r) => ({
    deliveryId: deliveryIdOf(r.subscription_id, date),
    subscriptionId: r.subscription_id,
    sequence: r.sequence,
    quantity: r.quantity,
    product: { productId: r.product_id, name: r.product_name, unit: r.unit },
    address: r.address_id === null ? null : { addressId: r.address_id, line: r.line!, notes: r.notes },
    status: r.status,
    failureReason: r.failure_reason,
    outcomeAt: r.outcome_at ? new Date(r.outcome_at).toISOString() : null,
    revision: r.revision,
  }));
}
