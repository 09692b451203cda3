import { createTestDatabase, type TestDatabase } from '../support/db';
import { startTestWorker, uniqueId, type TestWorker } from '../support/temporal';
import { seedSubscriptions } from '../../bench/subscription-seed';
import type { GenerationProgress } from '../../contracts/delivery-generation';
import { generateDeliveriesWorkflow } from '../../workflows/subscription-generation';
import { wouldDeliver } from '../../domain/schedule';

let tdb: TestDatabase;
let worker: TestWorker;
const DATE = '2026-09-15';
const N = 3_000;

beforeAll(async () => {
  tdb = await createTestDatabase();
  worker = await startTestWorker({ db: tdb.db });
  await seedSubscriptions(tdb.db, N, { date: DATE });
});
afterAll(async () => {
  await worker?.shutdown();
  await tdb?.drop();
});

async function generate(): Promise<GenerationProgress> {
  return worker.client.workflow.execute(generateDeliveriesWorkflow, {
    taskQueue: worker.taskQueue,
    workflowId: uniqueId('generate-deliveries-'),
    args: [{ timezone: 'Asia/Kolkata', date: DATE, batchSize: 700 }],
  });
}

test('nightly generation over 3,000 subscriptions, run twice: the same deliveries, nothing new the second time', async () => {
  const first = await generate();
  expect(first).toMatchObject({ date: DATE, subscriptions: N, batches: 5, done: true });
  expect(first.inserted).toBe(first.deliveries);
  const snapshot = async () =>
    (
      await tdb.db.raw(`SELECT subscription_id, quantity, reason FROM deliveries WHERE delivery_date = ?::date ORDER BY subscription_id`, [
        DATE,
      ])
    ).rows;
  const rows1 = await snapshot();
  expect(rows1).toHaveLength(first.deliveries);
  expect(first.deliveries).toBeGreaterThan(N * 0.4);
  expect(first.deliveries).toBeLessThan(N);

  const second = await generate();
  expect(second).toMatchObject({ subscriptions: N, deliveries: first.deliveries, inserted: 0 });
  expect(await snapshot()).toEqual(rows1);

  // Spot-check against wouldDeliver on the stored data: every seeded kind of exception is honoured.
  const reasons = new Set(rows1.map((r: { reason: string }) => r.reason));
  expect(reasons).toEqual(new Set(['rule', 'quantity_changed', 'extra', 'extra_on_skipped_day']));
  const sample = (await tdb.db.raw(`SELECT id, start_date::text, recurrence, quantity FROM subscriptions ORDER BY id LIMIT 50`)).rows;
  for (const s of sample) {
    const ex = (
      await tdb.db.raw(
        `SELECT id, type, from_date::text AS "from", to_date::text AS "to", quantity, reason, created_by AS "createdBy", created_at::text AS "createdAt", ended_at::text AS "endedAt" FROM subscription_exceptions WHERE subscription_id = ?`,
        [s.id],
      )
    ).rows.map((e: any) => (e.quantity == null ? { ...e, quantity: undefined } : e));
    const d = wouldDeliver(
      {
        id: s.id,
        startDate: s.start_date,
        endDate: null,
        recurrence: s.recurrence,
        quantity: s.quantity,
        timezone: 'Asia/Kolkata',
        status: 'active',
      },
      ex,
      DATE,
    );
    const row = rows1.find((r: { subscription_id: string }) => r.subscription_id === s.id);
    expect(row ? row.quantity : 0).toBe(d.deliver ? d.quantity : 0);
  }
});
