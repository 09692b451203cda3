import { cancelUpdate } from '../../contracts/subscription';
import type { SubscriptionProjection } from '../../contracts/subscription';
import { writeSubscriptionProjection } from '../../db/subscriptions';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { eventually, startTestWorker, type TestWorker } from '../support/temporal';
import { PRICE, fundWallet, insertSubscription, startSubscription, testSettings } from './subscription-helpers';

/**
 * The subscription row is written by the loop and by each change, and two such writes can be in
 * flight at once; a write retried after a worker died can land after a newer one. The cluster soak
 * once found a cancelled subscription whose row said active: the loop's older write landed last.
 */
let tdb: TestDatabase;
let worker: TestWorker;
/** Subscription ids whose row writes saying "active" wait until the row says cancelled. */
const holdActiveWrites = new Set<string>();

beforeAll(async () => {
  tdb = await createTestDatabase();
  worker = await startTestWorker({
    db: tdb.db,
    wrapActivities: (real) => ({
      async syncSubscription(subscriptionId: string, projection: SubscriptionProjection) {
        if (holdActiveWrites.has(subscriptionId) && projection.status === 'active') {
          await eventually(
            async () => (await tdb.db('subscriptions').where({ id: subscriptionId }).first())?.status === 'cancelled',
            8_000,
          );
        }
        return real.syncSubscription(subscriptionId, projection);
      },
    }),
  });
});
afterAll(async () => {
  await worker?.shutdown();
  await tdb?.drop();
});

const row = (id: string) => tdb.db('subscriptions').where({ id }).first();

test('a cancel whose row write overtakes the loop’s older write leaves the row cancelled', async () => {
  const sub = await insertSubscription(tdb.db);
  await fundWallet(tdb.db, sub.customerId, PRICE * 2);
  holdActiveWrites.add(sub.id);
  // The run's first act is writing the row (active); that write is held while the cancel writes its own.
  const h = await startSubscription(worker, sub, testSettings({ dayMs: 2_000 }));
  const { cancelledFrom } = (await h.executeUpdate(cancelUpdate, { args: [{ reason: 'moving out' }] })) as { cancelledFrom: string };
  const view = await h.result();
  expect(view).toMatchObject({ flowStatus: 'cancelled', cancelledFrom });
  expect(await row(sub.id)).toMatchObject({ status: 'cancelled', billing_state: 'ended', next_renewal_date: null });
  // The held write did land afterwards (the run waited for it before it ended), and changed nothing.
  const history = await h.fetchHistory();
  const syncs = history.events!.filter((ev) => ev.activityTaskScheduledEventAttributes?.activityType?.name === 'syncSubscription');
  expect(syncs.length).toBeGreaterThanOrEqual(2);
});

describe('writeSubscriptionProjection', () => {
  const projection = (status: 'active' | 'cancelled', order?: SubscriptionProjection['order']): SubscriptionProjection => ({
    status,
    cancelledFrom: status === 'cancelled' ? '2026-08-05' : null,
    paymentMethod: 'pm_ok',
    billingState: status === 'cancelled' ? 'ended' : 'paid',
    billingReason: null,
    nextRenewalDate: null,
    paidThrough: null,
    pausedDaysCredited: 0,
    ...(order ? { order } : {}),
  });

  test('keeps the newest write, by workflow time and then by its place in the run', async () => {
    const { id } = await insertSubscription(tdb.db);
    await writeSubscriptionProjection(tdb.db, id, projection('cancelled', { atMs: 2_000, seq: 3 }));
    await writeSubscriptionProjection(tdb.db, id, projection('active', { atMs: 2_000, seq: 2 }));
    await writeSubscriptionProjection(tdb.db, id, projection('active', { atMs: 1_999, seq: 9 }));
    expect(await row(id)).toMatchObject({ status: 'cancelled', projection_at_ms: 2000, projection_seq: 3 });
    // A later run (or a reset) starts its count again, later in time: it is newer.
    await writeSubscriptionProjection(tdb.db, id, projection('active', { atMs: 2_001, seq: 1 }));
    expect(await row(id)).toMatchObject({ status: 'active', projection_at_ms: 2001, projection_seq: 1 });
  });

  test('a write without an order (scheduled before writes were ordered) lands only on a row never written in order', async () => {
    const { id } = await insertSubscription(tdb.db);
    await writeSubscriptionProjection(tdb.db, id, projection('cancelled'));
    expect(await row(id)).toMatchObject({ status: 'cancelled', projection_at_ms: null });
    await writeSubscriptionProjection(tdb.db, id, projection('active', { atMs: 5, seq: 1 }));
    await writeSubscriptionProjection(tdb.db, id, projection('cancelled'));
    expect(await row(id)).toMatchObject({ status: 'active', projection_at_ms: 5 });
  });
});
