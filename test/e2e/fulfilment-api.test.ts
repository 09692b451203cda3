/**
 * Fulfilment over HTTP, through the typed client: an admin sets up an area and its delivery
 * person, a customer gives an address, the delivery person fetches the route sheet (and asks again
 * with its version), reports and syncs outcomes, ops correct one, the day closes — and the customer
 * sees the streak, the outcomes and the credit on the subscription, in explain and in the wallet.
 */
import { randomUUID } from 'node:crypto';
import { generateDeliveriesBatch } from '../../activities/subscription-generation';
import { deliveryDayCloseScheduleId } from '../../contracts/fulfilment';
import { DEFAULT_TIMEZONE, addDays, localDateOf } from '../../domain/schedule';
import { closeDeliveryDayWorkflow } from '../../workflows/fulfilment';
import type { TestApi } from '../support/api';
import { expectLedgerInvariants, type TestDatabase } from '../support/db';
import { startTestSystem, stopTestSystem } from '../support/system';
import { uniqueId, type TestWorker } from '../support/temporal';
import { answer } from '../support/typed-client';
import { UNIT_PRICE, insertSubscription } from '../workflows/subscription-helpers';

let tdb: TestDatabase;
let worker: TestWorker;
let api: TestApi;
const AREA = `e2e${randomUUID().replace(/-/g, '').slice(0, 10)}`;
const TODAY = localDateOf(Date.now(), DEFAULT_TIMEZONE);
const now = () => new Date().toISOString();
const key = () => ({ header: { 'Idempotency-Key': uniqueId('idem-') } });

beforeAll(async () => {
  ({ tdb, worker, api } = await startTestSystem());
});
afterAll(async () => {
  await worker?.client.schedule
    .getHandle(deliveryDayCloseScheduleId(AREA))
    .delete()
    .catch(() => undefined);
  await stopTestSystem();
});

test('an area’s day over HTTP: set-up, route sheet, reports, a correction, the close, and what the customer sees', async () => {
  const admin = api.client(api.token('admin-e2e', ['admin']));
  const support = api.client(api.token('support-e2e', ['support']));
  const ravi = api.client(api.token('ravi-e2e', ['delivery']));
  const stranger = api.client(api.token('other-rider', ['delivery']));

  // The admin creates the area (with its Schedule) and assigns ravi.
  const areaBody = { name: 'E2E area', timezone: DEFAULT_TIMEZONE, cutoff: '12:00', creditNotHome: false, creditNoAccess: true };
  const created = await answer(admin.PUT('/v1/admin/delivery/areas/{areaId}', { params: { path: { areaId: AREA } }, body: areaBody }));
  expect(created.status).toBe(201);
  expect(created.body.scheduleId).toBe(deliveryDayCloseScheduleId(AREA));
  const schedule = await worker.client.schedule.getHandle(created.body.scheduleId).describe();
  expect(schedule.spec.timezone).toBe(DEFAULT_TIMEZONE);
  expect(
    (await answer(admin.PUT('/v1/admin/delivery/areas/{areaId}', { params: { path: { areaId: AREA } }, body: areaBody }))).status,
  ).toBe(200);
  const badZone = await answer(
    admin.PUT('/v1/admin/delivery/areas/{areaId}', { params: { path: { areaId: AREA } }, body: { ...areaBody, timezone: 'Mars/Olympus' } }),
  );
  expect(badZone.status).toBe(400);
  const staffPath = { params: { path: { areaId: AREA, userId: 'ravi-e2e' } } };
  expect((await answer(admin.PUT('/v1/admin/delivery/areas/{areaId}/staff/{userId}', staffPath))).body).toMatchObject({ changed: true });
  expect((await answer(admin.PUT('/v1/admin/delivery/areas/{areaId}/staff/{userId}', staffPath))).body).toMatchObject({ changed: false });
  expect((await answer(support.PUT('/v1/admin/delivery/areas/{areaId}/staff/{userId}', staffPath))).status).toBe(403);
  const audited = await tdb.db('audit_log').where({ target_type: 'area', target_id: AREA }).pluck('action');
  expect(audited).toEqual(expect.arrayContaining(['delivery.area_create', 'delivery.area_update', 'delivery.staff_assign']));

  // Three subscriptions in the area; asha gives her address, a stranger cannot change it.
  const subs = [];
  for (let i = 0; i < 3; i++) subs.push(await insertSubscription(tdb.db, { region: AREA, startDate: addDays(TODAY, -2), quantity: 2 }));
  const asha = api.client(api.token(subs[0].customerId));
  const address = await answer(
    asha.PUT('/v1/delivery/subscriptions/{subscriptionId}/address', {
      params: { path: { subscriptionId: subs[0].id } },
      body: { line: '12 HAL 2nd Stage', notes: 'gate code 1234' },
    }),
  );
  expect(address.status).toBe(200);
  const notHers = await answer(
    api.client(api.token(subs[1].customerId)).PUT('/v1/delivery/subscriptions/{subscriptionId}/address', {
      params: { path: { subscriptionId: subs[0].id } },
      body: { line: 'somewhere else' },
    }),
  );
  expect(notHers.status).toBe(404);
  const seq = await answer(
    support.PUT('/v1/ops/delivery/areas/{areaId}/sequence', {
      params: { path: { areaId: AREA } },
      body: { addresses: [{ addressId: address.body.address.addressId, sequence: 1 }] },
    }),
  );
  expect(seq.status).toBe(200);
  for (const date of [addDays(TODAY, -1), TODAY]) {
    await generateDeliveriesBatch(tdb.db, { date, timezone: DEFAULT_TIMEZONE, afterId: '', limit: 1_000 });
  }

  // The route sheet: asha's stop first; asked again with its version, nothing to download.
  const routeQuery = { params: { query: { date: TODAY, area: AREA } } };
  const sheet = await answer(ravi.GET('/v1/delivery/route', routeQuery));
  expect(sheet.status).toBe(200);
  expect(sheet.body.deliveries.map((d: { subscriptionId: string }) => d.subscriptionId)[0]).toBe(subs[0].id);
  expect(sheet.body.deliveries[0].address).toMatchObject({ line: '12 HAL 2nd Stage', notes: 'gate code 1234' });
  const again = await answer(
    ravi.GET('/v1/delivery/route', { params: { query: { ...routeQuery.params.query, since: sheet.body.version } } }),
  );
  expect(again.body).toMatchObject({ unchanged: true, version: sheet.body.version });
  expect(again.body.deliveries).toBeUndefined();
  expect((await answer(stranger.GET('/v1/delivery/route', routeQuery))).status).toBe(403);
  expect((await answer(asha.GET('/v1/delivery/route', routeQuery))).status).toBe(403);

  // In the order of subs (the sheet lists them in route order).
  const ids: string[] = subs.map(
    (sub) => sheet.body.deliveries.find((d: { subscriptionId: string }) => d.subscriptionId === sub.id).deliveryId,
  );
  const yesterday = ids.map((id) => id.replace(/\d{4}-\d{2}-\d{2}$/, addDays(TODAY, -1)));
  const path = (deliveryId: string) => ({ path: { deliveryId } });

  // Yesterday, synced late: asha delivered (her streak), the others delivered too.
  const late = await answer(
    ravi.POST('/v1/delivery/sync', {
      params: key(),
      body: {
        outcomes: yesterday.map((deliveryId) => ({
          deliveryId,
          outcome: 'delivered' as const,
          at: `${addDays(TODAY, -1)}T07:00:00+05:30`,
        })),
      },
    }),
  );
  expect(late.body.results.map((r: { result: string }) => r.result)).toEqual(['applied', 'applied', 'applied']);

  // Today: asha delivered; the next out of stock (credited); a report off the day refused; the sync of the rest.
  const delivered = await answer(
    ravi.POST('/v1/delivery/deliveries/{deliveryId}/delivered', { params: { ...path(ids[0]), ...key() }, body: { at: now() } }),
  );
  expect(delivered.body).toMatchObject({ result: 'applied', delivery: { status: 'delivered' } });
  const repeat = await answer(
    ravi.POST('/v1/delivery/deliveries/{deliveryId}/delivered', {
      params: { ...path(ids[0]), ...key() },
      body: { at: delivered.body.delivery.outcomeAt },
    }),
  );
  expect(repeat.body.result).toBe('duplicate');
  const outOfStock = await answer(
    ravi.POST('/v1/delivery/deliveries/{deliveryId}/failed', {
      params: { ...path(ids[1]), ...key() },
      body: { reason: 'out_of_stock', at: now() },
    }),
  );
  expect(outOfStock.body.delivery.credit).toMatchObject({ amount: 2 * UNIT_PRICE });
  const offDay = await answer(
    ravi.POST('/v1/delivery/deliveries/{deliveryId}/failed', {
      params: { ...path(ids[2]), ...key() },
      body: { reason: 'not_home', at: `${addDays(TODAY, -3)}T07:00:00+05:30` },
    }),
  );
  expect(offDay).toMatchObject({ status: 422, body: { error: { code: 'at_outside_day' } } });
  const sync = await answer(
    ravi.POST('/v1/delivery/sync', {
      params: key(),
      body: {
        outcomes: [{ deliveryId: ids[2], outcome: 'failed', reason: 'refused', at: now() }],
        route: { area: AREA, date: TODAY, version: sheet.body.version },
      },
    }),
  );
  expect(sync.body).toMatchObject({ applied: 1, route: { changed: false } });

  // Ops follow up: the refusal was a locked gate (no_access, credited here); the field cannot undo it.
  const corrected = await answer(
    support.POST('/v1/ops/deliveries/{deliveryId}/correct', {
      params: { ...path(ids[2]), ...key() },
      body: { outcome: 'failed', reason: 'no_access', note: 'The society gate was locked' },
    }),
  );
  expect(corrected.body).toMatchObject({ result: 'applied', delivery: { corrected: true, credit: { amount: 2 * UNIT_PRICE } } });
  expect(await tdb.db('audit_log').where({ action: 'delivery.correct', target_id: ids[2] }).count('* as n')).toEqual([{ n: 1 }]);
  const stale = await answer(
    ravi.POST('/v1/delivery/deliveries/{deliveryId}/delivered', { params: { ...path(ids[2]), ...key() }, body: { at: now() } }),
  );
  expect(stale).toMatchObject({ status: 409, body: { error: { code: 'corrected_by_ops' } } });

  // The day closes (as the Schedule would run it): nothing left unreported today.
  const closed = await worker.client.workflow.execute(closeDeliveryDayWorkflow, {
    taskQueue: worker.taskQueue,
    workflowId: uniqueId('delivery-close-'),
    args: [{ areaId: AREA, date: TODAY }],
  });
  expect(closed.summary).toMatchObject({ delivered: 1, failed: 2, unconfirmed: 0, credits: 2, creditedAmount: 4 * UNIT_PRICE });
  const summary = await answer(support.GET('/v1/ops/deliveries/summary', { params: { query: { date: TODAY } } }));
  expect(summary.body.areas).toEqual([
    expect.objectContaining({ areaId: AREA, failedByReason: expect.objectContaining({ out_of_stock: 1, no_access: 1 }) }),
  ]);
  expect(summary.body.totals).toMatchObject({ delivered: 1, failed: 2, credits: 2 });
  // Yesterday was never closed; closing it now finds everything reported, so no alert.
  await worker.client.workflow.execute(closeDeliveryDayWorkflow, {
    taskQueue: worker.taskQueue,
    workflowId: uniqueId('delivery-close-'),
    args: [{ areaId: AREA, date: addDays(TODAY, -2) }],
  });
  const alerts = await answer(support.GET('/v1/ops/alerts', { params: { query: {} } }));
  expect(alerts.status).toBe(200);

  // What the customers see.
  const mine = await answer(asha.GET('/v1/subscriptions/{subscriptionId}', { params: { path: { subscriptionId: subs[0].id } } }));
  expect(mine.body).toMatchObject({ streak: { current: 2, longest: 2 }, credits: { count: 0, amount: 0 } });
  const bala = api.client(api.token(subs[1].customerId));
  const balaSub = { params: { path: { subscriptionId: subs[1].id } } };
  expect((await answer(bala.GET('/v1/subscriptions/{subscriptionId}', balaSub))).body).toMatchObject({
    streak: { current: 1 }, // out of stock is ours: neither breaks nor extends
    credits: { count: 1, amount: 2 * UNIT_PRICE },
  });
  const history = await answer(
    bala.GET('/v1/subscriptions/{subscriptionId}/deliveries', {
      params: { ...balaSub.params, query: { from: addDays(TODAY, -1), to: TODAY } },
    }),
  );
  expect(history.body.deliveries.map((d: { status: string; failureReason: string | null }) => [d.status, d.failureReason])).toEqual([
    ['delivered', null],
    ['failed', 'out_of_stock'],
  ]);
  expect(history.body.deliveries[1].credit).toMatchObject({ amount: 2 * UNIT_PRICE });
  const why = await answer(
    bala.GET('/v1/subscriptions/{subscriptionId}/explain', { params: { ...balaSub.params, query: { date: TODAY } } }),
  );
  expect(why.body.fulfilment).toMatchObject({ status: 'failed', failureReason: 'out_of_stock' });
  expect(why.body.fulfilment.creditJournals).toEqual([
    expect.objectContaining({ reason: 'missed_delivery_credit', amount: 2 * UNIT_PRICE }),
  ]);
  const ledger = await answer(bala.GET('/v1/wallet/ledger', { params: { query: {} } }));
  expect(ledger.body.entries).toEqual([expect.objectContaining({ amount: 2 * UNIT_PRICE, refType: 'delivery', refId: ids[1] })]);

  // Taking ravi off the area ends his access to it.
  expect((await answer(admin.DELETE('/v1/admin/delivery/areas/{areaId}/staff/{userId}', staffPath))).body).toMatchObject({ changed: true });
  expect((await answer(ravi.GET('/v1/delivery/route', routeQuery))).status).toBe(403);
  await expectLedgerInvariants(tdb.db);
});
