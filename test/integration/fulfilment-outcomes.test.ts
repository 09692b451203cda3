/**
 * Route sheets and outcome syncs on real Postgres, through the db functions the delivery routes
 * call: ordering and assignment, the offline version token, and reports that arrive late, twice
 * or out of order — each applied once, each credit posted once.
 */
import { accounts, transfer } from '../../domain/ledger';
import { DEFAULT_TIMEZONE } from '../../domain/schedule';
import { dayBounds, deliveryIdOf, routeVersion, type FailureReason } from '../../domain/fulfilment';
import { deliveryCreditKey } from '../../contracts/fulfilment';
import { generateDeliveriesBatch } from '../../activities/subscription-generation';
import { postJournal } from '../../db/ledger';
import { getBalance } from '../../db/ledger-reports';
import { insertSubscriptionRow } from '../../db/subscriptions';
import { assignStaff, isAssigned, unassignStaff, upsertArea } from '../../db/fulfilment-areas';
import { setSequences, setSubscriptionAddress } from '../../db/fulfilment-addresses';
import { loadRouteSheet, type RouteSheetEntry } from '../../db/fulfilment-route';
import { recordOutcomes, type OutcomeInput, type Reporter } from '../../db/fulfilment-outcomes';
import { closeAreaDay, listDaySummaries, listDeliveryAlerts } from '../../db/fulfilment-day';
import { deliveryRecords, outcomeHistory } from '../../db/fulfilment-history';
import { createTestDatabase, expectLedgerInvariants, type TestDatabase } from '../support/db';

let tdb: TestDatabase;
const DATE = '2026-12-05';
const { endMs } = dayBounds(DATE, DEFAULT_TIMEZONE);
const at = (hhmm: string) => Date.parse(`${DATE}T${hhmm}:00+05:30`);
const NEXT_DAY = endMs + 6 * 3_600_000; // an offline phone syncing the morning after
const UNIT_PRICE = 3_000;
const ravi: Reporter = { userId: 'ravi', source: 'staff' };
const ops: Reporter = { userId: 'ops-meera', source: 'ops' };

let n = 0;
/** A daily subscription of `customerId` in `area` at UNIT_PRICE a unit; returns its id. */
async function subscribe(area: string, customerId: string, quantity = 2): Promise<string> {
  const id = `sub_ful${String(++n).padStart(8, '0')}`;
  await insertSubscriptionRow(
    tdb.db,
    {
      id,
      customerId,
      productId: 'milk-500ml',
      quantity,
      pricePerPeriod: UNIT_PRICE * quantity * 30,
      unitPrice: UNIT_PRICE,
      recurrence: { kind: 'daily' },
      startDate: '2026-12-01',
      endDate: null,
      timezone: DEFAULT_TIMEZONE,
      region: area,
      paymentMethod: 'pm_ok',
    },
    { unit: '500 ml', deliveriesPerPeriod: 30 },
  );
  return id;
}

const generate = (date = DATE) => generateDeliveriesBatch(tdb.db, { date, timezone: DEFAULT_TIMEZONE, afterId: '', limit: 10_000 });
const delivered = (deliveryId: string, hhmm: string, note: string | null = null): OutcomeInput => ({
  deliveryId,
  outcome: 'delivered',
  reason: null,
  note,
  atMs: at(hhmm),
});
const failed = (deliveryId: string, reason: FailureReason, hhmm: string): OutcomeInput => ({
  deliveryId,
  outcome: 'failed',
  reason,
  note: null,
  atMs: at(hhmm),
});
const wallet = async (customerId: string) => (await getBalance(tdb.db, accounts.userWallet(customerId))).balance;
const creditJournals = async (deliveryId: string) =>
  (await tdb.db.raw(`SELECT idempotency_key, reason FROM journal WHERE ref_type = 'delivery' AND ref_id = ? ORDER BY id`, [deliveryId]))
    .rows;

beforeAll(async () => {
  tdb = await createTestDatabase();
  await upsertArea(
    tdb.db,
    { areaId: 'indiranagar', name: 'Indiranagar', timezone: DEFAULT_TIMEZONE, cutoff: '12:00', creditNotHome: false, creditNoAccess: true },
    'admin:test',
  );
  await upsertArea(
    tdb.db,
    { areaId: 'koramangala', name: 'Koramangala', timezone: DEFAULT_TIMEZONE, cutoff: '12:00', creditNotHome: true, creditNoAccess: false },
    'admin:test',
  );
  await assignStaff(tdb.db, 'indiranagar', 'ravi', 'admin:test');
});
afterAll(async () => {
  await tdb?.drop();
});

describe('the route sheet', () => {
  let subs: string[];
  let route: RouteSheetEntry[];

  beforeAll(async () => {
    // asha has two subscriptions to one door; bala and chitra one each; dev has no address yet; one in another area.
    subs = [
      await subscribe('indiranagar', 'asha'),
      await subscribe('indiranagar', 'asha', 1),
      await subscribe('indiranagar', 'bala'),
      await subscribe('indiranagar', 'chitra'),
      await subscribe('indiranagar', 'dev'),
      await subscribe('koramangala', 'esha'),
    ];
    const addr = async (i: number, customerId: string, line: string, notes: string | null = null) =>
      setSubscriptionAddress(tdb.db, { subscriptionId: subs[i], customerId, areaId: i === 5 ? 'koramangala' : 'indiranagar', line, notes });
    const asha = await addr(0, 'asha', '12 HAL 2nd Stage', 'gate code 1234');
    expect((await addr(1, 'asha', '12 hal 2nd stage', 'gate code 1234')).addressId).toBe(asha.addressId);
    const bala = await addr(2, 'bala', '4 CMH Road');
    const chitra = await addr(3, 'chitra', '77 100 Feet Road', 'leave at the door');
    await addr(5, 'esha', '1 80 Feet Road');
    expect(await setSequences(tdb.db, 'indiranagar', [{ addressId: 'adr_nope', sequence: 1 }])).toEqual(['adr_nope']);
    expect(
      await setSequences(tdb.db, 'indiranagar', [
        { addressId: chitra.addressId, sequence: 1 },
        { addressId: asha.addressId, sequence: 2 },
        { addressId: bala.addressId, sequence: 3 },
      ]),
    ).toEqual([]);
    await generate();
    route = await loadRouteSheet(tdb.db, 'indiranagar', DATE);
  });

  test('lists the area’s deliveries of the day in the order ops set, one stop per door, unplaced ones last', () => {
    expect(route.map((r) => r.subscriptionId)).toEqual([subs[3], subs[0], subs[1], subs[2], subs[4]]);
    expect(route.map((r) => r.sequence)).toEqual([1, 2, 2, 3, null]);
    expect(route[1]).toMatchObject({
      deliveryId: deliveryIdOf(subs[0], DATE),
      quantity: 2,
      product: { productId: 'milk-500ml', unit: '500 ml' },
      address: { line: '12 hal 2nd stage', notes: 'gate code 1234' },
      status: 'scheduled',
    });
    expect(route[4].address).toBeNull();
    expect(route.some((r) => r.subscriptionId === subs[5])).toBe(false);
  });

  test('comes back in the same order with the same version until what is to be delivered changes', async () => {
    const again = await loadRouteSheet(tdb.db, 'indiranagar', DATE);
    expect(again).toEqual(route);
    const version = routeVersion(route.map(stopOf));
    // The delivery person's own reports do not make the phone's copy stale...
    await recordOutcomes(tdb.db, ravi, [delivered(route[0].deliveryId, '06:10')], NEXT_DAY);
    const afterReport = await loadRouteSheet(tdb.db, 'indiranagar', DATE);
    expect(afterReport[0].status).toBe('delivered');
    expect(routeVersion(afterReport.map(stopOf))).toBe(version);
    // ...a moved stop does.
    await setSequences(tdb.db, 'indiranagar', [{ addressId: route[3].address!.addressId, sequence: 0 }]);
    const moved = await loadRouteSheet(tdb.db, 'indiranagar', DATE);
    expect(moved[0].subscriptionId).toBe(subs[2]);
    expect(routeVersion(moved.map(stopOf))).not.toBe(version);
  });

  test('staff report only in the areas they are assigned to', async () => {
    const other = deliveryIdOf(subs[5], DATE);
    expect(await isAssigned(tdb.db, 'koramangala', 'ravi')).toBe(false);
    const [answer] = await recordOutcomes(tdb.db, ravi, [delivered(other, '07:00')], NEXT_DAY);
    expect(answer).toEqual({ deliveryId: other, result: 'rejected', error: expect.objectContaining({ kind: 'not_found' }) });
    expect((await deliveryRecords(tdb.db, subs[5]))[0].status).toBe('scheduled');
    await assignStaff(tdb.db, 'koramangala', 'ravi', 'admin:test');
    expect((await recordOutcomes(tdb.db, ravi, [delivered(other, '07:00')], NEXT_DAY))[0].result).toBe('applied');
    expect(await unassignStaff(tdb.db, 'koramangala', 'ravi')).toBe(true);
    expect((await recordOutcomes(tdb.db, ravi, [failed(other, 'refused', '08:00')], NEXT_DAY))[0].result).toBe('rejected');
  });
});

function stopOf(r: RouteSheetEntry) {
  return {
    deliveryId: r.deliveryId,
    sequence: r.sequence,
    quantity: r.quantity,
    productId: r.product.productId,
    addressId: r.address?.addressId ?? null,
    addressLine: r.address?.line ?? null,
    notes: r.address?.notes ?? null,
  };
}

describe('a sync from a phone that was offline all morning', () => {
  const DAY2 = '2026-12-06';
  const at2 = (hhmm: string) => Date.parse(`${DAY2}T${hhmm}:00+05:30`);
  let ids: string[];
  let customers: string[];

  beforeAll(async () => {
    customers = ['c0', 'c1', 'c2', 'c3', 'c4', 'c5'].map((c) => `sync-${c}`);
    const subIds: string[] = [];
    for (const c of customers) subIds.push(await subscribe('indiranagar', c));
    await generate(DAY2);
    ids = subIds.map((s) => deliveryIdOf(s, DAY2));
  });

  const late = Date.parse(`${DAY2}T23:00:00+05:30`) + 12 * 3_600_000;
  const d = (i: number, hhmm: string): OutcomeInput => ({
    deliveryId: ids[i],
    outcome: 'delivered',
    reason: null,
    note: null,
    atMs: at2(hhmm),
  });
  const f = (i: number, reason: FailureReason, hhmm: string): OutcomeInput => ({
    deliveryId: ids[i],
    outcome: 'failed',
    reason,
    note: `tried at ${hhmm}`,
    atMs: at2(hhmm),
  });

  test('answers each outcome on its own and applies each once, whatever the order or repetition', async () => {
    const batch: OutcomeInput[] = [
      d(0, '06:00'),
      d(0, '06:00'), // the same report twice in one batch
      f(1, 'out_of_stock', '06:05'), // credited
      f(2, 'not_home', '06:10'), // this area does not credit not_home
      d(3, '09:30'), // the later of two reports about one delivery, sent first...
      f(3, 'not_home', '06:20'), // ...and the earlier one after it: superseded
      f(4, 'no_access', '06:30'), // credited here
      { ...d(5, '06:40'), atMs: at2('06:40') - 86_400_000 }, // a time on the day before: refused
      { deliveryId: 'sub_nosuchsub0-2026-12-06', outcome: 'delivered', reason: null, note: null, atMs: at2('07:00') },
    ];
    const answers = await recordOutcomes(tdb.db, ravi, batch, late);
    expect(answers.map((a) => [a.result, a.error?.code ?? null])).toEqual([
      ['applied', null],
      ['duplicate', null],
      ['applied', null],
      ['applied', null],
      ['applied', null],
      ['superseded', null],
      ['applied', null],
      ['rejected', 'at_outside_day'],
      ['rejected', 'delivery_not_found'],
    ]);
    expect(answers[2].delivery).toMatchObject({ status: 'failed', failureReason: 'out_of_stock', credit: { amount: 2 * UNIT_PRICE } });
    expect(answers[3].delivery).toMatchObject({ status: 'failed', failureReason: 'not_home', credit: null });
    expect(answers[4].delivery).toMatchObject({ status: 'delivered', outcomeAt: new Date(at2('09:30')).toISOString() });

    // The whole batch again (the phone never saw the answer): nothing more is applied or credited.
    const replay = await recordOutcomes(tdb.db, ravi, batch, late + 60_000);
    expect(replay.map((a) => a.result)).toEqual([
      'duplicate',
      'duplicate',
      'duplicate',
      'duplicate',
      'duplicate',
      'superseded',
      'duplicate',
      'rejected',
      'rejected',
    ]);
    expect(await wallet(customers[1])).toBe(2 * UNIT_PRICE);
    expect(await wallet(customers[2])).toBe(0);
    expect(await wallet(customers[4])).toBe(2 * UNIT_PRICE);
    expect(await creditJournals(ids[1])).toEqual([{ idempotency_key: deliveryCreditKey(ids[1], 1), reason: 'missed_delivery_credit' }]);

    // History: one applied row per applied report, the superseded ones kept beside them.
    const sub3 = ids[3].slice(0, -11);
    expect((await outcomeHistory(tdb.db, sub3, DAY2)).map((h) => [h.status, h.result])).toEqual([
      ['delivered', 'applied'],
      ['failed', 'superseded'],
      ['failed', 'superseded'],
    ]);
    await expectLedgerInvariants(tdb.db);
  });

  test('reports about one delivery arriving in the opposite order end in the same state', async () => {
    const a = await subscribe('indiranagar', 'order-a');
    const b = await subscribe('indiranagar', 'order-b');
    await generate(DAY2);
    const [ida, idb] = [deliveryIdOf(a, DAY2), deliveryIdOf(b, DAY2)];
    const early = (id: string): OutcomeInput => ({
      deliveryId: id,
      outcome: 'failed',
      reason: 'out_of_stock',
      note: null,
      atMs: at2('06:00'),
    });
    const later = (id: string): OutcomeInput => ({ deliveryId: id, outcome: 'delivered', reason: null, note: null, atMs: at2('10:00') });
    await recordOutcomes(tdb.db, ravi, [early(ida)], late);
    await recordOutcomes(tdb.db, ravi, [later(ida)], late);
    await recordOutcomes(tdb.db, ravi, [later(idb)], late);
    await recordOutcomes(tdb.db, ravi, [early(idb)], late);
    const [ra] = await deliveryRecords(tdb.db, a, { from: DAY2, to: DAY2 });
    const [rb] = await deliveryRecords(tdb.db, b, { from: DAY2, to: DAY2 });
    expect(ra).toMatchObject({ status: 'delivered', credit: null });
    expect({ ...rb, deliveryId: ra.deliveryId }).toEqual(ra);
    // a was credited for the out-of-stock report, then the later delivery took the credit back.
    expect((await creditJournals(ida)).map((j: { reason: string }) => j.reason)).toEqual([
      'missed_delivery_credit',
      'missed_delivery_credit_reversal',
    ]);
    expect(await creditJournals(idb)).toEqual([]);
    expect(await wallet('order-a')).toBe(0);
    await expectLedgerInvariants(tdb.db);
  });
});

describe('ops corrections', () => {
  const DAY3 = '2026-12-07';
  const at3 = (hhmm: string) => Date.parse(`${DAY3}T${hhmm}:00+05:30`);
  const late = at3('23:00');

  test('change a reported delivery with its credit, keep the history, and lock out the field', async () => {
    const sub = await subscribe('indiranagar', 'corr-1');
    await generate(DAY3);
    const id = deliveryIdOf(sub, DAY3);
    const report = (outcome: 'delivered' | 'failed', reason: FailureReason | null, hhmm: string | null): OutcomeInput => ({
      deliveryId: id,
      outcome,
      reason,
      note: 'customer called',
      atMs: hhmm === null ? null : at3(hhmm),
    });
    await recordOutcomes(tdb.db, ravi, [report('failed', 'refused', '07:00')], late);
    expect(await wallet('corr-1')).toBe(0);
    // The customer says the milk was out of stock, not refused: ops correct it (time kept), the credit follows.
    const [c1] = await recordOutcomes(tdb.db, ops, [report('failed', 'out_of_stock', null)], late);
    expect(c1).toMatchObject({ result: 'applied', delivery: { corrected: true, outcomeAt: new Date(at3('07:00')).toISOString() } });
    expect(await wallet('corr-1')).toBe(2 * UNIT_PRICE);
    // The phone's stale report cannot undo it.
    const [stale] = await recordOutcomes(tdb.db, ravi, [report('delivered', null, '11:00')], late);
    expect(stale).toMatchObject({ result: 'rejected', error: { kind: 'conflict', code: 'corrected_by_ops' } });
    // Found delivered after all: the credit is reversed; then wrong again: a new credit with a key of its own.
    await recordOutcomes(tdb.db, ops, [report('delivered', null, '07:05')], late);
    expect(await wallet('corr-1')).toBe(0);
    await recordOutcomes(tdb.db, ops, [report('failed', 'other', '07:05')], late);
    expect(await wallet('corr-1')).toBe(2 * UNIT_PRICE);
    expect((await creditJournals(id)).map((j: { idempotency_key: string }) => j.idempotency_key)).toEqual([
      deliveryCreditKey(id, 1),
      `${deliveryCreditKey(id, 1)}:reversal`,
      deliveryCreditKey(id, 2),
    ]);
    const history = await outcomeHistory(tdb.db, sub, DAY3);
    expect(history.map((h) => [h.source, h.status, h.failureReason])).toEqual([
      ['staff', 'failed', 'refused'],
      ['ops', 'failed', 'out_of_stock'],
      ['ops', 'delivered', null],
      ['ops', 'failed', 'other'],
    ]);
    expect(history.map((h) => h.revision)).toEqual([1, 2, 3, 4]);
    await expectLedgerInvariants(tdb.db);
  });

  test('a credit the customer already spent stays, and ops are told', async () => {
    const sub = await subscribe('indiranagar', 'spender');
    await generate(DAY3);
    const id = deliveryIdOf(sub, DAY3);
    await recordOutcomes(
      tdb.db,
      ravi,
      [{ deliveryId: id, outcome: 'failed', reason: 'out_of_stock', note: null, atMs: at3('07:00') }],
      late,
    );
    expect(await wallet('spender')).toBe(2 * UNIT_PRICE);
    await postJournal(tdb.db, {
      idempotencyKey: `spend-${id}`,
      reason: 'test_spend',
      lines: transfer(accounts.userWallet('spender'), accounts.platformRevenue, 2 * UNIT_PRICE),
    });
    const [answer] = await recordOutcomes(
      tdb.db,
      ops,
      [{ deliveryId: id, outcome: 'delivered', reason: null, note: null, atMs: null }],
      late,
    );
    expect(answer).toMatchObject({ result: 'applied', delivery: { status: 'delivered', credit: { amount: 2 * UNIT_PRICE } } });
    const alerts = await listDeliveryAlerts(tdb.db, { open: true, limit: 50 });
    expect(alerts).toContainEqual(expect.objectContaining({ kind: 'credit_reversal_failed', subject: id }));
    await expectLedgerInvariants(tdb.db);
  });
});

describe('the end of the day', () => {
  const DAY4 = '2026-12-08';
  const at4 = (hhmm: string) => Date.parse(`${DAY4}T${hhmm}:00+05:30`);

  test('marks the unreported unconfirmed, stores the summary, and a late report keeps both current', async () => {
    const subs = [];
    for (let i = 0; i < 4; i++) subs.push(await subscribe('koramangala', `eod-${i}`));
    await generate(DAY4);
    const ids = subs.map((s) => deliveryIdOf(s, DAY4));
    const meera: Reporter = { userId: 'meera', source: 'staff' };
    await assignStaff(tdb.db, 'koramangala', 'meera', 'admin:test');
    await recordOutcomes(
      tdb.db,
      meera,
      [
        { deliveryId: ids[0], outcome: 'delivered', reason: null, note: null, atMs: at4('06:00') },
        { deliveryId: ids[1], outcome: 'failed', reason: 'not_home', note: null, atMs: at4('06:10') }, // credited in koramangala
      ],
      at4('11:00'),
    );
    const close = () => tdb.db.transaction((trx) => closeAreaDay(trx, 'koramangala', DAY4));
    const first = await close();
    const koramangalaTotal = first.summary.total;
    expect(first).toMatchObject({ markedUnconfirmed: koramangalaTotal - 2, alertOpen: true });
    expect(first.summary).toMatchObject({ delivered: 1, failed: 1, unconfirmed: koramangalaTotal - 2, scheduled: 0, credits: 1 });
    expect(first.summary.failedByReason).toEqual({ not_home: 1, refused: 0, no_access: 0, out_of_stock: 0, other: 0 });
    expect(first.summary.creditedAmount).toBe(2 * UNIT_PRICE);
    // Run again: nothing more to mark, the same figures, the first close's time kept.
    const second = await close();
    expect(second.markedUnconfirmed).toBe(0);
    expect({ ...second.summary, updatedAt: null }).toEqual({ ...first.summary, updatedAt: null });

    const openAlert = async () =>
      (await listDeliveryAlerts(tdb.db, { open: true, limit: 50 })).find(
        (a) => a.kind === 'deliveries_unconfirmed' && a.areaId === 'koramangala' && a.date === DAY4,
      );
    expect((await openAlert())?.count).toBe(koramangalaTotal - 2);

    // The phones sync after the close: late reports are taken, the summary and the alert follow.
    const rest = (await loadRouteSheet(tdb.db, 'koramangala', DAY4)).filter((r) => r.status === 'unconfirmed');
    const answers = await recordOutcomes(
      tdb.db,
      meera,
      rest.map((r) => ({ deliveryId: r.deliveryId, outcome: 'delivered' as const, reason: null, note: null, atMs: at4('07:00') })),
      at4('13:00'),
    );
    expect(answers.every((a) => a.result === 'applied')).toBe(true);
    const [stored] = await listDaySummaries(tdb.db, DAY4, ['koramangala']);
    expect(stored).toMatchObject({ delivered: koramangalaTotal - 1, unconfirmed: 0, closedAt: first.summary.closedAt });
    expect(await openAlert()).toBeUndefined();
    await expectLedgerInvariants(tdb.db);
  });

  test('a report racing the close is counted in the summary, whichever commits first', async () => {
    const DAY5 = '2026-12-10';
    const at5 = Date.parse(`${DAY5}T07:00:00+05:30`);
    const sub = await subscribe('koramangala', 'race-1');
    await generate(DAY5);
    const report: OutcomeInput = { deliveryId: deliveryIdOf(sub, DAY5), outcome: 'delivered', reason: null, note: null, atMs: at5 };
    const meera: Reporter = { userId: 'meera', source: 'staff' };
    await assignStaff(tdb.db, 'koramangala', 'meera', 'admin:test');
    // Reported once before the close (so the close has nothing to mark on it), then again, later, racing the close.
    await recordOutcomes(tdb.db, meera, [{ ...report, outcome: 'failed', reason: 'refused', atMs: at5 - 3_600_000 }], at5);
    const trx = await tdb.db.transaction();
    const closing = await closeAreaDay(trx, 'koramangala', DAY5);
    expect(closing.summary).toMatchObject({ failed: 1, delivered: 0, unconfirmed: closing.summary.total - 1 });
    // The close holds the day's rows: the report waits for it...
    let answered = false;
    const reporting = recordOutcomes(tdb.db, meera, [report], at5 + 3_600_000).then((a) => ((answered = true), a));
    await new Promise((r) => setTimeout(r, 300));
    expect(answered).toBe(false);
    await trx.commit();
    // ...then finds the closed day's summary and brings it up to date.
    expect((await reporting)[0].result).toBe('applied');
    const [stored] = await listDaySummaries(tdb.db, DAY5, ['koramangala']);
    expect(stored).toMatchObject({ delivered: 1, failed: 0, unconfirmed: closing.summary.total - 1 });
  });

  test('closing a day without deliveries stores an empty summary and raises nothing', async () => {
    const result = await tdb.db.transaction((trx) => closeAreaDay(trx, 'indiranagar', '2026-12-09'));
    expect(result.summary).toMatchObject({ total: 0, unconfirmed: 0 });
    expect(result.alertOpen).toBe(false);
  });
});
