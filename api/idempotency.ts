import { createHash } from 'node:crypto';
import type { Db } from '../db/knex';
import { ApiError, errorBody } from './errors';

export interface StoredResponse {
  status: number;
  body: unknown;
}

const KEY_FORMAT = /^[A-Za-z0-9_.:-]{8,128}$/;
const WAIT_FOR_FIRST_MS = 10_000;

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.keys(value as object)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

export function requestHash(method: string, path: string, body: unknown): string {
  return createHash('sha256')
    .update(`${method} ${path}\n${canonicalJson(body)}`)
    .digest('hex');
}

export function parseIdempotencyKey(header: string | undefined): string {
  if (!header) throw new ApiError(400, 'idempotency_key_required', 'This request needs an Idempotency-Key header');
  if (!KEY_FORMAT.test(header)) {
    throw new ApiError(400, 'invalid_idempotency_key', 'Idempotency-Key must be 8-128 characters of A-Z a-z 0-9 _ . : -');
  }
  return header;
}

/**
 * Runs `handle` once per (user, key). The first request claims the key with an INSERT, so two
 * concurrent requests produce one effect; later ones get the stored response (or wait for it).
 * The same key with a different request is a 422. A 5xx frees the key so the client may retry.
 */
export async function withIdempotency(
  db: Db,
  claim: { userId: string; key: string; method: string; path: string; body: unknown },
  handle: () => Promise<StoredResponse>,
): Promise<StoredResponse & { replayed: boolean }> {
  const hash = requestHash(claim.method, claim.path, claim.body);
  const claimed = await db.raw(
    `INSERT INTO idempotency_keys (user_id, key, method, path, request_hash) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (user_id, key) DO NOTHING RETURNING key`,
    [claim.userId, claim.key, claim.method, claim.path, hash],
  );
  if (claimed.rows.length === 0) return { ...(await replay(db, claim.userId, claim.key, hash)), replayed: true };

  let response: StoredResponse;
  try {
    response = await handle();
  } catch (err) {
    if (err instanceof ApiError && err.status < 500) {
      response = { status: err.status, body: errorBody(err.code, err.message, err.details) };
    } else {
      await db('idempotency_keys').where({ user_id: claim.userId, key: claim.key }).delete();
      throw err;
    }
  }
  await db('idempotency_keys')
    .where({ user_id: claim.userId, key: claim.key })
    .update({ status_code: response.status, response: JSON.stringify(response.body) });
  return { ...response, replayed: false };
}

async function replay(db: Db, userId: string, key: string, hash: string): Promise<StoredResponse> {
  const deadline = Date.now() + WAIT_FOR_FIRST_MS;
  for (;;) {
    const row = await db('idempotency_keys').where({ user_id: userId, key }).first();
    if (!row) throw new ApiError(409, 'request_in_progress', 'The first request with this key failed; retry it');
    if (row.request_hash !== hash) {
      throw new ApiError(422, 'idempotency_key_reused', 'This Idempotency-Key was used with a different request');
    }
    if (row.status_code !== null) return { status: row.status_code, body: row.response };
    if (Date.now() > deadline) throw new ApiError(409, 'request_in_progress', 'A request with this key is still being processed');
    await new Promise((r) => setTimeout(r, 50));
  }
}
