import { can, type Role } from '../../../domain/capabilities';
import { conform, stringMatching, validObject, validValue } from './examples';
import type { BaseRequest } from './cases';
import type { Operation } from './openapi';

/** What the suite creates first, so fuzzed requests reach real resources. */
export interface Fixtures {
  users: Record<Role, string>;
  productId: string;
  productPrice: number;
  /** The product subscriptions are for (the checkout product where the API has no separate listing). */
  subscribableProductId: string;
  topupId: string;
  orderId: string;
  subscriptionId: string;
  marketId: string;
  marketOrderId: string;
  showId: string;
  lotId: string;
  /** A running flow (the order's saga), for the ops routes that act on any flow. */
  workflowId: string;
}

/**
 * Who calls each operation: the first role that can reach it, except that an operation taking a
 * `userId`/`customerId` query is called by admin, who may name anyone — a customer naming another
 * user would be refused for that, not for the bad value.
 */
export function roleFor(op: Operation): Role | null {
  if (op.capabilities === 'public') return null;
  const caps = op.capabilities;
  const namesAUser = op.queryParams.some((p) => /^(userId|customerId)$/.test(p.name));
  const order: Role[] = namesAUser
    ? ['admin', 'support', 'customer', 'seller', 'delivery']
    : ['customer', 'seller', 'delivery', 'support', 'admin'];
  const role = order.find((r) => caps.some((c) => can([r], c as never)));
  if (!role) throw new Error(`no role reaches ${op.key} (${caps.join(', ')})`);
  return role;
}

/** A real resource for each path parameter, by name; anything else gets a well-formed id that does not exist. */
function pathValue(op: Operation, name: string, f: Fixtures): string {
  const known: Record<string, string> = {
    topupId: f.topupId,
    orderId: op.path.startsWith('/v1/markets/') ? f.marketOrderId : f.orderId,
    sellerId: f.users.seller,
    productId: f.productId,
    marketId: f.marketId,
    subscriptionId: f.subscriptionId,
    workflowId: f.workflowId,
    showId: f.showId,
    lotId: f.lotId,
  };
  if (known[name]) return known[name];
  const schema = op.pathParams.find((p) => p.name === name)!.schema;
  return (schema.pattern && stringMatching(schema.pattern)) || String(validValue(schema, name));
}

/**
 * Values the schema cannot tell: references to the fixtures, ids that must be new per case
 * (`FZN` becomes the case number), and fields that must agree with each other.
 */
function bodySeed(op: Operation, f: Fixtures): Record<string, unknown> {
  const seeds: Record<string, Record<string, unknown>> = {
    'POST /v1/wallet/topups': { paymentMethod: 'pm_ok' },
    'POST /v1/checkout': { lines: [{ productId: f.productId, quantity: 1, unitPrice: f.productPrice }] },
    'POST /v1/orders/{orderId}/refund': { reason: 'fuzz refund' },
    'POST /v1/sellers': { sellerId: 'fzsFZN', name: 'Fuzz Dairy', commissionBps: 1000, bankAccountRef: 'bank_fuzz' },
    'POST /v1/referrals': { buyerId: 'fzbFZN', referrerId: 'fzref' },
    'POST /v1/sellers/{sellerId}/products': { productId: 'fzpFZN', name: 'Fuzz milk', price: 4000, stock: 10 },
    'PATCH /v1/products/{productId}': { active: true },
    'POST /v1/markets': { question: 'Will the fuzz suite find nothing?' },
    'POST /v1/markets/{marketId}/orders': { clientOrderId: 'fzcFZN', price: 500 },
    'POST /v1/markets/{marketId}/resolve': { source: 'fuzz source' },
    'POST /v1/markets/{marketId}/void': { reason: 'fuzz void' },
    'POST /v1/subscriptions': { productId: f.subscribableProductId, paymentMethod: 'pm_ok' },
    'POST /v1/admin/products': { productId: 'fzaFZN', sellerId: f.users.seller, name: 'Fuzz curd', unit: '400 g' },
    'POST /v1/subscriptions/{subscriptionId}/payment-method': { paymentMethod: 'pm_ok' },
    'POST /v1/auth/otp': { phone: FUZZ_PHONE },
    'POST /v1/auth/otp/verify': { phone: FUZZ_PHONE, code: '000000' },
    'PUT /v1/me/phone': { phone: FUZZ_PHONE, code: '000000' },
    'POST /v1/admin/users/{userId}/roles': { grant: ['support'] },
    'POST /v1/shows': { sellerId: f.users.seller },
    'POST /v1/auctions': { sellerId: f.users.seller, productId: f.productId, showId: f.showId, startingPrice: 1_000 },
    'POST /v1/auctions/{lotId}/bids': { clientBidId: 'fzbFZN', amount: 1_000 },
    'POST /v1/auctions/{lotId}/buy-now': { clientBidId: 'fznFZN' },
    // The schema asks for at least one of its optional fields.
    'POST /v1/markets/{marketId}/orders/{orderId}/amend': { quantity: 1 },
  };
  return seeds[op.key] ?? {};
}

/** A well-formed Indian mobile number nobody in the fixtures has. */
const FUZZ_PHONE = '+919876500001';

/** Query values the schema cannot tell (a phone number must be one). */
function querySeed(name: string): string | undefined {
  return name === 'phone' ? FUZZ_PHONE : undefined;
}

/** Optional query values an operation needs one of (its schema refines "phone or userId"). */
function optionalQuerySeed(op: Operation, f: Fixtures): Record<string, string> {
  const seeds: Record<string, Record<string, string>> = {
    'GET /v1/ops/customers': { userId: f.users.customer },
  };
  return seeds[op.key] ?? {};
}

export interface SeedProblem {
  op: string;
  field: string;
}

/** The valid request each operation's cases start from; seeds for fields the schema no longer has are dropped and reported. */
export function baseRequest(op: Operation, f: Fixtures, problems: SeedProblem[]): BaseRequest {
  const params = Object.fromEntries(op.pathParams.map((p) => [p.name, pathValue(op, p.name, f)]));
  const query = {
    ...Object.fromEntries(
      op.queryParams.filter((p) => p.required).map((p) => [p.name, querySeed(p.name) ?? String(validValue(p.schema, p.name))]),
    ),
    ...optionalQuerySeed(op, f),
  };
  if (!op.body) return { params, query };
  const dropped: string[] = [];
  const seed = conform(bodySeed(op, f), op.body, dropped) as Record<string, unknown>;
  for (const field of dropped) problems.push({ op: op.key, field });
  return { params, query, body: { ...validObject(op.body), ...seed } };
}
