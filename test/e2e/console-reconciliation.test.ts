import { randomUUID } from 'node:crypto';
import type { Browser } from 'playwright-core';
import { checkoutStateQuery, checkoutWorkflowId, markDeliveredSignal } from '../../contracts/checkout';
import { retryStepSignal } from '../../contracts/stuck';
import { grantRoles, userForPhone } from '../../db/identity';
import { insertMarket } from '../../db/market-lifecycle';
import { accounts } from '../../domain/ledger/accounts';
import { checkoutWorkflow } from '../../workflows/checkout';
import type { TestApi } from '../support/api';
import { balanceOf, fundWallet, placeOrder, seedProduct, seedSeller } from '../support/checkout';
import { expectLedgerInvariants, type TestDatabase } from '../support/db';
import { startTestSystem, stopTestSystem } from '../support/system';
import { eventually, uniqueId, type TestWorker } from '../support/temporal';
import { confirmAction, launchBrowser, openConsole, screenshot, signInWithToken } from './console-browser';

/**
 * The built console in a real headless Chromium against the running system: support signs in
 * with phone and code, a checkout parked on a step shows in Reconciliation, one click on retry
 * (with a reason) completes it — the row goes, the order moves on and settles, the ledger holds;
 * the Seller and Markets pages show what they are for; a customer's token gets a 403.
 */
let tdb: TestDatabase;
let worker: TestWorker;
let api: TestApi;
let browser: Browser;

beforeAll(async () => {
  ({ tdb, worker, api } = await startTestSystem());
  browser = await launchBrowser();
  await tdb.db.raw(`
    CREATE FUNCTION test_unfixable() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION 'invalid byte sequence for encoding "UTF8": 0x00' USING ERRCODE = '22021';
    END $$`);
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await stopTestSystem();
});

/** A bug in waiting: writes to this product fail as bad data does. Returns the fix. */
async function breakProduct(productId: string): Promise<() => Promise<void>> {
  const name = `t_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  await tdb.db.raw(
    `CREATE TRIGGER ${name} BEFORE UPDATE ON products FOR EACH ROW WHEN (NEW.id = '${productId}') EXECUTE FUNCTION test_unfixable()`,
  );
  return async () => {
    await tdb.db.raw(`DROP TRIGGER ${name} ON products`);
  };
}

/** A support agent with a real account (the phone's user, granted support as an admin would); the browser logs in with the code. */
async function supportAgentPhone(): Promise<string> {
  const phone = `+9198${String(Math.floor(Math.random() * 1e8)).padStart(8, '0')}`;
  const { user } = await tdb.db.transaction((trx) => userForPhone(trx, phone));
  await grantRoles(tdb.db, user.id, ['support'], 'test-admin');
  return phone;
}

test('a stuck checkout shows in Reconciliation; one click on retry completes it, and the ledger holds', async () => {
  const sellerId = await seedSeller(tdb.db, { commissionBps: 1000 });
  const productId = await seedProduct(tdb.db, sellerId, 2_500, 3);
  const buyer = uniqueId('b_');
  await fundWallet(tdb.db, buyer, 2_500);
  const input = await placeOrder(tdb.db, { buyerId: buyer, sellerId, lines: [{ productId, quantity: 1 }], returnWindowMs: 100 });
  const fix = await breakProduct(productId);
  const workflowId = checkoutWorkflowId(input.orderId);
  const h = await worker.client.workflow.start(checkoutWorkflow, { taskQueue: worker.taskQueue, workflowId, args: [input] });
  // The step it parks on: `place` (validate, reserve, charge in one local activity) or `reserve`.
  const step = await eventually(async () => (await h.query(checkoutStateQuery)).stuckStep);
  const marketId = uniqueId('mk_');
  await insertMarket(tdb.db, {
    id: marketId,
    question: 'Will Karnataka win the Ranji final?',
    opensAt: new Date(Date.now() + 3_600_000),
    closesAt: new Date(Date.now() + 7_200_000),
    feeBps: 200,
    disputeWindowSeconds: 0,
    resolutionDeadlineSeconds: 3600,
    createdBy: 'ops',
  });

  const phone = await supportAgentPhone();
  const page = await openConsole(browser, api.url);
  await page.locator('input[name="phone"]').fill(phone);
  await page.getByRole('button', { name: 'Send code' }).click();
  const devCode = (await page.locator('.dev').textContent())!.match(/\d{6}/)![0];
  await page.locator('input[name="code"]').fill(devCode);
  await page.getByRole('button', { name: 'Sign in' }).click();

  const row = page.getByTestId(`item-${workflowId}`);
  await row.waitFor();
  await expect(row.textContent()).resolves.toContain(`Stuck on step ${step}`);
  await expect(row.textContent()).resolves.toContain('₹25.00');
  await expect(page.getByTestId('count-checkout_stuck').textContent()).resolves.toContain('1');
  await screenshot(page, 'reconciliation');

  await fix();
  await page.getByTestId(`action-retry-${workflowId}`).click();
  await confirmAction(page, 'Stock table trigger removed; retrying the reservation');
  await page.getByTestId('action-log').getByText(`sent ${retryStepSignal.name}`, { exact: false }).waitFor();
  await row.waitFor({ state: 'detached' });
  await eventually(async () => (await h.query(checkoutStateQuery)).confirmed);
  expect((await tdb.db('orders').where({ id: input.orderId }).first()).status).not.toBe('stuck');
  const audit = await tdb.db('audit_log').where({ action: 'reconciliation.retry', target_id: workflowId });
  expect(audit).toEqual([
    expect.objectContaining({
      target_type: 'checkout_stuck',
      details: expect.objectContaining({ reason: 'Stock table trigger removed; retrying the reservation', step }),
    }),
  ]);

  await h.signal(markDeliveredSignal, { by: sellerId });
  expect(await h.result()).toMatchObject({ status: 'completed', stuckStep: null });
  expect(await balanceOf(tdb.db, accounts.sellerPayable(sellerId))).toBe(2_250);
  await expectLedgerInvariants(tdb.db);

  await page.goto(`${api.url}/console/#/seller?sellerId=${sellerId}`);
  await page.getByTestId('seller-balance').getByText('Payable ₹22.50').waitFor();
  await screenshot(page, 'seller');
  await page.goto(`${api.url}/console/#/markets?marketId=${marketId}`);
  await page.getByTestId('market-detail').getByText('Will Karnataka win the Ranji final?').waitFor();
  await screenshot(page, 'markets');
  await page.context().close();
});

test("a customer's token opens the console but none of its data: the API answers 403", async () => {
  const page = await openConsole(browser, api.url);
  await signInWithToken(page, api.token(uniqueId('cust_'), ['customer']));
  await expect(page.getByTestId('failure').textContent()).resolves.toMatch(/^403 forbidden: Forbidden/);
  await expect(page.getByTestId('reconciliation-table').locator('tbody tr').count()).resolves.toBe(0);
  await page.goto(`${api.url}/console/#/customer?userId=someone`);
  await page.getByTestId('failure').getByText('403', { exact: false }).waitFor();
  await screenshot(page, 'customer-token-refused');
  await page.context().close();
});

test('the console is served at /console with its SPA fallback, and the API stays JSON beside it', async () => {
  const index = await fetch(`${api.url}/console/`);
  expect([index.status, index.headers.get('content-type')]).toEqual([200, expect.stringContaining('text/html')]);
  const deep = await fetch(`${api.url}/console/customer/anything`);
  expect(deep.status).toBe(200);
  expect(await deep.text()).toContain('<div id="root">');
  const missing = await fetch(`${api.url}/console/assets/nothing-here.js`);
  expect(missing.status).toBe(404);
  expect((await api.request('GET', '/v1/ops/reconciliation', { token: api.token('c1') })).status).toBe(403);
});
