import type { Knex } from 'knex';

/**
 * Recurring debits for subscriptions (UPI Autopay, card e-mandates).
 *
 * - `subscription_mandates`: a mandate a customer registered with the payment provider (a provider
 *   customer and a token with its debit limit). Its id is the payment-method token the subscription
 *   charges (`pm_mandate_…`), so attaching one is an ordinary payment-method update. `status` follows
 *   the provider's token webhooks (token.paused, token.cancelled).
 * - `mandate_debits`: one row per charge attempt made against a mandate: when the pre-debit
 *   notification went out, the earliest instant the debit may run (≥ 24 h later), the provider order
 *   the notice was sent for and the debit's outcome. The partial unique index is the one-debit-per-
 *   cycle rule: at most one attempt of a billing period is debiting or has succeeded.
 * - `fake_provider.mandate_tokens`, `fake_provider.mandate_notices`: the sandbox provider's books of
 *   tokens and of the notices it was asked to send (with their `payment_after`), so it can refuse a
 *   debit made too early exactly as Razorpay and NPCI do.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE subscription_mandates (
      id                   text PRIMARY KEY,
      subscription_id      text NOT NULL REFERENCES subscriptions (id),
      customer_id          text NOT NULL,
      provider_customer_id text NOT NULL,
      token_id             text NOT NULL UNIQUE,
      method               text NOT NULL CHECK (method IN ('upi', 'card', 'emandate')),
      max_amount           bigint NOT NULL CHECK (max_amount > 0),
      status               text NOT NULL CHECK (status IN ('active', 'paused', 'cancelled')),
      created_at           timestamptz NOT NULL DEFAULT now(),
      updated_at           timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX subscription_mandates_subscription_idx ON subscription_mandates (subscription_id);

    CREATE TABLE mandate_debits (
      subscription_id text NOT NULL,
      period          int NOT NULL,
      attempt         int NOT NULL,
      mandate_id      text NOT NULL REFERENCES subscription_mandates (id),
      amount          bigint NOT NULL CHECK (amount > 0),
      order_id        text,
      notified_at     timestamptz,
      debit_after     timestamptz NOT NULL,
      debited_at      timestamptz,
      status          text NOT NULL CHECK (status IN ('notified', 'debiting', 'succeeded', 'failed')),
      error_code      text,
      created_at      timestamptz NOT NULL DEFAULT now(),
      updated_at      timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (subscription_id, period, attempt)
    );
    CREATE UNIQUE INDEX mandate_debits_one_per_cycle_idx ON mandate_debits (subscription_id, period)
      WHERE status IN ('debiting', 'succeeded');

    CREATE TABLE fake_provider.mandate_tokens (
      token_id    text PRIMARY KEY,
      customer_id text NOT NULL,
      max_amount  bigint NOT NULL,
      status      text NOT NULL,
      debits      int NOT NULL DEFAULT 0,
      created_at  timestamptz NOT NULL DEFAULT now()
    );
    CREATE TABLE fake_provider.mandate_notices (
      order_id        text PRIMARY KEY,
      idempotency_key text NOT NULL UNIQUE,
      token_id        text NOT NULL,
      amount          bigint NOT NULL,
      payment_after   timestamptz NOT NULL,
      notified_at     timestamptz NOT NULL DEFAULT now(),
      payment_id      text,
      debited_at      timestamptz
    );
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    DROP TABLE IF EXISTS fake_provider.mandate_notices, fake_provider.mandate_tokens, mandate_debits, subscription_mandates;
  `);
}
