import type { Knex } from 'knex';

/**
 * The sandbox provider's refunds, so that a refund is something the tests can count (one per
 * key, never more than was paid) and can be made to fail on demand (`pm_refund_flaky`).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE fake_provider.refunds (
      id              text PRIMARY KEY,
      idempotency_key text NOT NULL UNIQUE,
      payment_id      text NOT NULL REFERENCES fake_provider.payments(id),
      amount          bigint NOT NULL CHECK (amount > 0),
      created_at      timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX fake_provider_refunds_payment_idx ON fake_provider.refunds (payment_id);
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`DROP TABLE IF EXISTS fake_provider.refunds`);
}
