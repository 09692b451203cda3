/**
 * The stored Idempotency-Keys (api/idempotency.ts claims and answers them; the nightly prune in
 * activities/idempotency-keys.ts removes old ones).
 */
import type { Queryable } from './knex';

export interface IdempotencyKeyRow {
  user_id: string;
  key: string;
  request_hash: string;
  status_code: number | null;
  response: unknown;
}

/** Claims (user, key) for this request; false when another request holds it already. */
export async function claimIdempotencyKey(
  q: Queryable,
  c: { userId: string; key: string; method: string; path: string; requestHash: string },
): Promise<boolean> {
  const { rows } = await q.raw(
    `INSERT INTO idempotency_keys (user_id, key, method, path, request_hash) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (user_id, key) DO NOTHING RETURNING key`,
    [c.userId, c.key, c.method, c.path, c.requestHash],
  );
  return rows.length > 0;
}

/** Frees a claimed key (the request failed on our side: the client may retry with it). */
export async function releaseIdempotencyKey(q: Queryable, userId: string, key: string): Promise<void> {
  await q('idempotency_keys').where({ user_id: userId, key }).delete();
}

export async function storeIdempotentResponse(
  q: Queryable,
  userId: string,
  key: string,
  response: { status: number; body: unknown },
): Promise<void> {
  await q('idempotency_keys')
    .where({ user_id: userId, key })
    .update({ status_code: response.status, response: JSON.stringify(response.body) });
}

export async function findIdempotencyKey(q: Queryable, userId: string, key: string): Promise<IdempotencyKeyRow | undefined> {
  return q<IdempotencyKeyRow>('idempotency_keys').where({ user_id: userId, key }).first('request_hash', 'status_code', 'response');
}

/** Deletes up to `limit` keys created more than `retentionHours` ago; returns how many went. */
export async function pruneIdempotencyKeys(q: Queryable, retentionHours: number, limit: number): Promise<number> {
  const { rowCount } = await q.raw(
    `DELETE FROM idempotency_keys WHERE ctid IN (
       SELECT ctid FROM idempotency_keys WHERE created_at < now() - make_interval(hours => ?) LIMIT ?)`,
    [retentionHours, limit],
  );
  return rowCount ?? 0;
}
