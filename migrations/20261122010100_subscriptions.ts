import type { Knex } from 'knex';

/**
 * Subscriptions: the row (status active|cancelled only — a pause is a skip exception), its dated
 * exceptions (never deleted, only ended), the deliveries the nightly job generated (one per
 * subscription and date), one renewal row per billing period with every charge attempt, and the
 * notifications the workflow sent (keyed, so a replayed activity never notifies twice).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE subscriptions (
      id                   text PRIMARY KEY,
      customer_id          text NOT NULL,
      product_id           text NOT NULL,
      quantity             int NOT NULL CHECK (quantity > 0),
      price_per_period     bigint NOT NULL CHECK (price_per_period > 0),
      recurrence           jsonb NOT NULL,
      start_date           date NOT NULL,
      end_date             date,
      timezone             text NOT NULL DEFAULT 'Asia/Kolkata',
      region               text NOT NULL DEFAULT 'default',
      status               text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'cancelled')),
      cancelled_from       date,
      payment_method       text NOT NULL,
      paused_days_credited int NOT NULL DEFAULT 0,
      next_renewal_date    date,
      paid_through         date,
      billing_state        text NOT NULL DEFAULT 'pending'
                           CHECK (billing_state IN ('pending', 'paid', 'retrying', 'payment_failed', 'ended')),
      billing_reason       text,
      created_at           timestamptz NOT NULL DEFAULT now(),
      updated_at           timestamptz NOT NULL DEFAULT now(),
      CHECK (end_date IS NULL OR end_date >= start_date)
    );
    CREATE INDEX subscriptions_customer_idx ON subscriptions (customer_id, created_at DESC);
    -- Nightly generation walks subscriptions of one timezone in id order (keyset pagination).
    CREATE INDEX subscriptions_generation_idx ON subscriptions (timezone, id) WHERE status = 'active' OR cancelled_from IS NOT NULL;
    CREATE INDEX subscriptions_region_idx ON subscriptions (region) WHERE status = 'active';

    CREATE TABLE subscription_exceptions (
      subscription_id text NOT NULL REFERENCES subscriptions (id),
      id              text NOT NULL,
      type            text NOT NULL CHECK (type IN ('skip', 'deliver_extra', 'change_quantity')),
      from_date       date NOT NULL,
      to_date         date,
      quantity        int CHECK (quantity IS NULL OR quantity > 0),
      reason          text NOT NULL,
      created_by      text NOT NULL,
      created_at      timestamptz NOT NULL,
      ended_at        date,
      PRIMARY KEY (subscription_id, id),
      CHECK (to_date IS NULL OR to_date >= from_date),
      CHECK (to_date IS NOT NULL OR type = 'skip'),
      CHECK ((type = 'skip') = (quantity IS NULL))
    );
    CREATE INDEX subscription_exceptions_dates_idx ON subscription_exceptions (subscription_id, from_date);

    CREATE TABLE deliveries (
      subscription_id text NOT NULL REFERENCES subscriptions (id),
      delivery_date   date NOT NULL,
      quantity        int NOT NULL CHECK (quantity > 0),
      reason          text NOT NULL,
      status          text NOT NULL DEFAULT 'scheduled' CHECK (status IN ('scheduled', 'delivered', 'failed')),
      created_at      timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (subscription_id, delivery_date)
    );
    CREATE INDEX deliveries_date_idx ON deliveries (delivery_date);

    -- One row per billing period; 'period' counts from 1.
    CREATE TABLE subscription_renewals (
      subscription_id text NOT NULL REFERENCES subscriptions (id),
      period          int NOT NULL CHECK (period > 0),
      period_start    date NOT NULL,
      amount          bigint NOT NULL CHECK (amount > 0),
      status          text NOT NULL CHECK (status IN ('pending', 'paid', 'retrying', 'payment_failed', 'refunded')),
      attempts        int NOT NULL DEFAULT 0,
      paid_via        text CHECK (paid_via IN ('wallet', 'provider')),
      paid_attempt    int,
      journal_id      bigint,
      provider_payment_id text,
      next_retry_at   timestamptz,
      last_error      text,
      refunded_amount bigint NOT NULL DEFAULT 0,
      created_at      timestamptz NOT NULL DEFAULT now(),
      updated_at      timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (subscription_id, period)
    );

    -- Every charge attempt (dunning included), each with its own deterministic idempotency key.
    CREATE TABLE subscription_renewal_attempts (
      idempotency_key text PRIMARY KEY,
      subscription_id text NOT NULL,
      period          int NOT NULL,
      attempt         int NOT NULL,
      method          text NOT NULL,
      outcome         text NOT NULL CHECK (outcome IN ('paid', 'declined', 'insufficient_wallet')),
      error_code      text,
      created_at      timestamptz NOT NULL DEFAULT now(),
      UNIQUE (subscription_id, period, attempt, method)
    );

    CREATE TABLE notifications (
      id              bigserial PRIMARY KEY,
      key             text NOT NULL UNIQUE,
      customer_id     text NOT NULL,
      subscription_id text,
      kind            text NOT NULL,
      message         text NOT NULL,
      data            jsonb NOT NULL DEFAULT '{}'::jsonb,
      created_at      timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX notifications_customer_idx ON notifications (customer_id, created_at DESC);
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(
    'DROP TABLE IF EXISTS notifications, subscription_renewal_attempts, subscription_renewals, deliveries, subscription_exceptions, subscriptions',
  );
}
