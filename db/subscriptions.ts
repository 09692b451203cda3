import type { ScheduleException } from '../domain/schedule';
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

export async function loadSubscriptionRow(q: Queryable, id: string): Promise<Record<string, any> | undefined> {
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

export async function loadSubscriptionExceptions(q: Queryable, id: string): Promise<ScheduleException[]> {
  const { rows } = await q.raw(
    `SELECT id, type, from_date::text AS "from", to_date::text AS "to", quantity, reason, created_by AS "createdBy",
            to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS "createdAt", ended_at::text AS "endedAt"
       FROM subscription_exceptions WHERE subscription_id = ? ORDER BY created_at, id`,
    [id],
  );
  return rows.map((r: Record<string, any>) => {
    const { quantity, ...rest } = r;
    return quantity == null ? rest : { ...rest, quantity };
  }) as ScheduleException[];
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

function catalogProduct(r: Record<string, any>): CatalogProduct {
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

/**
 * Notes the provider payment an unpaid renewal is waiting for, so the provider's webhook finds the
 * renewal (db/webhooks.ts#findPaymentFlow) before it settles. A paid renewal keeps the payment that paid it.
 */
export async function recordRenewalPayment(q: Queryable, r: { subscriptionId: string; period: number; paymentId: string }): Promise<void> {
  await q('subscription_renewals')
    .where({ subscription_id: r.subscriptionId, period: r.period })
    .whereNot({ status: 'paid' })
    .update({ provider_payment_id: r.paymentId, updated_at: q.fn.now() });
}

export interface RenewalRow {
  period: number;
  periodStart: string;
  /** Last day of the period: the day before the next one starts, or paid-through for the current one. */
  periodEnd: string | null;
  amount: number;
  status: string;
  attempts: number;
  paidVia: 'wallet' | 'provider' | null;
  /** The provider's payment id when the period was paid through the payment method. */
  paymentId: string | null;
  journalId: number | null;
  paidAt: string | null;
  lastError: string | null;
  nextRetryAt: string | null;
  refundedAmount: number;
}

/** A subscription's renewals, newest period first; `beforePeriod` pages back. */
export async function listRenewals(
  q: Queryable,
  subscriptionId: string,
  opts: { beforePeriod?: number; limit: number },
): Promise<RenewalRow[]> {
  const { rows } = await q.raw(
    `SELECT * FROM (
       SELECT r.period, r.period_start::text AS period_start,
              COALESCE((lead(r.period_start) OVER (ORDER BY r.period) - 1)::text,
                       CASE WHEN r.status = 'paid' THEN s.paid_through::text END) AS period_end,
              r.amount, r.status, r.attempts, r.paid_via, r.provider_payment_id, r.journal_id, j.created_at AS paid_at,
              r.last_error, r.next_retry_at, r.refunded_amount
         FROM subscription_renewals r
         JOIN subscriptions s ON s.id = r.subscription_id
         LEFT JOIN journal j ON j.id = r.journal_id
        WHERE r.subscription_id = ?
     ) t
     WHERE ?::int IS NULL OR t.period < ?::int
     ORDER BY t.period DESC
     LIMIT ?`,
    [subscriptionId, opts.beforePeriod ?? null, opts.beforePeriod ?? null, opts.limit],
  );
  return rows.map((r: Record<string, any>) => ({
    period: r.period,
    periodStart: r.period_start,
    periodEnd: r.period_end,
    amount: Number(r.amount),
    status: r.status,
    attempts: r.attempts,
    paidVia: r.paid_via,
    paymentId: r.paid_via === 'provider' ? r.provider_payment_id : null,
    journalId: r.journal_id === null ? null : Number(r.journal_id),
    paidAt: r.paid_at ? new Date(r.paid_at).toISOString() : null,
    lastError: r.last_error,
    nextRetryAt: r.next_retry_at ? new Date(r.next_retry_at).toISOString() : null,
    refundedAmount: Number(r.refunded_amount),
  }));
}
