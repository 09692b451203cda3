import { raiseFlowAlert, resolveFlowAlert } from '../../db/flow-alerts';
import { insertMarket, raiseMarketAlert } from '../../db/market-lifecycle';
import type { TestApi } from '../support/api';
import type { TestDatabase } from '../support/db';
import { startTestSystem, stopTestSystem } from '../support/system';
import { uniqueId } from '../support/temporal';
import { answer } from '../support/typed-client';

let tdb: TestDatabase;
let api: TestApi;
beforeAll(async () => ({ tdb, api } = await startTestSystem()));
afterAll(stopTestSystem);

async function marketWithAlert(status: string): Promise<string> {
  const id = uniqueId('mk_');
  const twoHoursAgo = new Date(Date.now() - 7_200_000);
  const hourAgo = new Date(Date.now() - 3_600_000);
  await insertMarket(tdb.db, {
    id,
    question: 'Six in the 18th over?',
    opensAt: twoHoursAgo,
    closesAt: hourAgo,
    feeBps: 200,
    disputeWindowSeconds: 0,
    resolutionDeadlineSeconds: 60,
    createdBy: 'ops',
  });
  await tdb.db('markets').where({ id }).update({ status });
  await raiseMarketAlert(tdb.db, id, 'resolution_overdue', `market ${id} closed without a result`);
  return id;
}

test('ops see alerts for markets still awaiting a result, newest first; all of them on request', async () => {
  const settled = await marketWithAlert('settled');
  const older = await marketWithAlert('closed');
  const newer = await marketWithAlert('closed');
  const support = api.client(api.token('agent', ['support']));

  const open = await answer(support.GET('/v1/ops/alerts'));
  expect(open.status).toBe(200);
  const markets = (alerts: Array<{ market?: { marketId: string } }>) => alerts.filter((a) => a.market).map((a) => a.market!.marketId);
  expect(markets(open.body.alerts)).toEqual([newer, older]);
  expect(open.body.alerts[0]).toMatchObject({
    kind: 'resolution_overdue',
    market: { status: 'closed', question: 'Six in the 18th over?' },
  });

  const all = await answer(support.GET('/v1/ops/alerts', { params: { query: { open: 'false' } } }));
  expect(markets(all.body.alerts)).toEqual([newer, older, settled]);
});

test('stuck flows of every type share the listing with market alerts, newest first; a resolved one only with open=false', async () => {
  const later = () => new Promise((r) => setTimeout(r, 5)); // raised_at is compared to the millisecond
  const marketId = await marketWithAlert('closed');
  await later();
  const topup = `topup-${uniqueId('tu_')}`;
  const holiday = `holiday-${uniqueId('r')}-2026-09-15`;
  await raiseFlowAlert(tdb.db, {
    workflowId: topup,
    flowType: 'topup',
    step: 'credit',
    reason: 'invalid byte sequence for encoding "UTF8": 0x00',
    code: '22021',
  });
  await later();
  // Text from a failure is stored safely even when it carries the very character that broke the step.
  expect(
    await raiseFlowAlert(tdb.db, { workflowId: holiday, flowType: 'holiday', step: 'add_skips', reason: 'bad\u0000text', code: '22P05' }),
  ).toBe(true);
  expect(
    await raiseFlowAlert(tdb.db, { workflowId: holiday, flowType: 'holiday', step: 'add_skips', reason: 'again', code: '22P05' }),
  ).toBe(false);
  const support = api.client(api.token('agent', ['support']));

  const open = await answer(support.GET('/v1/ops/alerts'));
  const mine = open.body.alerts.filter(
    (a: { flow?: { workflowId: string }; market?: { marketId: string } }) =>
      [topup, holiday].includes(a.flow?.workflowId ?? '') || a.market?.marketId === marketId,
  );
  expect(mine.map((a: { kind: string; flow?: { workflowId: string } }) => a.flow?.workflowId ?? a.kind)).toEqual([
    holiday,
    topup,
    'resolution_overdue',
  ]);
  expect(mine[0]).toMatchObject({
    alertId: expect.stringMatching(/^flow-\d+$/),
    message: 'Stuck on step add_skips: bad text',
    resolvedAt: null,
    flow: { workflowId: holiday, flowType: 'holiday', step: 'add_skips', code: '22P05', resolution: null },
  });
  expect(mine[2].alertId).toMatch(/^market-\d+$/);

  expect(await resolveFlowAlert(tdb.db, holiday, 'add_skips', 'retried')).toBe(1);
  const stillOpen = await answer(support.GET('/v1/ops/alerts'));
  expect(stillOpen.body.alerts.some((a: { flow?: { workflowId: string } }) => a.flow?.workflowId === holiday)).toBe(false);
  const all = await answer(support.GET('/v1/ops/alerts', { params: { query: { open: 'false' } } }));
  expect(all.body.alerts.find((a: { flow?: { workflowId: string } }) => a.flow?.workflowId === holiday)).toMatchObject({
    flow: { resolution: 'retried' },
    resolvedAt: expect.any(String),
  });
  const one = await answer(support.GET('/v1/ops/alerts', { params: { query: { limit: 1 } } }));
  expect(one.body.alerts).toHaveLength(1);
});

test('support endpoints take only our flow ids, and only staff with the flow capability', async () => {
  const support = api.client(api.token('agent', ['support']));
  const onFlow = (workflowId: string) => ({ params: { path: { workflowId } }, body: {} });
  for (const id of [
    'ledger-daily-maintenance',
    'topup-TU_X',
    'checkout-ord_123',
    'market-mk_abc/../x',
    'holiday-blr-2026-9-1',
    `topup-${'a'.repeat(200)}`,
  ]) {
    const res = await answer(support.POST('/v1/ops/flows/{workflowId}/retry', onFlow(id)));
    expect([id, res.status, res.body.error.code]).toEqual([id, 400, 'validation_failed']);
  }
  const customer = api.client(api.token('cust'));
  expect((await answer(customer.POST('/v1/ops/flows/{workflowId}/retry', onFlow(`topup-${uniqueId('tu_')}`)))).status).toBe(403);
  const seller = api.client(api.token('seller', ['seller']));
  expect((await answer(seller.POST('/v1/ops/flows/{workflowId}/abandon', onFlow(`topup-${uniqueId('tu_')}`)))).status).toBe(403);
  const admin = api.client(api.token('boss', ['admin']));
  const missing = await answer(admin.POST('/v1/ops/flows/{workflowId}/retry', onFlow(`payout-po_${'0'.repeat(24)}`)));
  expect([missing.status, missing.body.error.code]).toEqual([404, 'not_found']);
});

test('a raised alert is raised once; customers cannot read alerts; bad filters are a 400', async () => {
  const id = await marketWithAlert('closed');
  expect(await raiseMarketAlert(tdb.db, id, 'resolution_overdue', 'again')).toBe(false);
  expect((await answer(api.client(api.token('cust')).GET('/v1/ops/alerts'))).status).toBe(403);
  const admin = api.client(api.token('ops', ['admin']));
  const bad = await answer(
    admin.GET('/v1/ops/alerts', {
      // @ts-expect-error open is 'true' or 'false' on purpose: anything else must be refused
      params: { query: { open: 'maybe' } },
    }),
  );
  expect([bad.status, bad.body.error.code]).toEqual([400, 'validation_failed']);
});
