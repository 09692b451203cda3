import type { Knex } from 'knex';

/**
 * `mandate_authorisations`: a mandate registration Mandi started for a subscription (the provider
 * customer and the authorisation order the customer approves on Checkout). Attaching a mandate names
 * the order, and only an order started for that subscription is accepted, so nobody can attach a
 * token another customer authorised.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE mandate_authorisations (
      order_id             text PRIMARY KEY,
      subscription_id      text NOT NULL REFERENCES subscriptions (id),
      provider_customer_id text NOT NULL,
      method               text NOT NULL CHECK (method IN ('upi', 'card', 'emandate')),
      max_amount           bigint NOT NULL CHECK (max_amount > 0),
      created_at           timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX mandate_authorisations_subscription_idx ON mandate_authorisations (subscription_id);
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`DROP TABLE IF EXISTS mandate_authorisations`);
}
