/**
 * delivery_areas and delivery_area_staff: the areas (one per holiday region) with their time zone,
 * cutoff and credit policy, and which delivery staff cover which area.
 */
import type { CreditPolicy } from '../domain/fulfilment';
import type { Queryable } from './knex';

export interface DeliveryArea {
  areaId: string;
  name: string;
  timezone: string;
  /** Local HH:mm after which the day's unreported deliveries become unconfirmed. */
  cutoff: string;
  creditPolicy: CreditPolicy;
  createdAt: string;
  updatedAt: string;
}

export interface AreaSettings {
  areaId: string;
  name: string;
  timezone: string;
  cutoff: string;
  creditNotHome: boolean;
  creditNoAccess: boolean;
}

interface AreaRow {
  id: string;
  name: string;
  timezone: string;
  cutoff: string;
  credit_not_home: boolean;
  credit_no_access: boolean;
  created_at: Date;
  updated_at: Date;
  inserted?: boolean;
}

const iso = (d: Date) => new Date(d).toISOString();

function areaOf(r: AreaRow): DeliveryArea {
  return {
    areaId: r.id,
    name: r.name,
    timezone: r.timezone,
    cutoff: r.cutoff,
    creditPolicy: { creditNotHome: r.credit_not_home, creditNoAccess: r.credit_no_access },
    createdAt: iso(r.created_at),
    updatedAt: iso(r.updated_at),
  };
}

/** Creates the area or replaces its settings; `created` tells which. */
export async function upsertArea(q: Queryable, s: AreaSettings, by: string): Promise<{ area: DeliveryArea; created: boolean }> {
  const { rows } = await q.raw(
    `INSERT INTO delivery_areas (id, name, timezone, cutoff, credit_not_home, credit_no_access, created_by)
     VALUES (?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, timezone = EXCLUDED.timezone, cutoff = EXCLUDED.cutoff,
       credit_not_home = EXCLUDED.credit_not_home, credit_no_access = EXCLUDED.credit_no_access, updated_at = now()
     RETURNING *, (xmax = 0) AS inserted`,
    [s.areaId, s.name, s.timezone, s.cutoff, s.creditNotHome, s.creditNoAccess, by],
  );
  return { area: areaOf(rows[0]), created: rows[0].inserted };
}

export async function findArea(q: Queryable, areaId: string): Promise<DeliveryArea | null> {
  const row: AreaRow | undefined = await q('delivery_areas').where({ id: areaId }).first();
  return row ? areaOf(row) : null;
}

/** Every area, or (with `assignedTo`) those the user covers; by id. */
export async function listAreas(q: Queryable, opts: { assignedTo?: string } = {}): Promise<DeliveryArea[]> {
  const rows: AreaRow[] = await q('delivery_areas as a')
    .modify((b) => {
      if (opts.assignedTo !== undefined) b.join('delivery_area_staff as st', 'st.area_id', 'a.id').where('st.user_id', opts.assignedTo);
    })
    .orderBy('a.id')
    .select('a.*');
  return rows.map(areaOf);
}

/** Assigns a delivery person to an area; false when they already were. */
export async function assignStaff(q: Queryable, areaId: string, userId: string, by: string): Promise<boolean> {
  const { rows } = await q.raw(
    `INSERT INTO delivery_area_staff (area_id, user_id, assigned_by) VALUES (?, ?, ?) ON CONFLICT DO NOTHING RETURNING user_id`,
    [areaId, userId, by],
  );
  return rows.length > 0;
}

/** Takes a delivery person off an area; false when they were not on it. */
export async function unassignStaff(q: Queryable, areaId: string, userId: string): Promise<boolean> {
  return (await q('delivery_area_staff').where({ area_id: areaId, user_id: userId }).delete()) > 0;
}

export async function isAssigned(q: Queryable, areaId: string, userId: string): Promise<boolean> {
  return (await q('delivery_area_staff').where({ area_id: areaId, user_id: userId }).first('user_id')) !== undefined;
}

export async function areaStaff(q: Queryable, areaId: string): Promise<{ userId: string; assignedBy: string; assignedAt: string }[]> {
  const rows = await q('delivery_area_staff').where({ area_id: areaId }).orderBy('user_id').select('user_id', 'assigned_by', 'assigned_at');
  return rows.map((r: { user_id: string; assigned_by: string; assigned_at: Date }) => ({
    userId: r.user_id,
    assignedBy: r.assigned_by,
    assignedAt: iso(r.assigned_at),
  }));
}
