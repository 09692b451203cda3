import { addDays, localDateOf } from '../../domain/schedule';
import { accounts } from '../../domain/ledger/accounts';
import { getBalance } from '../../db/ledger-reports';
import type { TestApi } from '../support/api';
import { expectLedgerInvariants, type TestDatabase } from '../support/db';
import { startTestSystem, stopTestSystem } from '../support/system';
import { eventually, uniqueId, type TestWorker } from '../support/temporal';
import { fundWallet } from '../workflows/subscription-helpers';

let tdb: TestDatabase;
let worker: TestWorker;
let api: TestApi;
const today = localDateOf(Date.now(), 'Asia/Kolkata');
const day = (n: number) => addDays(today, n);

beforeAll(async () => ({ tdb, worker, api } = await startTestSystem()));
afterAll(stopTestSystem);

const body = (over: Record<string, unknown> = {}) => ({
  productId: 'milk-500ml',
  quantity: 1,
  pricePerPeriod: 90_000,
  recurrence: { kind: 'daily' },
  startDate: day(3),
  region: 'blr',
  paymentMethod: 'pm_ok',
  ...over,
});

async function create(userId: string, over: Record<string, unknown> = {}) {
  const res = await api.request('POST', '/v1/subscriptions', { token: api.token(userId), body: body(over), idempotencyKey: uniqueId('idem-') });
  expect(res.status).toBe(201);
  return res.body as { subscriptionId: string; customerId: string };
}

test('create, get, list: the workflow renews from the wallet; bad input is a 4xx and writes nothing', async () => {
  const user = uniqueId('u');
  await fundWallet(tdb.db, user, 90_000);
  const sub = await create(user);
  expect(sub).toMatchObject({ customerId: user, status: 'active' });
  await eventually(async () => (await tdb.db('subscription_renewals').where({ subscription_id: sub.subscriptionId }).first())?.status === 'paid');
  expect((await getBalance(tdb.db, accounts.userWallet(user))).balance).toBe(0);

  const got = await api.request('GET', `/v1/subscriptions/${sub.subscriptionId}`, { token: api.token(user) });
  expect(got.status).toBe(200);
  expect(got.body.workflow).toMatchObject({ subscriptionId: sub.subscriptionId, billing: 'paid' });
  expect(typeof got.body.workflow.why).toBe('string');
  const list = await api.request('GET', '/v1/subscriptions', { token: api.token(user) });
  expect(list.body.subscriptions.map((s: { subscriptionId: string }) => s.subscriptionId)).toEqual([sub.subscriptionId]);

  const before = await tdb.db('subscriptions').count();
  const bad = [
    body({ startDate: today }),
    body({ recurrence: { kind: 'days_of_week', days: [] } }),
    body({ recurrence: { kind: 'hourly' } }),
    body({ quantity: 0 }),
    body({ timezone: 'Mars/Olympus' }),
    body({ startDate: day(5), endDate: day(4) }),
    body({ paymentMethod: '4111111111111111' }),
    { ...body(), surprise: true },
  ];
  for (const b of bad) {
    const res = await api.request('POST', '/v1/subscriptions', { token: api.token(user), body: b, idempotencyKey: uniqueId('idem-') });
    expect([400, 422]).toContain(res.status);
    expect(res.body.error.code).toEqual(expect.any(String));
  }
  expect(await tdb.db('subscriptions').count()).toEqual(before);
  expect((await api.request('POST', '/v1/subscriptions', { token: api.token(user), body: body() })).status).toBe(400); // no Idempotency-Key
  await expectLedgerInvariants(tdb.db);
});

test('pause, resume, skip, extra, quantity, deliveries and explain over HTTP; bad ranges are 422 and write nothing', async () => {
  const user = uniqueId('u');
  await fundWallet(tdb.db, user, 90_000);
  const sub = await create(user);
  const path = `/v1/subscriptions/${sub.subscriptionId}`;
  const t = api.token(user);
  const exceptions = () => tdb.db('subscription_exceptions').where({ subscription_id: sub.subscriptionId }).count();

  const rejected = [
    ['pause', { from: day(-3), to: day(-1) }, 'range_in_past'],
    ['pause', { from: day(6), to: day(4) }, 'to_before_from'],
    ['pause', { from: today, to: day(4) }, 'starts_in_past'],
    ['skip', { from: day(0), to: day(0) }, 'range_in_past'],
    ['extra', { date: day(-1), quantity: 2 }, 'range_in_past'],
    ['quantity', { from: day(9), to: day(8), quantity: 2 }, 'to_before_from'],
    ['resume', {}, 'nothing_to_resume'],
  ] as const;
  for (const [action, b, code] of rejected) {
    const res = await api.request('POST', `${path}/${action}`, { token: t, body: b });
    expect({ action, status: res.status, code: res.body.error?.code }).toEqual({ action, status: 422, code });
  }
  for (const [action, b] of [['pause', { from: 'tomorrow', to: null }], ['extra', { date: day(5), quantity: -1 }], ['skip', { from: day(5) }]] as const) {
    expect((await api.request('POST', `${path}/${action}`, { token: t, body: b })).status).toBe(400);
  }
  expect(await exceptions()).toEqual([{ count: 0 }]);

  const pause = await api.request('POST', `${path}/pause`, { token: t, body: { from: day(5), to: day(9), reason: 'vacation' } });
  expect(pause.status).toBe(200);
  expect(pause.body.exceptionId).toBe('E1');
  expect((await api.request('POST', `${path}/resume`, { token: t, body: { from: day(8) } })).body).toEqual({ ended: ['E1'] });
  expect((await api.request('POST', `${path}/skip`, { token: t, body: { from: day(11), to: day(11) } })).status).toBe(200);
  expect((await api.request('POST', `${path}/extra`, { token: t, body: { date: day(6), quantity: 2 } })).status).toBe(200);
  expect((await api.request('POST', `${path}/quantity`, { token: t, body: { from: day(12), to: day(13), quantity: 3 } })).status).toBe(200);

  const deliveries = await api.request('GET', `${path}/deliveries?from=${day(3)}&to=${day(13)}`, { token: t });
  expect(deliveries.status).toBe(200);
  expect(deliveries.body.deliveries.map((d: { date: string; quantity: number }) => [d.date, d.quantity])).toEqual([
    [day(3), 1], [day(4), 1], [day(6), 2], [day(8), 1], [day(9), 1], [day(10), 1], [day(12), 3], [day(13), 3],
  ]);
  expect((await api.request('GET', `${path}/deliveries?from=${day(5)}&to=${day(1)}`, { token: t })).status).toBe(400);
  expect((await api.request('GET', `${path}/deliveries?from=${day(0)}&to=${day(400)}`, { token: t })).status).toBe(400);

  const explain = await api.request('GET', `${path}/explain?date=${day(7)}`, { token: t });
  expect(explain.status).toBe(200);
  expect(explain.body).toMatchObject({ deliver: false, reason: 'skipped', decidedBy: { kind: 'exception', exception: { id: 'E1', reason: 'vacation' } } });
  expect(explain.body.explanation).toMatch(/^no delivery: exception E1 'vacation'/);
  expect((await api.request('GET', `${path}/explain?date=2026-02-30`, { token: t })).status).toBe(400);

  const pm = await api.request('POST', `${path}/payment-method`, { token: t, body: { paymentMethod: 'pm_ok' } });
  expect(pm.body).toEqual({ retried: false });
  expect(await exceptions()).toEqual([{ count: 4 }]);
});

test('support acts on any customer (audited); other customers cannot see it; cancel ends the flow; admin holiday', async () => {
  const owner = uniqueId('u');
  await fundWallet(tdb.db, owner, 90_000);
  const sub = await create(owner, { region: 'hol' });
  const path = `/v1/subscriptions/${sub.subscriptionId}`;
  const stranger = api.token(uniqueId('u'));
  expect((await api.request('GET', path, { token: stranger })).status).toBe(404);
  expect((await api.request('POST', `${path}/pause`, { token: stranger, body: { from: day(5), to: day(6) } })).status).toBe(404);

  const support = api.token('agent-7', ['support']);
  const res = await api.request('POST', `${path}/pause`, { token: support, body: { from: day(5), to: day(6), reason: 'special_request' } });
  expect(res.status).toBe(200);
  const ex = await tdb.db('subscription_exceptions').where({ subscription_id: sub.subscriptionId, id: res.body.exceptionId }).first();
  expect(ex.created_by).toBe('support:agent-7');
  expect((await api.request('GET', `${path}/explain?date=${day(5)}`, { token: support })).status).toBe(200);
  const audit = await tdb.db('audit_log').where({ target_id: sub.subscriptionId }).orderBy('id').pluck('action');
  expect(audit).toEqual(['subscription.pause', 'subscription.explain']);
  expect((await api.request('GET', `/v1/subscriptions?customerId=${owner}`, { token: support })).body.subscriptions).toHaveLength(1);

  // Admin holiday: one call, every active subscription of the region gets the skip; customers may not.
  expect((await api.request('POST', '/v1/admin/subscriptions/holidays', { token: api.token(owner), body: { region: 'hol', date: day(10) }, idempotencyKey: uniqueId('idem-') })).status).toBe(403);
  expect((await api.request('POST', '/v1/admin/subscriptions/holidays', { token: api.token('boss', ['admin']), body: { region: 'hol', date: day(1) }, idempotencyKey: uniqueId('idem-') })).status).toBe(422);
  const hol = await api.request('POST', '/v1/admin/subscriptions/holidays', { token: api.token('boss', ['admin']), body: { region: 'hol', date: day(10) }, idempotencyKey: uniqueId('idem-') });
  expect(hol.status).toBe(202);
  await worker.client.workflow.getHandle(hol.body.workflowId).result();
  const explain = await api.request('GET', `${path}/explain?date=${day(10)}`, { token: api.token(owner) });
  expect(explain.body).toMatchObject({ deliver: false, reason: 'skipped', decidedBy: { exception: { id: `H-${day(10)}`, reason: 'holiday' } } });
  const wf = await eventually(async () => {
    const s = (await api.request('GET', path, { token: api.token(owner) })).body.workflow;
    return s?.exceptions?.some((e: { id: string }) => e.id === `H-${day(10)}`) ? s : null;
  });
  expect(wf.exceptions).toHaveLength(2);

  const cancel = await api.request('POST', `${path}/cancel`, { token: api.token(owner), body: {} });
  expect(cancel.status).toBe(200);
  expect(cancel.body.cancelledFrom).toEqual(expect.any(String));
  const row = await tdb.db('subscriptions').where({ id: sub.subscriptionId }).first();
  expect(row.status).toBe('cancelled');
  expect((await api.request('POST', `${path}/pause`, { token: api.token(owner), body: { from: day(20), to: day(21) } })).status).toBe(409);
  await expectLedgerInvariants(tdb.db);
});
