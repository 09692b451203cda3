import type { Browser } from 'playwright-core';
import { addDays, localDateOf } from '../../domain/schedule';
import type { TestApi } from '../support/api';
import { seedSubscribableProduct } from '../support/catalog';
import { fundWallet } from '../support/checkout';
import { expectLedgerInvariants, type TestDatabase } from '../support/db';
import { startTestSystem, stopTestSystem } from '../support/system';
import { eventually, uniqueId } from '../support/temporal';
import { confirmAction, launchBrowser, openConsole, screenshot, signInWithToken } from './console-browser';

/**
 * The Customer page in a real headless Chromium against the running system: support finds a
 * customer, sees the next delivery dates computed live, pauses the subscription with a reason,
 * and the next dates move past the pause; "why no delivery on D?" names the pause; the action is
 * in the customer's audit trail.
 */
let tdb: TestDatabase;
let api: TestApi;
let browser: Browser;

beforeAll(async () => {
  ({ tdb, api } = await startTestSystem());
  browser = await launchBrowser();
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await stopTestSystem();
});

const today = localDateOf(Date.now(), 'Asia/Kolkata');
const day = (n: number) => addDays(today, n);

test('support pauses a subscription from the Customer page and the next delivery dates change', async () => {
  const milk = await seedSubscribableProduct(api, { unitPrice: 3_000, unit: '500 ml' });
  const customer = uniqueId('cust_');
  const created = await api.request('POST', '/v1/subscriptions', {
    token: api.token(customer),
    idempotencyKey: uniqueId('idem-'),
    body: {
      productId: milk.productId,
      quantity: 1,
      recurrence: { kind: 'daily' },
      startDate: day(3),
      region: 'blr',
      paymentMethod: 'pm_ok',
    },
  });
  expect(created.status).toBe(201);
  const subscriptionId: string = created.body.subscriptionId;
  // The first renewal is charged by the workflow (the card, as the wallet is empty).
  await eventually(async () => (await tdb.db('subscriptions').where({ id: subscriptionId }).first()).billing_state === 'paid');

  const page = await openConsole(browser, api.url);
  await signInWithToken(page, api.token(uniqueId('agent_'), ['support']));
  await page.getByRole('link', { name: 'Customer' }).click();
  await page.locator('input[name="customer"]').fill(customer);
  await page.getByRole('button', { name: 'Find' }).click();
  const next = page.getByTestId(`next-deliveries-${subscriptionId}`);
  await next.getByText(`${day(3)}×1, ${day(4)}×1, ${day(5)}×1, ${day(6)}×1`).waitFor();

  await page.getByTestId(`pause-${subscriptionId}`).click();
  await confirmAction(page, 'Customer is travelling, asked by phone', { from: day(3), to: day(5), kind: 'vacation' });
  await next.getByText(`${day(6)}×1, ${day(7)}×1, ${day(8)}×1, ${day(9)}×1`).waitFor();
  await page.getByText(`Paused ${day(3)} → ${day(5)}`).waitFor();

  const card = page.getByTestId(`subscription-${subscriptionId}`);
  await card.locator('input[name="explain-date"]').fill(day(4));
  await card.getByRole('button', { name: 'Explain' }).click();
  await page.getByTestId(`explain-${subscriptionId}`).getByText('exception E', { exact: false }).waitFor();
  await page.getByTestId('audit').getByText('subscription.pause', { exact: false }).waitFor();
  await screenshot(page, 'customer');

  const exceptions = await tdb.db('subscription_exceptions').where({ subscription_id: subscriptionId });
  expect(exceptions).toEqual([expect.objectContaining({ type: 'skip' })]);
  await expectLedgerInvariants(tdb.db);
  await page.context().close();
});

test('skip, extra delivery, pause, resume and cancel from the Customer page; the wallet on a date; every change in the audit trail', async () => {
  const milk = await seedSubscribableProduct(api, { unitPrice: 2_500, unit: '1 l' });
  const customer = uniqueId('cust_');
  await fundWallet(tdb.db, customer, 5_000);
  const created = await api.request('POST', '/v1/subscriptions', {
    token: api.token(customer),
    idempotencyKey: uniqueId('idem-'),
    body: {
      productId: milk.productId,
      quantity: 1,
      recurrence: { kind: 'daily' },
      startDate: day(3),
      region: 'blr',
      paymentMethod: 'pm_ok',
    },
  });
  expect(created.status).toBe(201);
  const subscriptionId: string = created.body.subscriptionId;
  await eventually(async () => (await tdb.db('subscriptions').where({ id: subscriptionId }).first()).billing_state === 'paid');

  const page = await openConsole(browser, api.url);
  await signInWithToken(page, api.token(uniqueId('agent_'), ['support']));
  await page.goto(`${api.url}/console/#/customer?userId=${customer}`);
  const next = page.getByTestId(`next-deliveries-${subscriptionId}`);
  await next.getByText(`${day(3)}×1, ${day(4)}×1`, { exact: false }).waitFor();
  const card = page.getByTestId(`subscription-${subscriptionId}`);

  // The wallet at the end of today, summed from the journal (no nightly snapshot yet).
  const wallet = page.getByTestId('customer-view').locator('section').nth(1);
  await wallet.locator('input[placeholder="YYYY-MM-DD"]').fill(today);
  await wallet.getByRole('button', { name: 'Show' }).click();
  await page.getByTestId('balance-on').getByText('from the journal', { exact: false }).waitFor();

  await card.getByRole('button', { name: 'Skip' }).click();
  await confirmAction(page, 'Not home that day', { from: day(3), to: day(3), kind: 'special_request' });
  await next.getByText(`${day(4)}×1, ${day(5)}×1, ${day(6)}×1, ${day(7)}×1`).waitFor();
  await card.getByRole('button', { name: 'Extra delivery' }).click();
  await confirmAction(page, 'Guests visiting', { date: day(5), quantity: '2' });
  await card.getByText('Exceptions (2)').waitFor();
  await next.getByText(`${day(4)}×1, ${day(5)}×3`, { exact: false }).waitFor();

  await card.getByRole('button', { name: 'Pause' }).click();
  await confirmAction(page, 'Away for two days', { from: day(6), to: day(7), kind: 'vacation' });
  await next.getByText(`${day(4)}×1, ${day(5)}×3, ${day(8)}×1, ${day(9)}×1`).waitFor();
  await card.getByRole('button', { name: 'Resume' }).click();
  await confirmAction(page, 'Back early', { from: day(6) });
  await next.getByText(`${day(4)}×1, ${day(5)}×3, ${day(6)}×1, ${day(7)}×1`).waitFor();

  await card.getByRole('button', { name: 'Cancel subscription' }).click();
  await confirmAction(page, 'Moving out of Bengaluru');
  await card.getByText('· cancelled ·', { exact: false }).waitFor();
  await screenshot(page, 'customer-changes');

  const audit = await tdb.db('audit_log').where({ target_id: subscriptionId }).orderBy('id');
  expect(audit.map((a: { action: string }) => a.action)).toEqual([
    'subscription.skip',
    'subscription.deliver_extra',
    'subscription.pause',
    'subscription.resume',
    'subscription.cancel',
  ]);
  expect(audit[4].details.request).toMatchObject({ reason: 'Moving out of Bengaluru' });
  // The reason asked for each action reaches its audit row (sent as X-Staff-Reason), and the trail shows it.
  expect(audit.map((a: { details: { reason?: string } }) => a.details.reason)).toEqual([
    'Not home that day',
    'Guests visiting',
    'Away for two days',
    'Back early',
    'Moving out of Bengaluru',
  ]);
  await page.getByTestId('audit').getByText('subscription.cancel', { exact: false }).waitFor();
  await page.getByTestId('audit').getByTestId('audit-reason').getByText('Away for two days', { exact: false }).waitFor();
  await expectLedgerInvariants(tdb.db);
  await page.context().close();
});
