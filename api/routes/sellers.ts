import { z } from 'zod';
import { accounts } from '../../domain/ledger/accounts';
import { payoutWorkflowId, type PayoutInput } from '../../contracts/payout';
import { getBalance } from '../../db/ledger-reports';
import { isUniqueViolation } from '../../db/errors';
import { findProduct, findSeller, insertProduct, insertReferral, insertSeller, sellerProducts, updateProduct } from '../../db/checkout';
import { activePayout, createPayout, findPayout, sellerPayouts } from '../../db/payouts';
import { payoutWorkflow } from '../../workflows/payout';
import { FlowStatus, SellerId } from '../../workflows/search-attributes';
import { assertActsForSeller } from '../seller-access';
import { ApiError, notFound } from '../errors';
import type { ApiRouter } from '../router';
import { startFlow } from '../flow-start';
import {
  PayoutListSchema,
  PayoutSchema,
  ProductListSchema,
  ProductSchema,
  ReferralSchema,
  SellerBalanceSchema,
  SellerSchema,
  payoutBody,
  productBody,
} from '../views/sellers';

const Id = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be 1-64 letters, digits, _ or -');
const SellerParams = z.strictObject({ sellerId: Id });
const ProductParams = z.strictObject({ productId: Id });
const PayoutParams = z.strictObject({ payoutId: z.string().regex(/^po_[a-f0-9]{24}$/, 'not a payout id') });
const BankRef = z.string().regex(/^[A-Za-z0-9_.:-]{2,64}$/, 'must be a bank account reference');

const SellerBody = z.strictObject({
  sellerId: Id,
  name: z.string().min(1).max(200),
  commissionBps: z.number().int().min(0).max(10_000).describe('platform commission in basis points (1250 = 12.5%)'),
  bankAccountRef: BankRef,
});
const ReferralBody = z.strictObject({
  buyerId: Id,
  referrerId: Id,
  rateBps: z.number().int().min(0).max(10_000),
});
const ProductBody = z.strictObject({
  productId: Id,
  name: z.string().min(1).max(200),
  price: z.number().int().min(1).max(100_000_000).describe('paise'),
  stock: z.number().int().min(0).max(1_000_000),
});
const ProductPatch = z
  .strictObject({
    price: z.number().int().min(1).max(100_000_000).optional(),
    addStock: z.number().int().min(-1_000_000).max(1_000_000).optional().describe('added to the stock (negative removes; never below 0)'),
    active: z.boolean().optional(),
  })
  .refine(
    (b) => b.price !== undefined || b.addStock !== undefined || b.active !== undefined,
    'send at least one of price, addStock, active',
  );

export function registerSellerRoutes(api: ApiRouter): void {
  api.route({
    method: 'post',
    path: '/v1/sellers',
    summary: 'Admin: register a seller with its commission rate and bank account',
    tag: 'sellers',
    capability: 'seller:admin',
    body: SellerBody,
    responses: { 201: { description: 'Registered', schema: SellerSchema }, 409: { description: 'Already registered' } },
    handler: async ({ body, deps, audit }) => {
      try {
        await insertSeller(deps.db, {
          id: body.sellerId,
          name: body.name,
          commissionBps: body.commissionBps,
          bankAccountRef: body.bankAccountRef,
        });
      } catch (err) {
        if (isUniqueViolation(err)) throw new ApiError(409, 'seller_exists', `Seller ${body.sellerId} is already registered`);
        throw err;
      }
      await audit('seller.create', { type: 'seller', id: body.sellerId }, { commissionBps: body.commissionBps });
      return { status: 201, body: { ...body } satisfies z.output<typeof SellerSchema> };
    },
  });

  api.route({
    method: 'post',
    path: '/v1/referrals',
    summary: 'Admin: record who referred a buyer (earns rateBps of each settled order, paid by the platform)',
    tag: 'sellers',
    capability: 'seller:admin',
    body: ReferralBody,
    responses: { 201: { description: 'Recorded', schema: ReferralSchema }, 409: { description: 'The buyer already has a referrer' } },
    handler: async ({ body, deps, audit }) => {
      if (body.buyerId === body.referrerId) throw new ApiError(422, 'self_referral', 'A buyer cannot refer themselves');
      try {
        await insertReferral(deps.db, body);
      } catch (err) {
        if (isUniqueViolation(err)) throw new ApiError(409, 'already_referred', `Buyer ${body.buyerId} already has a referrer`);
        throw err;
      }
      await audit('referral.create', { type: 'user', id: body.buyerId }, { ...body });
      return { status: 201, body: body satisfies z.output<typeof ReferralSchema> };
    },
  });

  api.route({
    method: 'post',
    path: '/v1/sellers/:sellerId/products',
    summary: 'Seller: list a product with its price and stock',
    tag: 'sellers',
    capability: ['seller:manage', 'seller:admin'],
    params: SellerParams,
    body: ProductBody,
    responses: { 201: { description: 'Listed', schema: ProductSchema }, 409: { description: 'Product id taken' } },
    handler: async ({ principal, params, body, deps }) => {
      await assertActsForSeller(deps.db, principal, params.sellerId, 'seller:admin');
      const seller = await findSeller(deps.db, params.sellerId);
      if (!seller) throw notFound('seller');
      try {
        const row = await insertProduct(deps.db, {
          id: body.productId,
          sellerId: params.sellerId,
          name: body.name,
          price: body.price,
          stock: body.stock,
        });
        return { status: 201, body: productBody(row) };
      } catch (err) {
        if (isUniqueViolation(err)) throw new ApiError(409, 'product_exists', `Product ${body.productId} already exists`);
        throw err;
      }
    },
  });

  api.route({
    method: 'get',
    path: '/v1/sellers/:sellerId/products',
    summary: "A seller's products with their stock",
    tag: 'sellers',
    capability: ['seller:manage', 'seller:admin', 'order:read:any'],
    params: SellerParams,
    responses: { 200: { description: 'Products', schema: ProductListSchema } },
    handler: async ({ principal, params, deps }) => {
      await assertActsForSeller(deps.db, principal, params.sellerId, 'order:read:any');
      const rows = await sellerProducts(deps.db, params.sellerId);
      return { status: 200, body: { products: rows.map(productBody) } satisfies z.output<typeof ProductListSchema> };
    },
  });

  api.route({
    method: 'patch',
    path: '/v1/products/:productId',
    summary: 'Seller: change a price, add or remove stock, or stop selling',
    tag: 'sellers',
    capability: ['seller:manage', 'seller:admin'],
    params: ProductParams,
    body: ProductPatch,
    responses: { 200: { description: 'Updated', schema: ProductSchema }, 409: { description: 'Stock would go below zero' } },
    handler: async ({ principal, params, body, deps }) => {
      const product = await findProduct(deps.db, params.productId);
      if (!product) throw notFound('product');
      await assertActsForSeller(deps.db, principal, product.seller_id, 'seller:admin');
      const updated = await updateProduct(deps.db, params.productId, body);
      if (!updated) throw new ApiError(409, 'stock_below_zero', 'Not that much stock left to remove');
      return { status: 200, body: productBody(updated) };
    },
  });

  api.route({
    method: 'get',
    path: '/v1/sellers/:sellerId/balance',
    summary: "A seller's payable (may be negative after refunds) and what is on its way to the bank",
    tag: 'sellers',
    capability: ['seller:manage', 'order:read:any', 'payout:manage:any'],
    params: SellerParams,
    responses: { 200: { description: 'Balances in paise', schema: SellerBalanceSchema } },
    handler: async ({ principal, params, deps }) => {
      await assertActsForSeller(deps.db, principal, params.sellerId, 'order:read:any');
      const [payable, inFlight] = await Promise.all([
        getBalance(deps.db, accounts.sellerPayable(params.sellerId)),
        getBalance(deps.db, accounts.sellerPayoutInFlight(params.sellerId)),
      ]);
      return {
        status: 200,
        body: {
          sellerId: params.sellerId,
          currency: 'INR',
          payable: payable.balance,
          payoutInFlight: inFlight.balance,
        } satisfies z.output<typeof SellerBalanceSchema>,
      };
    },
  });

  api.route({
    method: 'post',
    path: '/v1/sellers/:sellerId/payouts',
    summary: 'Pay the whole positive payable out to the bank',
    tag: 'sellers',
    capability: ['seller:manage', 'payout:manage:any'],
    params: SellerParams,
    idempotent: true,
    rateLimit: 'money',
    responses: {
      202: { description: 'Started; follow it with GET /v1/payouts/{payoutId}', schema: PayoutSchema },
      409: { description: 'A payout is already under way' },
      422: { description: 'Nothing to pay out (payable is zero or negative)' },
    },
    handler: async ({ principal, params, deps, audit }) => {
      await assertActsForSeller(deps.db, principal, params.sellerId, 'payout:manage:any');
      const seller = await findSeller(deps.db, params.sellerId);
      if (!seller) throw notFound('seller');
      // Checked before the payable: a payout under way has already emptied it.
      if (await activePayout(deps.db, params.sellerId)) throw payoutInProgress();
      const payable = await getBalance(deps.db, accounts.sellerPayable(params.sellerId));
      if (payable.balance <= 0) {
        throw new ApiError(422, 'nothing_to_pay', `The payable balance is ${payable.balance} paise; nothing to pay out`, {
          payable: payable.balance,
        });
      }
      const { payout: row, created } = await createPayout(deps.db, {
        sellerId: params.sellerId,
        bankAccountRef: seller.bank_account_ref,
        requestedBy: principal.userId,
      });
      if (!created) throw payoutInProgress(); // a concurrent request (or the weekly sweep) won the race
      const payoutId: string = row.id;
      await startFlow(deps, payoutWorkflow, {
        workflowId: payoutWorkflowId(payoutId),
        args: [{ payoutId, sellerId: params.sellerId } satisfies PayoutInput],
        typedSearchAttributes: [
          { key: SellerId, value: params.sellerId },
          { key: FlowStatus, value: 'pending' },
        ],
      });
      await audit('payout.request', { type: 'seller', id: params.sellerId }, { payoutId });
      return { status: 202, body: payoutBody(row) };
    },
  });

  api.route({
    method: 'get',
    path: '/v1/sellers/:sellerId/payouts',
    summary: "A seller's payouts, newest first (failed ones say why)",
    tag: 'sellers',
    capability: ['seller:manage', 'order:read:any', 'payout:manage:any'],
    params: SellerParams,
    responses: { 200: { description: 'Payouts', schema: PayoutListSchema } },
    handler: async ({ principal, params, deps }) => {
      await assertActsForSeller(deps.db, principal, params.sellerId, 'order:read:any');
      const rows = await sellerPayouts(deps.db, params.sellerId);
      return { status: 200, body: { payouts: rows.map(payoutBody) } satisfies z.output<typeof PayoutListSchema> };
    },
  });

  api.route({
    method: 'get',
    path: '/v1/payouts/:payoutId',
    summary: 'One payout and its status',
    tag: 'sellers',
    capability: ['seller:manage', 'order:read:any', 'payout:manage:any'],
    params: PayoutParams,
    responses: { 200: { description: 'The payout', schema: PayoutSchema } },
    handler: async ({ principal, params, deps }) => {
      const row = await findPayout(deps.db, params.payoutId);
      if (!row) throw notFound('payout');
      await assertActsForSeller(deps.db, principal, row.seller_id, 'order:read:any');
      return { status: 200, body: payoutBody(row) };
    },
  });
}

const payoutInProgress = () => new ApiError(409, 'payout_in_progress', 'A payout for this seller is already under way');
