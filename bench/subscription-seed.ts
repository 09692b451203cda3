/**
 * Set-based seeding of many subscriptions with a realistic mix of exceptions, for the generation
 * benchmark and its integration test. Everything is generate_series: no per-row round trips.
 */
import type { Db } from '../db/knex';

export async function seedSubscriptions(db: Db, count: number, opts: { date: string }): Promise<void> {
  const d = opts.date;
  await db.raw(
    `INSERT INTO subscriptions (id, customer_id, product_id, quantity, price_per_period, recurrence, start_date, timezone, region, payment_method)
     SELECT 'sub_seed' || lpad(g::text, 8, '0'), 'cust' || (g % 50000), 'milk-500ml', 1 + g % 3, 90000,
            CASE g % 10
              WHEN 0 THEN '{"kind":"days_of_week","days":[1,3,5]}'::jsonb
              WHEN 1 THEN '{"kind":"every_n_days","n":2}'::jsonb
              WHEN 2 THEN '{"kind":"days_of_month","days":[1,15,"last"]}'::jsonb
              ELSE '{"kind":"daily"}'::jsonb END,
            ?::date - (g % 200), 'Asia/Kolkata', 'r' || (g % 20), 'pm_ok'
       FROM generate_series(1, ?) AS g`,
    [d, count],
  );
  // ~8% on vacation over the date, 2% a vacation that ended early before it, 3% a quantity change,
  // 2% an extra (half on a skipped day), 1% an open-ended payment-failure pause.
  await db.raw(
    `INSERT INTO subscription_exceptions (subscription_id, id, type, from_date, to_date, quantity, reason, created_by, created_at, ended_at)
     SELECT 'sub_seed' || lpad(g::text, 8, '0'), 'E1', 'skip', ?::date - 3, ?::date + 4, NULL::int, 'vacation', 'customer', now() - interval '10 days', NULL::date
       FROM generate_series(1, ?) AS g WHERE g % 100 < 8
     UNION ALL
     SELECT 'sub_seed' || lpad(g::text, 8, '0'), 'E1', 'skip', ?::date - 5, ?::date + 5, NULL, 'vacation', 'customer', now() - interval '10 days', ?::date - 1
       FROM generate_series(1, ?) AS g WHERE g % 100 BETWEEN 8 AND 9
     UNION ALL
     SELECT 'sub_seed' || lpad(g::text, 8, '0'), 'E2', 'change_quantity', ?::date - 1, ?::date + 1, 4, 'special_request', 'customer', now() - interval '3 days', NULL
       FROM generate_series(1, ?) AS g WHERE g % 100 BETWEEN 10 AND 12
     UNION ALL
     SELECT 'sub_seed' || lpad(g::text, 8, '0'), 'E3', 'deliver_extra', ?::date, ?::date, 2, 'special_request', 'customer', now() - interval '2 days', NULL
       FROM generate_series(1, ?) AS g WHERE g % 100 IN (13, 14, 5, 6)
     UNION ALL
     SELECT 'sub_seed' || lpad(g::text, 8, '0'), 'E4', 'skip', ?::date - 20, NULL, NULL, 'payment_failure', 'system:dunning', now() - interval '20 days', NULL
       FROM generate_series(1, ?) AS g WHERE g % 100 = 15`,
    [d, d, count, d, d, d, count, d, d, count, d, d, count, d, count],
  );
  await db.raw('ANALYZE subscriptions; ANALYZE subscription_exceptions');
}
