import { createHash, randomUUID } from 'node:crypto';
import { claimIdempotencyKey, findIdempotencyKey, releaseIdempotencyKey, storeIdempotentResponse } from '../db/idempotency';
import type { Db } from '../db/knex';
import { readRejection } from '../domain/rejection';
import { ApiError, errorBody, REJECTION_STATUS } from './errors';

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

/** `prefix` + hex digits: of a hash of (user, key) when there is a key, random otherwise. */
export function requestScopedId(userId: string, idempotencyKey: string | undefined, prefix: string, hexLength: number): string {
  const hex =
    idempotencyKey === undefined
      ? randomUUID().replace(/-/g, '')
      : createHash('sha256').update(`${userId}\u0000${idempotencyKey}`).digest('hex');
  return `${prefix}${hex.slice(0, hexLength)}`;
}

export function parseIdempotencyKey(header: string | undefined): string {
  if (!header) throw new ApiError(400, 'idempotency_key_required', 'This request needs an Idempotency-Key header');
  if (!KEY_FORMAT.test(header)) {
    throw new ApiError(400, 'invalid_idempotency_key', 'Idempotency-Key must be 8-128 characters of A-Z a-z 0-9 _ . : -');
  }
  return header;
}

export interface IdempotentRequest {
  userId: string;
  key: string;
  method: string;
  path: string;
  body: unknown;
  /** How long a claim may stay unanswered before a retry presumes its instance gone and takes it over. */
  leaseSeconds: number;
}

/**
 * Runs `handle` once per (user, key). The first request claims the key with an INSERT, so two
 * concurrent requests produce one effect; later ones get the stored response (or wait for it).
 * The same key with a different request is a 422. A 5xx frees the key so the client may retry.
 * A claim left unanswered past its lease (the instance holding it died) is taken over by the
 * next request with the same key and body, which runs `handle` again: the handlers key their
 * effects (workflow ids, journal keys) on the request, so the second run finds the first's work.
 */
export async function withIdempotency(
  db: Db,
  request: IdempotentRequest,
  handle: () => Promise<StoredResponse>,
): Promise<StoredResponse & { replayed: boolean }> {
  const claim = { ...request, requestHash: requestHash(request.method, request.path, request.body), token: randomUUID() };
  const deadline = Date.now() + WAIT_FOR_FIRST_MS;
  while (!(await claimIdempotencyKey(db, claim))) {
    const row = await findIdempotencyKey(db, claim.userId, claim.key, claim.leaseSeconds);
    // Freed between our claim and this read: claim it again.
    if (!row) continue;
    if (row.request_hash !== claim.requestHash) {
      throw new ApiError(422, 'idempotency_key_reused', 'This Idempotency-Key was used with a different request');
    }
    if (row.status_code !== null) return { status: row.status_code, body: row.response, replayed: true };
    if (row.claim_expired) continue;
    if (Date.now() > deadline) throw new ApiError(409, 'request_in_progress', 'A request with this key is still being processed');
    await new Promise((r) => setTimeout(r, 50));
  }

  let response: StoredResponse;
  try {
    response = await handle();
  } catch (err) {
    const answer = clientErrorOf(err);
    if (!answer) {
      await releaseIdempotencyKey(db, claim.userId, claim.key, claim.token);
      throw err;
    }
    response = answer;
  }
  await storeIdempotentResponse(db, claim.userId, claim.key, claim.token, response);
  return { ...response, replayed: false };
}

/**
 * A 4xx is the answer to this request, kept for its repeats like a success: an ApiError, or a
 * business rejection from a workflow or an activity (answered with the status of its kind, as
 * the error handler does). Anything else is ours to fix, and frees the key.
 */
function clientErrorOf(err: unknown): StoredResponse | null {
  if (err instanceof ApiError) return err.status < 500 ? { status: err.status, body: errorBody(err.code, err.message, err.details) } : null;
  const rejected = readRejection(err);
  return rejected ? { status: REJECTION_STATUS[rejected.kind], body: errorBody(rejected.code, rejected.message, rejected.details) } : null;
}
