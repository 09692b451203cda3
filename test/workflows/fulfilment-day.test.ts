/**
 * A whole delivery day on the real dev server: nightly generation → the route sheet → the phone's
 * offline sync (half delivered, some failed for every reason, some never reported, everything sent
 * twice) → the area's end-of-day Schedule → credits and alerts exactly as the area's policy says.
 */
import { randomUUID } from 'node:crypto';
import { ensureAreaCloseSchedule } from '../../api/routes/delivery';
import { deliveryCreditKey, deliveryDayCloseScheduleId, type CloseDeliveryDayResult } from '../../contracts/fulfilment';
import { assignStaff, upsertArea } from '../../db/fulfilment-areas';
import { listDaySummaries, listDeliveryAlerts } from '../../db/fulfilment-day';
import { recordOutcomes, type OutcomeInput } from '../../db/fulfilment-outcomes';
import { loadRouteSheet } from '../../db/fulfilment-route';
import { getBalance } from '../../db/ledger-reports';
import { insertSubscriptionRow } from '../../db/subscriptions';
import { FAILURE_REASONS, dayBounds, isCreditable, type FailureReason } from '../../domain/fulfilment';
import { accounts } from '../../domain/ledger';
import { DEFAULT_TIMEZONE, localDateOf } from '../../domain/schedule';
import { closeDeliveryDayWorkflow } from '../../workflows/fulfilment';
import { generateDeliveriesWorkflow } from '../../workflows/subscription-generation';
import { createTestDatabase, expectLedgerInvariants, type TestDatabase } from '../support/db';
import { eventually, startTestWorker, uniqueId, type TestWorker } from '../support/temporal';

let tdb: TestDatabase;
let worker: TestWorker;

const AREA = `wf${randomUUID().replace(/-/g, '').slice(0, 12)}`;
const POLICY = { creditNotHome: false, creditNoAccess: true };
const UNIT_PRICE = 2_500;
// The day's cutoff is midnight, so "the day whose cutoff passed last" is today whenever the test runs.
const TODAY = localDateOf(Date.now(), DEFAULT_TIMEZONE);

beforeAll(async () => {
  tdb = await createTestDatabase();
  worker = await startTestWorker({ db: tdb.db });
  await upsertArea(tdb.db, { areaId: AREA, name: 'Test area', timezone: DEFAULT_TIMEZONE, cutoff: '00:00', ...POLICY }, 'admin:test');
  await assignStaff(tdb.db, AREA, 'ravi', 'admin:test');
});
afterAll(async () => {
  await worker?.client.schedule
    .getHandle(deliveryDayCloseScheduleId(AREA))
    .delete()
    .catch(() => undefined);
  await worker?.shutdown();
  await tdb?.drop();
});

/** 12 delivered, two failed for every reason, two never reported: 24 subscriptions, quantities 1-3. */
const PLAN: Array<{ outcome: 'delivered' } | { outcome: 'failed'; reason: FailureReason } | { outcome: 'none' }> = [
  ...Array.from({ length: 12 }, () => ({ outcome: 'delivered' as const })),
  ...FAILURE_REASONS.flatMap((reason) => [
    { outcome: 'failed' as const, reason },
    { outcome: 'failed' as const, reason },
  ]),
  { outcome: 'none' },
  { outcome: 'none' },
];
const quantityOf = (i: number) => 1 + (i % 3);
const customerOf = (i: number) => `${AREA}-c${i}`;

test('a day: generation, route sheet, an offline sync sent twice, the end-of-day Schedule — credits and alerts as the policy says', async () => {
  const subs: string[] = [];
  for (let i = 0; i < PLAN.length; i++) {
    const id = `sub_${AREA}${String(i).padStart(4, '0')}`;
    subs.push(id);
    await insertSubscriptionRow(tdb.db, {
      id,
      customerId: customerOf(i),
      productId: 'milk-500ml',
      quantity: quantityOf(i),
      pricePerPeriod: UNIT_PRICE * quantityOf(i) * 30,
      unitPrice: UNIT_PRICE,
      recurrence: { kind: 'daily' },
      startDate: TODAY,
      endDate: null,
      timezone: DEFAULT_TIMEZONE,
      region: AREA,
      paymentMethod: 'pm_ok',
    });
  }

  const generated = await worker.client.workflow.execute(generateDeliveriesWorkflow, {
    taskQueue: worker.taskQueue,
    workflowId: uniqueId('generate-'),
    args: [{ timezone: DEFAULT_TIMEZONE, date: TODAY }],
  });
  expect(generated.deliveries).toBe(PLAN.length);

  const route = await loadRouteSheet(tdb.db, AREA, TODAY);
  expect(route.map((r) => r.subscriptionId)).toEqual(subs);
  expect(route.every((r) => r.status === 'scheduled')).toBe(true);

  // The phone recorded outcomes through the morning and syncs them in two batches — and, never
  // having seen the answers, sends the whole lot again.
  const { startMs } = dayBounds(TODAY, DEFAULT_TIMEZONE);
  const atMs = Math.max(startMs, Date.now() - 60_000);
  const outcomes: OutcomeInput[] = PLAN.flatMap((p, i) =>
    p.outcome === 'none'
      ? []
      : [{ deliveryId: route[i].deliveryId, outcome: p.outcome, reason: p.outcome === 'failed' ? p.reason : null, note: null, atMs }],
  );
  const sync = (batch: OutcomeInput[]) => recordOutcomes(tdb.db, { userId: 'ravi', source: 'staff' }, batch, Date.now());
  const first = [...(await sync(outcomes.slice(0, 11))), ...(await sync(outcomes.slice(11)))];
  expect(first.map((a) => a.result)).toEqual(outcomes.map(() => 'applied'));
  const again = await sync(outcomes);
  expect(again.map((a) => a.result)).toEqual(outcomes.map(() => 'duplicate'));

  // The end of the day, as the area's Schedule runs it.
  const scheduleId = await ensureAreaCloseSchedule(
    worker.client,
    { areaId: AREA, timezone: DEFAULT_TIMEZONE, cutoff: '00:00' },
    worker.taskQueue,
  );
  const schedule = worker.client.schedule.getHandle(scheduleId);
  const described = await schedule.describe();
  expect(described.spec.timezone).toBe(DEFAULT_TIMEZONE);
  await schedule.trigger();
  const runId = await eventually(async () => (await schedule.describe()).info.recentActions[0]?.action.workflow.workflowId);
  const closed: CloseDeliveryDayResult = await worker.client.workflow.getHandle(runId).result();

  const credited = PLAN.map((p) => p.outcome === 'failed' && isCreditable(p.reason, POLICY));
  const creditedAmount = PLAN.reduce((sum, _p, i) => sum + (credited[i] ? quantityOf(i) * UNIT_PRICE : 0), 0);
  expect(closed.markedUnconfirmed).toBe(2);
  expect(closed.alertOpen).toBe(true);
  expect(closed.summary).toMatchObject({
    areaId: AREA,
    date: TODAY,
    total: 24,
    delivered: 12,
    failed: 10,
    failedByReason: { not_home: 2, refused: 2, no_access: 2, out_of_stock: 2, other: 2 },
    unconfirmed: 2,
    scheduled: 0,
    credits: 6, // out_of_stock, other and (in this area) no_access; not not_home, never refused
    creditedAmount,
  });
  expect(await listDaySummaries(tdb.db, TODAY, [AREA])).toEqual([closed.summary]);

  // Each customer's wallet: credited once for a failure the policy credits, never otherwise.
  for (let i = 0; i < PLAN.length; i++) {
    const balance = (await getBalance(tdb.db, accounts.userWallet(customerOf(i)))).balance;
    expect([i, balance]).toEqual([i, credited[i] ? quantityOf(i) * UNIT_PRICE : 0]);
  }
  const keys = (
    await tdb.db('journal').where({ ref_type: 'delivery', reason: 'missed_delivery_credit' }).orderBy('ref_id').pluck('idempotency_key')
  ).sort();
  expect(keys).toEqual(
    route
      .filter((_r, i) => credited[i])
      .map((r) => deliveryCreditKey(r.deliveryId, 1))
      .sort(),
  );

  // Ops see the two unconfirmed deliveries; closing the day again by hand changes nothing.
  const alerts = await listDeliveryAlerts(tdb.db, { open: true, limit: 20 });
  expect(alerts.filter((a) => a.areaId === AREA)).toEqual([
    expect.objectContaining({ kind: 'deliveries_unconfirmed', date: TODAY, count: 2 }),
  ]);
  const rerun = await worker.client.workflow.execute(closeDeliveryDayWorkflow, {
    taskQueue: worker.taskQueue,
    workflowId: uniqueId('delivery-close-'),
    args: [{ areaId: AREA, date: TODAY }],
  });
  expect(rerun.markedUnconfirmed).toBe(0);
  expect({ ...rerun.summary, updatedAt: null }).toEqual({ ...closed.summary, updatedAt: null });

  await expectLedgerInvariants(tdb.db);
});

test('a close for an area that does not exist fails (its Schedule retries tomorrow) rather than park', async () => {
  const handle = await worker.client.workflow.start(closeDeliveryDayWorkflow, {
    taskQueue: worker.taskQueue,
    workflowId: uniqueId('delivery-close-'),
    args: [{ areaId: 'no-such-area' }],
  });
  await expect(handle.result()).rejects.toThrow();
  const { status } = await handle.describe();
  expect(status.name).toBe('FAILED');
});
