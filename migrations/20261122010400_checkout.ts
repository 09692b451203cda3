import type { Knex } from 'knex';

/**
 * Marketplace checkout → settlement → payout.
 * - `products.stock` is decremented by a conditional UPDATE (stock >= q) when the saga reserves, so
 *   concurrent buyers can never oversell; `reservations` records what each order holds so the
 *   compensation gives back exactly that, once.
 * - `orders` carries the priced cart, the commission/referral rates frozen at checkout, and the saga's
 *   last known status; `order_events` is the order's timeline (one row per step, deduplicated by key
 *   because activities are retried).
 * - `payouts`: at most one active payout per seller (partial unique index), so a sweep and a manual
 *   request cannot both move the same payable.
 * - `fake_provider.payout_calls`: the fake bank's call counter for its `flaky` behaviour.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE sellers (
      id               text PRIMARY KEY,
      name             text NOT NULL,
      commission_bps   int NOT NULL CHECK (commission_bps BETWEEN 0 AND 10000),
      bank_account_ref text NOT NULL,
      created_at       timestamptz NOT NULL DEFAULT now()
    );

    CREATE TABLE products (
      id         text PRIMARY KEY,
      seller_id  text NOT NULL REFERENCES sellers(id),
      name       text NOT NULL,
      price      bigint NOT NULL CHECK (price > 0),
      stock      int NOT NULL CHECK (stock >= 0),
      active     boolean NOT NULL DEFAULT true,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX products_seller_idx ON products (seller_id);

    -- Who referred a buyer; the referrer earns rate_bps of each settled order, funded by the platform.
    CREATE TABLE referrals (
      buyer_id    text PRIMARY KEY,
      referrer_id text NOT NULL,
      rate_bps    int NOT NULL CHECK (rate_bps BETWEEN 0 AND 10000),
      created_at  timestamptz NOT NULL DEFAULT now(),
      CHECK (buyer_id <> referrer_id)
    );

    CREATE TABLE orders (
      id                  text PRIMARY KEY,
      buyer_id            text NOT NULL,
      seller_id           text NOT NULL REFERENCES sellers(id),
      status              text NOT NULL,
      total               bigint NOT NULL CHECK (total > 0),
      payment_method      text,
      funding_source      text CHECK (funding_source IN ('wallet', 'provider')),
      provider_payment_id text,
      commission_bps      int NOT NULL,
      referrer_id         text,
      referral_bps        int NOT NULL DEFAULT 0,
      commission          bigint,
      referral            bigint,
      seller_net          bigint,
      refunded            bigint NOT NULL DEFAULT 0 CHECK (refunded >= 0),
      delivery_deadline_ms bigint NOT NULL,
      return_window_ms    bigint NOT NULL,
      failure_code        text,
      failure_message     text,
      created_at          timestamptz NOT NULL DEFAULT now(),
      updated_at          timestamptz NOT NULL DEFAULT now(),
      CHECK (refunded <= total)
    );
    CREATE INDEX orders_buyer_idx ON orders (buyer_id, created_at DESC);
    CREATE INDEX orders_seller_idx ON orders (seller_id, created_at DESC);

    CREATE TABLE order_lines (
      order_id   text NOT NULL REFERENCES orders(id),
      line_no    int NOT NULL,
      product_id text NOT NULL REFERENCES products(id),
      quantity   int NOT NULL CHECK (quantity > 0),
      unit_price bigint NOT NULL CHECK (unit_price > 0),
      amount     bigint NOT NULL CHECK (amount > 0),
      PRIMARY KEY (order_id, line_no)
    );

    CREATE TABLE order_events (
      id         bigserial PRIMARY KEY,
      order_id   text NOT NULL REFERENCES orders(id),
      key        text NOT NULL,
      type       text NOT NULL,
      actor      text NOT NULL DEFAULT 'system',
      details    jsonb NOT NULL DEFAULT '{}'::jsonb,
      created_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (order_id, key)
    );

    CREATE TABLE reservations (
      order_id   text NOT NULL REFERENCES orders(id),
      product_id text NOT NULL REFERENCES products(id),
      quantity   int NOT NULL CHECK (quantity > 0),
      status     text NOT NULL CHECK (status IN ('held', 'consumed', 'released', 'returned')),
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (order_id, product_id)
    );

    -- Refunds after settlement (support goodwill, late returns): each one a workflow of its own.
    CREATE TABLE order_refunds (
      id          text PRIMARY KEY,
      order_id    text NOT NULL REFERENCES orders(id),
      amount      bigint NOT NULL CHECK (amount > 0),
      status      text NOT NULL CHECK (status IN ('pending', 'succeeded', 'rejected')),
      reason      text NOT NULL,
      requested_by text NOT NULL,
      failure_message text,
      created_at  timestamptz NOT NULL DEFAULT now(),
      updated_at  timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX order_refunds_order_idx ON order_refunds (order_id);

    CREATE TABLE payouts (
      id                 text PRIMARY KEY,
      seller_id          text NOT NULL REFERENCES sellers(id),
      amount             bigint CHECK (amount > 0),
      status             text NOT NULL CHECK (status IN ('pending', 'in_flight', 'paid', 'failed', 'skipped')),
      provider_state     text,
      provider_payout_id text,
      bank_account_ref   text NOT NULL,
      requested_by       text NOT NULL,
      failure_code       text,
      failure_message    text,
      created_at         timestamptz NOT NULL DEFAULT now(),
      updated_at         timestamptz NOT NULL DEFAULT now()
    );
    CREATE UNIQUE INDEX payouts_one_active_per_seller ON payouts (seller_id) WHERE status IN ('pending', 'in_flight');
    CREATE INDEX payouts_seller_idx ON payouts (seller_id, created_at DESC);

    CREATE TABLE fake_provider.payout_calls (
      idempotency_key text PRIMARY KEY,
      count           int NOT NULL
    );
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    DROP TABLE IF EXISTS fake_provider.payout_calls, payouts, order_refunds, reservations, order_events,
      order_lines, orders, referrals, products, sellers CASCADE;
  `);
}
