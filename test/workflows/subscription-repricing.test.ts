import { defaultPayloadConverter } from '@temporalio/common';
import { addDays, localDateOf } from '../../domain/schedule';
import { accounts } from '../../domain/ledger/accounts';
import { getBalance } from '../../db/ledger-reports';
import {
  changeQuantityUpdate,
  deliverExtraSignal,
  deliverExtraUpdate,
  skipUpdate,
  type SubscriptionWorkflowInput,
} from '../../contracts/subscription';
import type { TestApi } from '../support/api';
import { seedSubscribableProduct } from '../support/catalog';
import { expectLedgerInvariants, type TestDatabase } from '../support/db';
import { startTestSystem, stopTestSystem } from '../support/system';
import { eventually, uniqueId, type TestWorker } from '../support/temporal';
import {
  PRICE,
  UNIT_PRICE,
  chargedAmounts,
  fundWallet,
  insertSubscription,
  renewals,
  startSubscription,
  state,
  stop,
  testSettings,
} from './subscription-helpers';

// Renewals are priced from the catalog (domain/subscription/pricing.ts): a change is billed with
// the next renewal, never the period already paid. Two-second days: period 1 (Aug 2–4) is charged
// at once, period 2 (Aug 5–7) at sim Aug 4 00:00 (~6 s), period 3 (Aug 8–10) at Aug 7 00:00 (~12 s).

let tdb: TestDatabase;
let worker: TestWorker;
let api: TestApi;

beforeAll(async () => ({ tdb, worker, api } = await startTestSystem()));
afterAll(stopTestSystem);

const settings = () => testSettings({ dayMs: 2_000 });
const wallet = async (userId: string) => (await getBalance(tdb.db, accounts.userWallet(userId))).balance;
const key = (subId: string, period: number) => `subscription-${subId}:renewal-${period}:attempt-1`;
const paidPeriods = async (subId: string) =>
  (await renewals(tdb.db, subId)).filter((r) => r.status === 'paid').map((r) => [r.period, r.amount]);

test.concurrent('a quantity change raises the next renewal, not the period already paid, and is billed once', async () => {
  const sub = await insertSubscription(tdb.db);
  const expected = [PRICE, 27_000, PRICE];
  await fundWallet(tdb.db, sub.customerId, expected[0] + expected[1] + expected[2]);
  const h = await startSubscription(worker, sub, settings());
  try {
    await eventually(async () => (await renewals(tdb.db, sub.id))[0]?.status === 'paid');
    // Quantity 3 from Aug 4 to Aug 6: period 1 now delivers 1+1+3 = 5 units, 2 more than it was
    // charged for; period 2 delivers 3+3+1 = 7. Renewal 2 = (7 + 2) × UNIT_PRICE.
    await h.executeUpdate(changeQuantityUpdate, { args: [{ from: '2026-08-04', to: '2026-08-06', quantity: 3 }] });
    expect((await renewals(tdb.db, sub.id))[0]).toMatchObject({ period: 1, amount: PRICE, status: 'paid' });
    expect((await state(h)).periodAmount).toBe(PRICE);

    // Renewal 3 prices from what period 2 was charged for (7 units, all delivered): no adjustment again.
    await eventually(async () => (await paidPeriods(sub.id)).length >= 3, 30_000);
    expect((await paidPeriods(sub.id)).slice(0, 3)).toEqual([
      [1, expected[0]],
      [2, expected[1]],
      [3, expected[2]],
    ]);
    expect(await chargedAmounts(tdb.db, sub.id)).toMatchObject({
      [key(sub.id, 1)]: expected[0],
      [key(sub.id, 2)]: expected[1],
      [key(sub.id, 3)]: expected[2],
    });
    expect(await wallet(sub.customerId)).toBe(0);
  } finally {
    await stop(h);
  }
  await expectLedgerInvariants(tdb.db);
});

test.concurrent('an extra in the paid period is billed with the next renewal; one in the next period is part of it', async () => {
  const sub = await insertSubscription(tdb.db);
  // Extra 2 on Aug 4 (period 1, already charged) and 1 on Aug 6 (period 2, not charged yet):
  // renewal 2 = (3 + 1 + 2) × UNIT_PRICE; renewal 3 has nothing left to adjust.
  const expected = [PRICE, 6 * UNIT_PRICE, PRICE];
  await fundWallet(tdb.db, sub.customerId, expected[0] + expected[1] + expected[2]);
  const h = await startSubscription(worker, sub, settings());
  try {
    await eventually(async () => (await renewals(tdb.db, sub.id))[0]?.status === 'paid');
    await h.executeUpdate(deliverExtraUpdate, { args: [{ date: '2026-08-04', quantity: 2 }] });
    await h.signal(deliverExtraSignal, { date: '2026-08-06', quantity: 1, reason: 'special_request' });
    await eventually(async () => (await state(h)).exceptions.length === 2);
    expect((await renewals(tdb.db, sub.id))[0].amount).toBe(PRICE);

    await eventually(async () => (await paidPeriods(sub.id)).length >= 3, 30_000);
    expect((await paidPeriods(sub.id)).slice(0, 3)).toEqual([
      [1, expected[0]],
      [2, expected[1]],
      [3, expected[2]],
    ]);
    expect(await chargedAmounts(tdb.db, sub.id)).toMatchObject({ [key(sub.id, 2)]: expected[1], [key(sub.id, 3)]: expected[2] });
    expect(await wallet(sub.customerId)).toBe(0);
  } finally {
    await stop(h);
  }
  await expectLedgerInvariants(tdb.db);
});

test.concurrent('a skipped period costs nothing: no renewal row, no charge, and the next one is priced from it', async () => {
  const sub = await insertSubscription(tdb.db);
  await fundWallet(tdb.db, sub.customerId, 2 * PRICE);
  const h = await startSubscription(worker, sub, settings());
  try {
    await eventually(async () => (await renewals(tdb.db, sub.id))[0]?.status === 'paid');
    // Skipping Aug 4–7 (not a vacation: no credit days): period 1 delivers 2 of its 3 charged units,
    // period 2 delivers none. Renewal 2 = max(0, 0 − 1) = 0: nothing is charged and the credit ends there.
    await h.executeUpdate(skipUpdate, { args: [{ from: '2026-08-04', to: '2026-08-07' }] });
    const skipped = await eventually(async () => {
      const s = await state(h);
      return s.period === 2 && s.periodPaid ? s : null;
    }, 20_000);
    expect(skipped).toMatchObject({ periodAmount: 0, billing: 'paid', dunning: null });

    // Period 3 delivers 3 units, and period 2 delivered exactly what it was charged for (none).
    await eventually(async () => (await paidPeriods(sub.id)).length >= 2, 30_000);
    expect((await paidPeriods(sub.id)).slice(0, 2)).toEqual([
      [1, PRICE],
      [3, PRICE],
    ]);
    expect((await renewals(tdb.db, sub.id)).map((r) => r.period)).not.toContain(2);
    expect(Object.keys(await chargedAmounts(tdb.db, sub.id)).slice(0, 2)).toEqual([key(sub.id, 1), key(sub.id, 3)]);
    expect(await wallet(sub.customerId)).toBe(0);
  } finally {
    await stop(h);
  }
  await expectLedgerInvariants(tdb.db);
});

test('the API starts the workflow with the catalog unit price it priced the subscription from', async () => {
  const product = await seedSubscribableProduct(api, { unitPrice: 2_700, unit: '1 l' });
  const user = uniqueId('u');
  const startDate = addDays(localDateOf(Date.now(), 'Asia/Kolkata'), 3);
  await fundWallet(tdb.db, user, 10_000_000);
  const res = await api.request('POST', '/v1/subscriptions', {
    token: api.token(user),
    idempotencyKey: uniqueId('idem-'),
    body: { productId: product.productId, quantity: 2, recurrence: { kind: 'daily' }, startDate, region: 'blr', paymentMethod: 'pm_ok' },
  });
  expect(res.status).toBe(201);
  const h = worker.client.workflow.getHandle(res.body.workflowId);
  try {
    const history = await h.fetchHistory();
    const started = history.events![0].workflowExecutionStartedEventAttributes!;
    const input = defaultPayloadConverter.fromPayload<SubscriptionWorkflowInput>(started.input!.payloads![0]);
    expect(input.subscription).toMatchObject({ unitPrice: 2_700, quantity: 2, pricePerPeriod: res.body.pricePerPeriod });
    // The first period is charged at the quote: nothing changed since it was made.
    await eventually(async () => (await renewals(tdb.db, res.body.subscriptionId))[0]?.status === 'paid');
    expect((await renewals(tdb.db, res.body.subscriptionId))[0].amount).toBe(res.body.pricePerPeriod);
  } finally {
    await stop(h);
  }
  await expectLedgerInvariants(tdb.db);
});
