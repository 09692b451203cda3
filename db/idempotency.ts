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
  /** Unanswered, and claimed longer ago than the lease: its claimer is presumed gone. */
  claim_expired: boolean;
}

export interface IdempotencyClaim {
  userId: string;
  key: string;
  method: string;
  path: string;
  requestHash: string;
  /** Identifies this claim, so that only its holder answers or frees it. */
  token: string;
  leaseSeconds: number;
}

/**
 * Claims (user, key) for this request in one statement: a new key, or the same request's claim
 * that nobody answered within the lease (its API instance died mid-request). False when another
 * request holds a live claim or the key is answered already.
 */
export async function claimIdempotencyKey(q: Queryable, c: IdempotencyClaim): Promise<boolean> {
  const { rows } = await q.raw(
    `INSERT INTO idempotency_keys (user_id, key, method, path, request_hash, claim_token) VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT (user_id, key) DO UPDATE SET claimed_at = now(), claim_token = EXCLUDED.claim_token
       WHERE idempotency_keys.status_code IS NULL
         AND idempotency_keys.request_hash = EXCLUDED.request_hash
         AND idempotency_keys.claimed_at < now() - make_interval(secs => ?)
     RETURNING key`,
    [c.userId, c.key, c.method, c.path, c.requestHash, c.token, c.leaseSeconds],
  );
  return rows.length > 0;
}

/** Frees this claim (the request failed on our side: the client may retry with the key). */
export async function releaseIdempotencyKey(q: Queryable, userId: string, key: string, token: string): Promise<void> {
  await q('idempotency_keys').where({ user_id: userId, key, claim_token: token }).whereNull('status_code').delete();
}

/**
 * Stores the answer under this claim. A claim taken over after its lease ran out answers with
 * its own (equivalent) result; the first answer stored is the one every repeat gets.
 */
export async function storeIdempotentResponse(
  q: Queryable,
  userId: string,
  key: string,
  token: string,
  response: { status: number; body: unknown },
): Promise<void> {
  await q('idempotency_keys')
    .where({ user_id: userId, key, claim_token: token })
    .whereNull('status_code')
    .update({ status_code: response.status, response: JSON.stringify(response.body) });
}

export async function findIdempotencyKey(
  q: Queryable,
  userId: string,
  key: string,
  leaseSeconds: number,
): Promise<IdempotencyKeyRow | undefined> {
  const { rows } = await q.raw(
    `SELECT request_hash, status_code, response,
            (status_code IS NULL AND claimed_at < now() - make_interval(secs => ?)) AS claim_expired
       FROM idempotency_keys WHERE user_id = ? AND key = ?`,
    [leaseSeconds, userId, key],
  );
  return rows[0];
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
