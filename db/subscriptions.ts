import type { SubscriptionRecord } from '../domain/subscription';
import type { Queryable } from './knex';

/** Stores a new subscription's row (its workflow holds the live state from then on). */
export async function insertSubscriptionRow(q: Queryable, sub: SubscriptionRecord): Promise<void> {
  await q('subscriptions').insert({
    id: sub.id,
    customer_id: sub.customerId,
    product_id: sub.productId,
    quantity: sub.quantity,
    price_per_period: sub.pricePerPeriod,
    recurrence: JSON.stringify(sub.recurrence),
    start_date: sub.startDate,
    end_date: sub.endDate,
    timezone: sub.timezone,
    region: sub.region,
    payment_method: sub.paymentMethod,
  });
}
