import type { Browser } from 'playwright-core';
import { createPayout } from '../../db/payouts';
import { insertTopup } from '../../db/topups';
import { startTestApi, type TestApi } from '../support/api';
import { seedSeller } from '../support/checkout';
import { expectLedgerInvariants, type TestDatabase } from '../support/db';
import { unansweredPayout } from '../support/payouts';
import { startTestSystem, stopTestSystem } from '../support/system';
import { eventually, uniqueId, type TestWorker } from '../support/temporal';
import { confirmAction, launchBrowser, openConsole, screenshot, signInWithToken } from './console-browser';

/**
 * The console's Reconciliation filters, Seller and Markets pages in a real headless Chromium
 * against the running system: counts per kind and the kind, age and amount filters narrow the
 * list; the Seller page shows payouts with their bank state and failure code; an admin suspends
 * and resumes a trading market from the Markets page, each confirmed with a reason and audited;
 * support marks a payout the bank has not answered as paid from the statement, and the Seller page
 * shows its UTR.
 */
let tdb: TestDatabase;
let worker: TestWorker;
let api: TestApi;
/** The same system's API as deployed with the Temporal Web UI's address, so rows link to their workflows. */
let linked: TestApi;
let browser: Browser;
const TEMPORAL_UI_URL = 'http://temporal-ui.example:8080';

beforeAll(async () => {
  ({ tdb, worker, api } = await startTestSystem());
  linked = await startTestApi({ db: tdb.db, temporal: worker.client, taskQueue: worker.taskQueue, env: { TEMPORAL_UI_URL } });
  browser = await launchBrowser();
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await linked?.close();
  await stopTestSystem();
});

const hoursAgo = (h: number) => new Date(Date.now() - h * 3_600_000);

test('Reconciliation: counts per kind, the kind, age and amount filters, and each row’s link to its workflow in the Temporal UI', async () => {
  const sellerId = await seedSeller(tdb.db);
  const { payout } = await createPayout(tdb.db, { sellerId, bankAccountRef: 'fails:HDFC0001', requestedBy: 'ops' });
  await tdb
    .db('payouts')
    .where({ id: payout.id })
    .update({ status: 'failed', amount: 9_900, provider_state: 'failed', failure_code: 'INVALID_ACCOUNT', updated_at: hoursAgo(3) });
  const small = uniqueId('tu_');
  const big = uniqueId('tu_');
  await insertTopup(tdb.db, { id: small, userId: uniqueId('u_'), amount: 20_000, paymentMethod: 'pm_timeout' });
  await insertTopup(tdb.db, { id: big, userId: uniqueId('u_'), amount: 80_000, paymentMethod: 'pm_timeout' });
  await tdb
    .db('topups')
    .whereIn('id', [small, big])
    .update({ status: 'awaiting_confirmation', created_at: hoursAgo(1) });

  const page = await openConsole(browser, linked.url);
  await signInWithToken(page, linked.token(uniqueId('agent_'), ['support']));
  const rows = page.getByTestId('reconciliation-table').locator('tbody tr');
  await page.getByTestId(`item-${payout.id}`).getByText('Payout failed: INVALID_ACCOUNT', { exact: false }).waitFor();
  const link = page.getByTestId(`item-${payout.id}`).getByRole('link', { name: `payout-${payout.id}` });
  await expect(link.getAttribute('href')).resolves.toBe(`${TEMPORAL_UI_URL}/namespaces/default/workflows/payout-${payout.id}`);
  await expect(link.getAttribute('target')).resolves.toBe('_blank');
  await eventually(async () => (await rows.count()) === 3);
  await expect(page.getByTestId('count-topup_unconfirmed').textContent()).resolves.toMatch(/Top-ups 2$/);
  await expect(page.getByTestId('count-payout_unsettled').textContent()).resolves.toMatch(/Payouts 1$/);

  await page.getByTestId('count-topup_unconfirmed').click();
  await page.getByTestId(`item-${payout.id}`).waitFor({ state: 'detached' });
  await eventually(async () => (await rows.count()) === 2);
  await page.locator('input[name="minAmount"]').fill('500');
  await page.getByTestId(`item-${small}`).waitFor({ state: 'detached' });
  await page.getByTestId(`item-${big}`).waitFor();
  await page.locator('input[name="minAmount"]').fill('');
  await page.locator('input[name="maxAmount"]').fill('500');
  await page.getByTestId(`item-${big}`).waitFor({ state: 'detached' });
  await page.getByTestId(`item-${small}`).waitFor();

  await page.locator('input[name="maxAmount"]').fill('');
  await page.getByRole('button', { name: /^All/ }).click();
  await page.locator('input[name="olderThan"]').fill('2h');
  await page.getByTestId(`item-${small}`).waitFor({ state: 'detached' });
  await page.getByTestId(`item-${payout.id}`).waitFor();
  await eventually(async () => (await rows.count()) === 1);
  // The counts follow the age filter too.
  await expect(page.getByTestId('count-topup_unconfirmed').textContent()).resolves.toMatch(/Top-ups 0$/);
  await screenshot(page, 'reconciliation-filtered');

  await page.goto(`${linked.url}/console/#/seller?sellerId=${sellerId}`);
  await page.getByText('INVALID_ACCOUNT', { exact: false }).waitFor();
  await page.getByTestId('seller-balance').getByText('Payable ₹0.00').waitFor();
  await screenshot(page, 'seller-payouts');
  await page.context().close();
});

test('Markets: an admin suspends a trading market and resumes it from the page, each confirmed with a reason and audited', async () => {
  const admin = api.token(uniqueId('admin_'), ['admin']);
  const now = Date.now();
  const created = await api.request('POST', '/v1/markets', {
    token: admin,
    idempotencyKey: uniqueId('idem-'),
    body: {
      question: 'Will Bengaluru FC score first?',
      opensAt: new Date(now + 500).toISOString(),
      closesAt: new Date(now + 3_600_000).toISOString(),
      feeBps: 100,
      suspendCancelsOrders: false,
      resumeDelaySeconds: 0,
    },
  });
  expect(created.status).toBe(201);
  const marketId: string = created.body.marketId;
  await eventually(async () => (await tdb.db('markets').where({ id: marketId }).first()).status === 'open');

  const page = await openConsole(browser, api.url);
  await signInWithToken(page, admin);
  await page.goto(`${api.url}/console/#/markets`);
  await page.getByTestId('market-status-open').click();
  await page.getByTestId('markets-table').getByRole('link', { name: 'Will Bengaluru FC score first?' }).click();
  const detail = page.getByTestId('market-detail');
  await detail.getByTestId('market-status').getByText('open').waitFor();
  await detail.getByTestId('recent-trades').getByText('No trades', { exact: false }).waitFor();
  await detail.getByTestId('last-trades').getByText('No trades yet.').waitFor();

  await page.getByTestId('market-suspend').click();
  await page.getByRole('dialog').getByText('resting orders are kept', { exact: false }).waitFor();
  await confirmAction(page, 'Penalty awarded, in play');
  await page.getByTestId('market-action-log').getByText('Suspended: ', { exact: false }).waitFor();
  await detail.getByTestId('market-status').getByText('suspended', { exact: false }).waitFor();
  await screenshot(page, 'markets-suspended');
  const suspended = await api.request('POST', `/v1/markets/${marketId}/orders`, {
    token: api.token(uniqueId('trader_')),
    idempotencyKey: uniqueId('idem-'),
    body: { clientOrderId: uniqueId('co-'), side: 'YES', action: 'BUY', price: 500, quantity: 1 },
  });
  expect(suspended.body.error?.code).toBe('market_suspended');

  await page.getByTestId('market-resume').click();
  await confirmAction(page, 'Ball dead, trading again');
  await page.getByTestId('market-action-log').getByText('Resumed: trading restarts', { exact: false }).waitFor();
  await detail.getByTestId('market-status').getByText('suspended', { exact: false }).waitFor({ state: 'detached' });

  const audit = await tdb.db('audit_log').where({ target_id: marketId }).orderBy('id');
  expect(audit.map((a: { action: string; details: Record<string, unknown> }) => [a.action, a.details])).toEqual([
    ['market.create', expect.anything()],
    ['market.suspend', { source: 'console: Penalty awarded, in play', reason: 'Penalty awarded, in play' }],
    ['market.resume', { reason: 'Ball dead, trading again' }],
  ]);
  await expectLedgerInvariants(tdb.db);
  await page.context().close();
});

test('Reconciliation → Seller: a payout the bank has not answered is marked paid from the statement; the Seller page shows its UTR', async () => {
  const { sellerId, payoutId, h } = await unansweredPayout(tdb, worker, 4_900);

  const page = await openConsole(browser, api.url);
  await signInWithToken(page, api.token('agent_uma', ['support']));
  await page.getByTestId(`action-mark_settled-${payoutId}`).click();
  await confirmAction(page, 'HDFC statement shows the credit', { outcome: 'paid', utr: 'HDFCN27120354321' });
  await page.getByTestId('action-log').getByText('UTR HDFCN27120354321', { exact: false }).waitFor();
  await page.getByTestId(`item-${payoutId}`).waitFor({ state: 'detached' });
  expect(await h.result()).toMatchObject({ status: 'paid', utr: 'HDFCN27120354321' });

  await page.goto(`${api.url}/console/#/seller?sellerId=${sellerId}`);
  await page.getByTestId(`payout-${payoutId}`).getByTestId('payout-utr').getByText('HDFCN27120354321').waitFor();
  await screenshot(page, 'seller-payout-marked');
  const audit = await tdb.db('audit_log').where({ action: 'reconciliation.mark_settled', target_id: payoutId });
  expect(audit).toEqual([
    expect.objectContaining({
      actor: 'agent_uma',
      details: expect.objectContaining({ reason: 'HDFC statement shows the credit', utr: 'HDFCN27120354321' }),
    }),
  ]);
  await expectLedgerInvariants(tdb.db);
  await page.context().close();
});
