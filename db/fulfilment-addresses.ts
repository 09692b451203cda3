/**
 * delivery_addresses and subscription_addresses: where a subscription is delivered, and the order
 * of the stops ops set for an area's route.
 */
import { randomBytes } from 'node:crypto';
import type { Queryable } from './knex';

export interface DeliveryAddress {
  addressId: string;
  areaId: string;
  customerId: string;
  line: string;
  notes: string | null;
  sequence: number | null;
}

interface AddressRow {
  id: string;
  area_id: string;
  customer_id: string;
  line: string;
  notes: string | null;
  sequence: number | null;
}

function addressOf(r: AddressRow): DeliveryAddress {
  return { addressId: r.id, areaId: r.area_id, customerId: r.customer_id, line: r.line, notes: r.notes, sequence: r.sequence };
}

const newAddressId = () => `adr_${randomBytes(12).toString('hex')}`;

/**
 * Delivers a subscription to an address in its own area. The customer's address with the same
 * line in that area is reused (its notes updated), so two subscriptions to one door are one stop
 * with one sequence; otherwise a new address is added at the end of the route (no sequence yet).
 */
export async function setSubscriptionAddress(
  q: Queryable,
  a: { subscriptionId: string; customerId: string; areaId: string; line: string; notes: string | null },
): Promise<DeliveryAddress> {
  const { rows } = await q.raw(
    `INSERT INTO delivery_addresses (id, area_id, customer_id, line, notes) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (customer_id, area_id, lower(line)) DO UPDATE SET line = EXCLUDED.line, notes = EXCLUDED.notes, updated_at = now()
     RETURNING id, area_id, customer_id, line, notes, sequence`,
    [newAddressId(), a.areaId, a.customerId, a.line, a.notes],
  );
  const address = addressOf(rows[0]);
  await q.raw(
    `INSERT INTO subscription_addresses (subscription_id, area_id, address_id) VALUES (?, ?, ?)
     ON CONFLICT (subscription_id) DO UPDATE SET area_id = EXCLUDED.area_id, address_id = EXCLUDED.address_id, updated_at = now()`,
    [a.subscriptionId, a.areaId, address.addressId],
  );
  return address;
}

export async function subscriptionAddress(q: Queryable, subscriptionId: string): Promise<DeliveryAddress | null> {
  const row: AddressRow | undefined = await q('subscription_addresses as sa')
    .join('delivery_addresses as a', 'a.id', 'sa.address_id')
    .where('sa.subscription_id', subscriptionId)
    .first('a.id', 'a.area_id', 'a.customer_id', 'a.line', 'a.notes', 'a.sequence');
  return row ? addressOf(row) : null;
}

/**
 * Sets the route order of an area's addresses in one statement. Returns the ids that are not
 * addresses of that area (nothing is changed when there are any).
 */
export async function setSequences(q: Queryable, areaId: string, order: { addressId: string; sequence: number }[]): Promise<string[]> {
  const ids = order.map((o) => o.addressId);
  const { rows } = await q.raw(`SELECT id FROM delivery_addresses WHERE area_id = ? AND id = ANY(?::text[])`, [areaId, ids]);
  const known = new Set(rows.map((r: { id: string }) => r.id));
  const unknown = ids.filter((id) => !known.has(id));
  if (unknown.length > 0) return unknown;
  await q.raw(
    `UPDATE delivery_addresses a SET sequence = o.sequence, updated_at = now()
       FROM unnest(?::text[], ?::int[]) AS o(id, sequence)
      WHERE a.id = o.id AND a.area_id = ?`,
    [ids, order.map((o) => o.sequence), areaId],
  );
  return [];
}
