import type { Knex } from 'knex';

/** Wallet top-ups and the fake payment provider's own books (the outside world, kept apart). */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE topups (
      id                  text PRIMARY KEY,
      user_id             text NOT NULL,
      amount              bigint NOT NULL CHECK (amount > 0),
      payment_method      text NOT NULL,
      status              text NOT NULL CHECK (status IN ('pending', 'awaiting_confirmation', 'succeeded', 'declined', 'failed')),
      provider_payment_id text,
      failure_code        text,
      failure_message     text,
      created_at          timestamptz NOT NULL DEFAULT now(),
      updated_at          timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX topups_user_idx ON topups (user_id, created_at DESC);

    CREATE SCHEMA fake_provider;
    CREATE TABLE fake_provider.payments (
      id              text PRIMARY KEY,
      idempotency_key text NOT NULL UNIQUE,
      amount          bigint NOT NULL,
      payment_method  text NOT NULL,
      status          text NOT NULL,
      settles_at      timestamptz NOT NULL,
      created_at      timestamptz NOT NULL DEFAULT now()
    );
    -- Counts calls per idempotency key so 'flaky' behaviours fail a set number of times.
    CREATE TABLE fake_provider.calls (
      idempotency_key text PRIMARY KEY,
      count           int NOT NULL
    );
    CREATE TABLE fake_provider.payouts (
      id              text PRIMARY KEY,
      idempotency_key text NOT NULL UNIQUE,
      amount          bigint NOT NULL,
      bank_account    text NOT NULL,
      status          text NOT NULL,
      settles_at      timestamptz NOT NULL,
      created_at      timestamptz NOT NULL DEFAULT now()
    );
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP SCHEMA IF EXISTS fake_provider CASCADE; DROP TABLE IF EXISTS topups');
}
