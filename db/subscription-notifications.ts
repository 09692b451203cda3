/** notifications: the outbox a push/SMS sender drains; the subscription workflow records each notice once per key. */
import type { Queryable } from './knex';

export interface CustomerNotice {
  key: string;
  customerId: string;
  subscriptionId: string;
  kind: string;
  message: string;
  data?: Record<string, unknown>;
}

/** Records a notice once per key; true when it is new. */
export async function recordNotification(q: Queryable, n: CustomerNotice): Promise<boolean> {
  const { rows } = await q.raw(
    `INSERT INTO notifications (key, customer_id, subscription_id, kind, message, data)
     VALUES (?, ?, ?, ?, ?, ?::jsonb) ON CONFLICT (key) DO NOTHING RETURNING id`,
    [n.key, n.customerId, n.subscriptionId, n.kind, n.message, JSON.stringify(n.data ?? {})],
  );
  return rows.length > 0;
}
