import type { Role } from '../../../domain/capabilities';
import type { TestApi, TestResponse } from '../api';
import type { Db } from '../../../db/knex';
import { createMarket, waitForStatus, wallet } from '../markets';
import { eventually, uniqueId } from '../temporal';
import { conform, futureDate, validObject } from './examples';
import type { Operation } from './openapi';
import type { Fixtures } from './seeds';

const PRODUCT_PRICE = 5_000;
const WALLET_FUNDS = 1_000_000;

function expectStatus(what: string, res: TestResponse, ...statuses: number[]): any {
  if (!statuses.includes(res.status)) throw new Error(`fixture ${what}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/**
 * Real resources through the real API, for the fuzzed requests to aim at: a funded customer with a
 * confirmed order, a subscription and a resting order in an open market; a seller with a product.
 */
export async function createFixtures(api: TestApi, db: Db, operations: Operation[]): Promise<Fixtures> {
  // Bodies follow the document, so a field added or dropped since does not break the fixtures;
  // the values given here are the ones that matter.
  const body = (key: string, values: Record<string, unknown>) => {
    const schema = operations.find((o) => o.key === key)?.body;
    if (!schema) throw new Error(`fixture: ${key} is not in /openapi.json`);
    return { ...validObject(schema), ...(conform(values, schema) as Record<string, unknown>) };
  };
  const users: Record<Role, string> = {
    customer: uniqueId('fzcust'),
    seller: uniqueId('fzsell'),
    support: uniqueId('fzsupp'),
    admin: uniqueId('fzadm'),
    delivery: uniqueId('fzdlv'),
  };
  const as = (role: Role) => api.token(users[role], [role]);
  const key = () => uniqueId('fixture-');

  expectStatus(
    'seller',
    await api.request('POST', '/v1/sellers', {
      token: as('admin'),
      body: body('POST /v1/sellers', {
        sellerId: users.seller,
        name: 'Fixture Dairy',
        commissionBps: 1000,
        bankAccountRef: 'bank_fixture',
      }),
    }),
    201,
  );
  const productId = uniqueId('fzprod');
  expectStatus(
    'product',
    await api.request('POST', `/v1/sellers/${users.seller}/products`, {
      token: as('seller'),
      body: body('POST /v1/sellers/{sellerId}/products', { productId, name: 'Fixture milk', price: PRODUCT_PRICE, stock: 1_000 }),
    }),
    201,
  );

  // Subscriptions need a product listed as subscribable, where the API has such a listing.
  let subscribableProductId = productId;
  if (operations.some((o) => o.key === 'POST /v1/admin/products')) {
    subscribableProductId = uniqueId('fzsubp');
    expectStatus(
      'subscribable product',
      await api.request('POST', '/v1/admin/products', {
        token: as('admin'),
        body: body('POST /v1/admin/products', {
          productId: subscribableProductId,
          sellerId: users.seller,
          name: 'Fixture toned milk',
          unitPrice: 3_000,
          unit: '500 ml',
          stock: 1_000,
        }),
      }),
      201,
    );
  }

  const topup = expectStatus(
    'top-up',
    await api.request('POST', '/v1/wallet/topups', {
      token: as('customer'),
      idempotencyKey: key(),
      body: body('POST /v1/wallet/topups', { amount: WALLET_FUNDS, paymentMethod: 'pm_ok' }),
    }),
    202,
  );
  await eventually(async () => (await wallet(db, users.customer)).available >= WALLET_FUNDS, 30_000);

  const order = expectStatus(
    'order',
    await api.request('POST', '/v1/checkout?wait=true', {
      token: as('customer'),
      idempotencyKey: key(),
      body: body('POST /v1/checkout', { lines: [{ productId, quantity: 1, unitPrice: PRODUCT_PRICE }] }),
    }),
    201,
  );

  const subscription = expectStatus(
    'subscription',
    await api.request('POST', '/v1/subscriptions', {
      token: as('customer'),
      idempotencyKey: key(),
      body: body('POST /v1/subscriptions', {
        productId: subscribableProductId,
        quantity: 1,
        pricePerPeriod: 3_000,
        recurrence: { kind: 'daily' },
        startDate: futureDate(10),
        paymentMethod: 'pm_ok',
      }),
    }),
    201,
  );

  const marketId = await createMarket(api, as('admin'), { opensInMs: 0, closesInMs: 2 * 3_600_000 });
  await waitForStatus(db, marketId, 'open');
  const marketOrder = expectStatus(
    'market order',
    await api.request('POST', `/v1/markets/${marketId}/orders`, {
      token: as('customer'),
      body: body('POST /v1/markets/{marketId}/orders', {
        clientOrderId: 'fixture-order',
        side: 'YES',
        action: 'BUY',
        price: 500,
        quantity: 1,
      }),
    }),
    202,
  );

  // A show with one lot not yet presented: its routes reach real resources, and nothing opens for bids.
  const show = expectStatus(
    'show',
    await api.request('POST', '/v1/shows', {
      token: as('seller'),
      idempotencyKey: key(),
      body: body('POST /v1/shows', { sellerId: users.seller, title: 'Fixture show' }),
    }),
    201,
  );
  const lot = expectStatus(
    'lot',
    await api.request('POST', '/v1/auctions', {
      token: as('seller'),
      idempotencyKey: key(),
      body: body('POST /v1/auctions', {
        sellerId: users.seller,
        productId,
        showId: show.showId,
        startingPrice: 1_000,
        durationSeconds: 60,
      }),
    }),
    201,
  );

  return {
    users,
    productId,
    productPrice: PRODUCT_PRICE,
    subscribableProductId,
    topupId: topup.topupId,
    orderId: order.orderId,
    subscriptionId: subscription.subscriptionId,
    marketId,
    marketOrderId: marketOrder.orderId,
    workflowId: order.workflowId,
    showId: show.showId,
    lotId: lot.lotId,
  };
}
