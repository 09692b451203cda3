import { STAFF_REASON_HEADER } from '../../api/router';
import type { TestApi } from '../support/api';
import { type TestDatabase } from '../support/db';
import { startTestSystem, stopTestSystem } from '../support/system';
import { uniqueId } from '../support/temporal';

/**
 * The reason a staff member gives reaches the audit row of every audited action: sent as
 * X-Staff-Reason (percent-encoded UTF-8, trimmed, bounded), or the route's own `reason` field where
 * it has one; a bad header is a 400 before anything is done.
 */
let tdb: TestDatabase;
let api: TestApi;
beforeAll(async () => ({ tdb, api } = await startTestSystem()));
afterAll(stopTestSystem);

const admin = (id = uniqueId('admin_')) => api.token(id, ['admin']);

function createSeller(sellerId: string, headers: Record<string, string> = {}) {
  return api.request('POST', '/v1/sellers', {
    token: admin('admin_meera'),
    headers,
    body: { sellerId, name: `Seller ${sellerId}`, commissionBps: 1000, bankAccountRef: 'ok:HDFC0001' },
  });
}

const auditOf = (action: string, targetId: string) => tdb.db('audit_log').where({ action, target_id: targetId });

test('the header is written to the audit row of an action whose body has no reason; decoded and trimmed', async () => {
  const sellerId = uniqueId('s_');
  const reason = 'Onboarding call: बैंक खाता जाँचा गया';
  const res = await createSeller(sellerId, { [STAFF_REASON_HEADER]: `  ${encodeURIComponent(reason)} ` });
  expect(res.status).toBe(201);
  expect(await auditOf('seller.create', sellerId)).toEqual([
    expect.objectContaining({ actor: 'admin_meera', details: { commissionBps: 1000, reason } }),
  ]);
});

test('without the header the row has no reason, as before', async () => {
  const sellerId = uniqueId('s_');
  expect((await createSeller(sellerId)).status).toBe(201);
  expect(await auditOf('seller.create', sellerId)).toEqual([expect.objectContaining({ details: { commissionBps: 1000 } })]);
});

test.each([
  ['too long', 'x'.repeat(501)],
  ['too short once trimmed', '  ok '],
  ['not percent-encoded UTF-8', 'fifty%zz off'],
  ['a control character', encodeURIComponent('line\u0007bell')],
])('a header that is %s is a 400 and nothing is done or written', async (_label, value) => {
  const sellerId = uniqueId('s_');
  const res = await createSeller(sellerId, { [STAFF_REASON_HEADER]: value });
  expect([res.status, res.body.error.code, res.body.error.details]).toEqual([400, 'invalid_staff_reason', { header: STAFF_REASON_HEADER }]);
  expect(await tdb.db('sellers').where({ id: sellerId })).toEqual([]);
  expect(await auditOf('seller.create', sellerId)).toEqual([]);
});

test('a route whose body has a reason keeps that one; the header fills in where it is missing', async () => {
  const bodyReason = 'Customer asked by phone; ticket 4411';
  const res = await api.request('POST', `/v1/ops/reconciliation/ledger_drift/all/recheck`, {
    token: api.token('agent_noor', ['support']),
    idempotencyKey: uniqueId('idem-'),
    headers: { [STAFF_REASON_HEADER]: encodeURIComponent('something else') },
    body: { reason: bodyReason },
  });
  expect(res.status).toBe(200);
  const rows = await tdb.db('audit_log').where({ action: 'reconciliation.recheck', actor: 'agent_noor' });
  expect(rows).toEqual([expect.objectContaining({ details: expect.objectContaining({ reason: bodyReason }) })]);
});

test('the reason shows in the customer 360 audit trail', async () => {
  const buyerId = uniqueId('usr_');
  const reason = 'Referral agreed with the partner shop';
  const res = await api.request('POST', '/v1/referrals', {
    token: admin('admin_ravi'),
    headers: { [STAFF_REASON_HEADER]: encodeURIComponent(reason) },
    body: { buyerId, referrerId: uniqueId('usr_'), rateBps: 200 },
  });
  expect(res.status).toBe(201);
  const seen = await api.request('GET', `/v1/ops/customers?userId=${buyerId}`, { token: api.token('agent_ila', ['support']) });
  expect(seen.status).toBe(200);
  expect(seen.body.audit).toEqual(
    expect.arrayContaining([
      expect.objectContaining({ actor: 'admin_ravi', action: 'referral.create', details: expect.objectContaining({ reason }) }),
    ]),
  );
});

test('the header is declared, optional, on the routes staff can call and not on customer-only ones', async () => {
  const doc = (await api.request('GET', '/openapi.json')).body;
  const header = (path: string, method: string) =>
    (doc.paths[path][method].parameters ?? []).find(
      (p: { in: string; name: string }) => p.in === 'header' && p.name === STAFF_REASON_HEADER,
    );
  expect(header('/v1/sellers', 'post')).toMatchObject({ required: false });
  expect(header('/v1/subscriptions/{subscriptionId}/pause', 'post')).toMatchObject({ required: false });
  expect(header('/v1/wallet/topups', 'post')).toBeUndefined();
});
