/** What the seller, product and payout routes answer with (api/routes/sellers.ts), as documented in the OpenAPI. */
import { z } from 'zod';
import { payoutWorkflowId } from '../../contracts/payout';
import type { ProductRow } from '../../db/checkout';
import type { PayoutRow } from '../../db/payouts';

/** The payouts row's status (the flow's FlowStatus has more: unknown, awaiting_bank). */
const PAYOUT_ROW_STATUSES = ['pending', 'in_flight', 'paid', 'failed', 'skipped'] as const;

export const SellerSchema = z
  .object({
    sellerId: z.string(),
    name: z.string(),
    commissionBps: z.number().int().describe('platform commission in basis points (1250 = 12.5%)'),
    bankAccountRef: z.string(),
  })
  .meta({
    id: 'Seller',
    description: 'The seller as registered.',
    example: { sellerId: 'dairy-fresh', name: 'Dairy Fresh', commissionBps: 1_250, bankAccountRef: 'HDFC-0001234567' },
  });

export const ReferralSchema = z
  .object({
    buyerId: z.string(),
    referrerId: z.string(),
    rateBps: z.number().int().describe('the referrer’s share of each settled order, basis points'),
  })
  .meta({ id: 'Referral', example: { buyerId: 'usr_asha', referrerId: 'usr_ravi', rateBps: 200 } });

const productExample = { productId: 'milk-1l', sellerId: 'dairy-fresh', name: 'Toned milk, 1 l', price: 6_800, stock: 500, active: true };

export const ProductSchema = z
  .object({
    productId: z.string(),
    sellerId: z.string(),
    name: z.string(),
    price: z.number().int().describe('paise'),
    stock: z.number().int().describe('units not yet reserved by an order'),
    active: z.boolean().describe('false: no longer sold (checkout refuses it)'),
  })
  .meta({ id: 'Product', example: productExample });

export const ProductListSchema = z
  .object({ products: z.array(ProductSchema) })
  .meta({ id: 'ProductList', example: { products: [productExample] } });

export const SellerBalanceSchema = z
  .object({
    sellerId: z.string(),
    currency: z.literal('INR'),
    payable: z.number().int().describe('paise owed to the seller; negative after a refund clawed back more than was owed'),
    payoutInFlight: z.number().int().describe('paise on their way to the bank'),
  })
  .meta({ id: 'SellerBalance', example: { sellerId: 'dairy-fresh', currency: 'INR', payable: 118_400, payoutInFlight: 0 } });

const payoutExample = {
  payoutId: 'po_1a2b3c4d5e6f708192a3b4c5',
  workflowId: 'payout-po_1a2b3c4d5e6f708192a3b4c5',
  sellerId: 'dairy-fresh',
  amount: 118_400,
  status: 'paid' as const,
  providerState: 'succeeded',
  failureCode: null,
  failureMessage: null,
  utr: 'HDFCN27011134567',
  createdAt: '2027-01-11T03:30:00.000Z',
};

export const PayoutSchema = z
  .object({
    payoutId: z.string(),
    workflowId: z.string(),
    sellerId: z.string(),
    amount: z.number().int().nullable().describe('paise; null until the flow has moved the payable into flight, and for a skipped payout'),
    status: z.enum(PAYOUT_ROW_STATUSES),
    providerState: z
      .string()
      .nullable()
      .describe('the bank’s last word on it (`pending`, `succeeded`, `failed`, `unknown`…); null before it was sent'),
    failureCode: z.string().nullable(),
    failureMessage: z.string().nullable(),
    utr: z
      .string()
      .nullable()
      .describe('the bank’s reference (UTR) of a paid payout: from the bank’s answer, or from the statement when staff settled it'),
    createdAt: z.string(),
  })
  .meta({ id: 'Payout', example: payoutExample });

export const PayoutListSchema = z
  .object({ payouts: z.array(PayoutSchema).describe('newest first, at most 100') })
  .meta({ id: 'PayoutList', example: { payouts: [payoutExample] } });

export function productBody(r: ProductRow): z.output<typeof ProductSchema> {
  return { productId: r.id, sellerId: r.seller_id, name: r.name, price: r.price, stock: r.stock, active: r.active };
}

export function payoutBody(r: PayoutRow): z.output<typeof PayoutSchema> {
  return {
    payoutId: r.id,
    workflowId: payoutWorkflowId(r.id),
    sellerId: r.seller_id,
    amount: r.amount,
    status: r.status,
    providerState: r.provider_state,
    failureCode: r.failure_code,
    failureMessage: r.failure_message,
    utr: r.utr ?? null,
    createdAt: new Date(r.created_at).toISOString(),
  };
}
