import type { Client } from '@temporalio/client';
import type { Db } from '../../../db/knex';

/** Row counts of every table, and a fingerprint of the fixture rows a bad request could update in place. */
export interface DbSnapshot {
  counts: Record<string, number>;
  fingerprints: Record<string, string>;
}

/**
 * Rows that may legitimately appear during the run: an Idempotency-Key stored with the 4xx it
 * answered (so a retry gets the same refusal) records a refusal, not an effect. Such keys are
 * left out of the count; a stored 2xx/3xx, or one never answered, still counts.
 */
const COUNTED: Record<string, string> = {
  'public.idempotency_keys': 'status_code IS NULL OR status_code < 400',
};

/** Fixture state that an accepted bad request would change without adding a row. */
const FINGERPRINTED: Record<string, string> = {
  products: `id, price, stock, active`,
  markets: `id, status, closes_at, outcome, void_reason`,
  subscriptions: `id, status, payment_method, cancelled_from, end_date`,
  orders: `id, status, refunded`,
};

export async function snapshotDb(db: Db): Promise<DbSnapshot> {
  const { rows } = await db.raw(
    `SELECT table_schema || '.' || table_name AS name FROM information_schema.tables
      WHERE table_schema IN ('public', 'fake_provider') AND table_type = 'BASE TABLE' AND table_name NOT LIKE 'knex\\_%'
      ORDER BY 1`,
  );
  const counts: Record<string, number> = {};
  for (const { name } of rows as Array<{ name: string }>) {
    const where = COUNTED[name] ? ` WHERE ${COUNTED[name]}` : '';
    counts[name] = Number((await db.raw(`SELECT count(*) AS n FROM ${name}${where}`)).rows[0].n);
  }
  const fingerprints: Record<string, string> = {};
  for (const [table, columns] of Object.entries(FINGERPRINTED)) {
    const res = await db.raw(
      `SELECT md5(coalesce(string_agg(t::text, ',' ORDER BY t::text), '')) AS h FROM (SELECT ${columns} FROM ${table}) t`,
    );
    fingerprints[table] = res.rows[0].h;
  }
  return { counts, fingerprints };
}

export interface DbChange {
  table: string;
  before: number | string;
  after: number | string;
}

export function dbChanges(before: DbSnapshot, after: DbSnapshot): DbChange[] {
  const changes: DbChange[] = [];
  for (const table of new Set([...Object.keys(before.counts), ...Object.keys(after.counts)])) {
    if (before.counts[table] !== after.counts[table])
      changes.push({ table, before: before.counts[table] ?? 0, after: after.counts[table] ?? 0 });
  }
  for (const table of Object.keys(before.fingerprints)) {
    if (before.fingerprints[table] !== after.fingerprints[table])
      changes.push({ table: `${table} (rows updated)`, before: 'fingerprint', after: 'changed' });
  }
  return changes;
}

/** Waits until the fixtures' own background work (top-up, order, engine) has stopped writing. */
export async function quietSnapshot(db: Db, timeoutMs = 20_000): Promise<DbSnapshot> {
  const deadline = Date.now() + timeoutMs;
  let last = await snapshotDb(db);
  let stable = 0;
  while (stable < 3) {
    if (Date.now() > deadline) throw new Error(`the database did not settle within ${timeoutMs} ms: ${JSON.stringify(last.counts)}`);
    await new Promise((r) => setTimeout(r, 400));
    const next = await snapshotDb(db);
    stable = dbChanges(last, next).length === 0 ? stable + 1 : 0;
    last = next;
  }
  return last;
}

/** Workflow id → type of every workflow still running on the task queue (or started on it since `since`). */
export async function workflowsOn(
  client: Client,
  taskQueue: string,
  filter: { running: true } | { since: Date },
): Promise<Map<string, string>> {
  const condition = 'running' in filter ? `ExecutionStatus = "Running"` : `StartTime > "${filter.since.toISOString()}"`;
  const found = new Map<string, string>();
  for await (const wf of client.workflow.list({ query: `TaskQueue = "${taskQueue}" AND ${condition}` })) found.set(wf.workflowId, wf.type);
  return found;
}
