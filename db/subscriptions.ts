/**
 * The subscriptions row and the catalog it is priced from. The row is the API's read model: the
 * subscription's workflow owns the subscription and writes the row's live columns
 * (writeSubscriptionProjection) after every change.
 */
import type { SubscriptionProjection } from '../contracts/subscription';
import type { Recurrence, ScheduleSubscription } from '../domain/schedule';
import type { SubscriptionRecord } from '../domain/subscription';
import type { Queryable } from './knex';

/** What the charge was computed from, frozen with the row (see migrations/20261202000300). */
export interface StoredPricing {
  unit: string;
  deliveriesPerPeriod: number;
}

/** Stores a new subscription's row (its workflow holds the live state from then on). */
export async function insertSubscriptionRow(q: Queryable, sub: SubscriptionRecord, pricing?: StoredPricing): Promise<void> {
  await q('subscriptions').insert({
    id: sub.id,
    customer_id: sub.customerId,
    product_id: sub.productId,
    quantity: sub.quantity,
    price_per_period: sub.pricePerPeriod,
    unit_price: sub.unitPrice ?? null,
    unit: pricing?.unit ?? null,
    deliveries_per_period: pricing?.deliveriesPerPeriod ?? null,
    recurrence: JSON.stringify(sub.recurrence),
    start_date: sub.startDate,
    end_date: sub.endDate,
    timezone: sub.timezone,
    region: sub.region,
    payment_method: sub.paymentMethod,
  });
}

/** The stored row, dates as text. */
export interface SubscriptionRow {
  id: string;
  customer_id: string;
  product_id: string;
  quantity: number;
  price_per_period: number | string;
  unit_price: number | string | null;
  unit: string | null;
  deliveries_per_period: number | null;
  recurrence: Recurrence;
  start_date: string;
  end_date: string | null;
  timezone: string;
  region: string;
  status: 'active' | 'cancelled';
  cancelled_from: string | null;
  payment_method: string;
  paused_days_credited: number;
  next_renewal_date: string | null;
  paid_through: string | null;
  billing_state: string;
  billing_reason: string | null;
  created_at: Date;
}

export async function loadSubscriptionRow(q: Queryable, id: string): Promise<SubscriptionRow | undefined> {
  const { rows } = await q.raw(
    `SELECT id, customer_id, product_id, quantity, price_per_period, unit_price, unit, deliveries_per_period, recurrence,
            start_date::text AS start_date, end_date::text AS end_date, timezone, region, status, cancelled_from::text AS cancelled_from,
            payment_method, paused_days_credited, next_renewal_date::text AS next_renewal_date, paid_through::text AS paid_through,
            billing_state, billing_reason, created_at
       FROM subscriptions WHERE id = ?`,
    [id],
  );
  return rows[0];
}

/** A customer's subscriptions, newest first (at most `limit`). */
export async function listCustomerSubscriptions(q: Queryable, customerId: string, limit = 100): Promise<SubscriptionRow[]> {
  const ids: string[] = await q('subscriptions').where({ customer_id: customerId }).orderBy('created_at', 'desc').limit(limit).pluck('id');
  const rows = await Promise.all(ids.map((id) => loadSubscriptionRow(q, id)));
  return rows.filter((r): r is SubscriptionRow => r !== undefined);
}

/** What the schedule rules need of a row: the same mapping for the API and nightly generation. */
export function scheduleOfRow(
  row: Pick<SubscriptionRow, 'id' | 'start_date' | 'end_date' | 'recurrence' | 'quantity' | 'timezone' | 'status' | 'cancelled_from'>,
): ScheduleSubscription {
  return {
    id: row.id,
    startDate: row.start_date,
    endDate: row.end_date,
    recurrence: row.recurrence,
    quantity: row.quantity,
    timezone: row.timezone,
    status: row.status,
    cancelledFrom: row.cancelled_from,
  };
}

/**
 * The one writer of the row's live columns: the workflow's state, projected (contracts/subscription.ts).
 * An older write that lands after a newer one (an activity retried, two in flight) changes nothing:
 * the row keeps the newest.
 */
export async function writeSubscriptionProjection(q: Queryable, subscriptionId: string, p: SubscriptionProjection): Promise<void> {
  const row = q('subscriptions').where({ id: subscriptionId });
  if (p.order) row.andWhereRaw('(projection_at_ms IS NULL OR (projection_at_ms, projection_seq) < (?, ?))', [p.order.atMs, p.order.seq]);
  else row.whereNull('projection_at_ms');
  await row.update({
    status: p.status,
    cancelled_from: p.cancelledFrom,
    payment_method: p.paymentMethod,
    billing_state: p.billingState,
    billing_reason: p.billingReason,
    next_renewal_date: p.nextRenewalDate,
    paid_through: p.paidThrough,
    paused_days_credited: p.pausedDaysCredited,
    projection_at_ms: p.order?.atMs,
    projection_seq: p.order?.seq,
    updated_at: q.fn.now(),
  });
}

export interface CatalogProduct {
  productId: string;
  sellerId: string;
  name: string;
  /** For a subscribable product: paise per unit per delivery. */
  price: number;
  unit: string | null;
  subscribable: boolean;
  active: boolean;
}

interface ProductRow {
  id: string;
  seller_id: string;
  name: string;
  price: number | string;
  unit: string | null;
  subscribable: boolean;
  active: boolean;
}

function catalogProduct(r: ProductRow): CatalogProduct {
  return {
    productId: r.id,
    sellerId: r.seller_id,
    name: r.name,
    price: Number(r.price),
    unit: r.unit,
    subscribable: r.subscribable,
    active: r.active,
  };
}

export async function findCatalogProduct(q: Queryable, productId: string): Promise<CatalogProduct | undefined> {
  const row = await q('products').where({ id: productId }).first('id', 'seller_id', 'name', 'price', 'unit', 'subscribable', 'active');
  return row ? catalogProduct(row) : undefined;
}

export async function sellerExists(q: Queryable, sellerId: string): Promise<boolean> {
  return (await q('sellers').where({ id: sellerId }).first('id')) !== undefined;
}

/** Lists a subscribable product (throws the unique violation when the id is taken). */
export async function insertSubscribableProduct(
  q: Queryable,
  p: { productId: string; sellerId: string; name: string; unitPrice: number; unit: string; stock: number },
): Promise<CatalogProduct> {
  const [row] = await q('products')
    .insert({ id: p.productId, seller_id: p.sellerId, name: p.name, price: p.unitPrice, unit: p.unit, stock: p.stock, subscribable: true })
    .returning(['id', 'seller_id', 'name', 'price', 'unit', 'subscribable', 'active']);
  return catalogProduct(row);
}
