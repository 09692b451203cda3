import { insertMarket, raiseMarketAlert } from '../../db/market-lifecycle';
import type { TestApi } from '../support/api';
import type { TestDatabase } from '../support/db';
import { startTestSystem, stopTestSystem } from '../support/system';
import { uniqueId } from '../support/temporal';

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
  const support = api.token('agent', ['support']);

  const open = await api.request('GET', '/v1/ops/alerts', { token: support });
  expect(open.status).toBe(200);
  expect(open.body.alerts.map((a: { market: { marketId: string } }) => a.market.marketId)).toEqual([newer, older]);
  expect(open.body.alerts[0]).toMatchObject({ kind: 'resolution_overdue', market: { status: 'closed', question: 'Six in the 18th over?' } });

  const all = await api.request('GET', '/v1/ops/alerts?open=false', { token: support });
  expect(all.body.alerts.map((a: { market: { marketId: string } }) => a.market.marketId)).toEqual([newer, older, settled]);
});

test('a raised alert is raised once; customers cannot read alerts; bad filters are a 400', async () => {
  const id = await marketWithAlert('closed');
  expect(await raiseMarketAlert(tdb.db, id, 'resolution_overdue', 'again')).toBe(false);
  expect((await api.request('GET', '/v1/ops/alerts', { token: api.token('cust') })).status).toBe(403);
  const bad = await api.request('GET', '/v1/ops/alerts?open=maybe', { token: api.token('ops', ['admin']) });
  expect([bad.status, bad.body.error.code]).toEqual([400, 'validation_failed']);
});
