import type { Knex } from 'knex';

/**
 * Subscriptions take their price from the catalog.
 *
 * The checkout catalog's `products` row gains `subscribable` and `unit` ("500 ml") rather than a
 * second table: a product sold one-off and by subscription is one item with one price and one
 * `active` switch, so the two can never drift apart. For a subscribable product `price` is the
 * price of one unit per delivery, in paise.
 *
 * A subscription freezes what its charge was computed from (`unit_price`, `unit`,
 * `deliveries_per_period`; `price_per_period` is the computed charge), so a later catalog price
 * change does not silently re-price running subscriptions and support can show the arithmetic.
 * These columns are NULL on rows created before prices came from the catalog. `product_id` gets no
 * foreign key: such older rows may name products the catalog never had; the API checks new ones.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    ALTER TABLE products
      ADD COLUMN subscribable boolean NOT NULL DEFAULT false,
      ADD COLUMN unit text,
      ADD CONSTRAINT products_subscribable_unit CHECK (NOT subscribable OR unit IS NOT NULL);

    ALTER TABLE subscriptions
      ADD COLUMN unit_price bigint CHECK (unit_price > 0),
      ADD COLUMN unit text,
      ADD COLUMN deliveries_per_period int CHECK (deliveries_per_period > 0);
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    ALTER TABLE subscriptions DROP COLUMN IF EXISTS deliveries_per_period, DROP COLUMN IF EXISTS unit, DROP COLUMN IF EXISTS unit_price;
    ALTER TABLE products DROP CONSTRAINT IF EXISTS products_subscribable_unit, DROP COLUMN IF EXISTS unit, DROP COLUMN IF EXISTS subscribable;
  `);
}
