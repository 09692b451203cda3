import type { Knex } from 'knex';

/**
 * Provider webhook events we acted on, one row per event id: a replayed or retried event finds
 * its row and is answered without acting again. Also indexes the provider payment ids the
 * webhook routes by, so finding the flow that owns a payment is an index look-up per table.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE webhook_events (
      event_id    text PRIMARY KEY,
      type        text NOT NULL,
      payment_id  text NOT NULL,
      workflow_id text NOT NULL,
      received_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX webhook_events_payment_idx ON webhook_events (payment_id);

    CREATE INDEX topups_provider_payment_idx ON topups (provider_payment_id) WHERE provider_payment_id IS NOT NULL;
    CREATE INDEX orders_provider_payment_idx ON orders (provider_payment_id) WHERE provider_payment_id IS NOT NULL;
    CREATE INDEX subscription_renewals_provider_payment_idx ON subscription_renewals (provider_payment_id) WHERE provider_payment_id IS NOT NULL;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    DROP INDEX IF EXISTS subscription_renewals_provider_payment_idx;
    DROP INDEX IF EXISTS orders_provider_payment_idx;
    DROP INDEX IF EXISTS topups_provider_payment_idx;
    DROP TABLE IF EXISTS webhook_events;
  `);
}
