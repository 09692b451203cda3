import { pruneIdempotencyKeysWorkflow } from '../../workflows/idempotency-keys';
import type { TestApi } from '../support/api';
import type { TestDatabase } from '../support/db';
import { startTestSystem, stopTestSystem } from '../support/system';
import { uniqueId, type TestWorker } from '../support/temporal';

/** The nightly prune of stored Idempotency-Keys: old ones go, in batches; recent ones still answer repeats. */

let tdb: TestDatabase;
let worker: TestWorker;
let api: TestApi;
beforeAll(async () => ({ tdb, worker, api } = await startTestSystem()));
afterAll(stopTestSystem);

const RETENTION_HOURS = 168;

test('keys past the retention are pruned in batches; a recent key still replays, a pruned one is a new request', async () => {
  const user = uniqueId('idem-user');
  const token = api.token(user);
  const body = { amount: 1_000, paymentMethod: 'pm_ok' };
  const [oldKey, recentKey] = [uniqueId('old-'), uniqueId('recent-')];
  expect((await api.request('POST', '/v1/wallet/topups', { token, idempotencyKey: oldKey, body })).status).toBe(202);
  expect((await api.request('POST', '/v1/wallet/topups', { token, idempotencyKey: recentKey, body })).status).toBe(202);
  // Time passes for one of them, and for enough others to need several batches.
  await tdb
    .db('idempotency_keys')
    .where({ user_id: user, key: oldKey })
    .update({ created_at: tdb.db.raw(`now() - interval '8 days'`) });
  await tdb.db.raw(
    `INSERT INTO idempotency_keys (user_id, key, method, path, request_hash, status_code, response, created_at)
     SELECT 'someone', 'k-' || g, 'post', '/v1/wallet/topups', 'h', 202, '{}'::jsonb, now() - interval '30 days' FROM generate_series(1, 12000) g`,
  );
  await tdb.db('idempotency_keys').insert({
    user_id: 'someone',
    key: 'just-inside',
    method: 'post',
    path: '/p',
    request_hash: 'h',
    created_at: tdb.db.raw(`now() - interval '167 hours'`),
  });

  const result = await worker.client.workflow.execute(pruneIdempotencyKeysWorkflow, {
    taskQueue: worker.taskQueue,
    workflowId: uniqueId('prune-idempotency-keys-'),
    args: [{ retentionHours: RETENTION_HOURS }],
  });
  expect(result).toEqual({ pruned: 12_001 });
  expect(await tdb.db('idempotency_keys').where({ user_id: 'someone' }).pluck('key')).toEqual(['just-inside']);

  const replay = await api.request('POST', '/v1/wallet/topups', { token, idempotencyKey: recentKey, body });
  expect(replay.headers.get('idempotent-replayed')).toBe('true');
  // The pruned key no longer pins its body: the same key with another body is a new request, not a 422.
  const reused = await api.request('POST', '/v1/wallet/topups', { token, idempotencyKey: oldKey, body: { ...body, amount: 2_000 } });
  expect(reused.status).toBe(202);
  expect(reused.headers.get('idempotent-replayed')).toBeNull();
});
