import type { Knex } from 'knex';

/**
 * The order of the subscription row's projections: the workflow time of the write and its place
 * in the run. Two writes can be in flight at once (the loop's and a change's), and a retried
 * activity can land after a newer write; the row keeps the newest (db/subscriptions.ts).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`ALTER TABLE subscriptions ADD COLUMN projection_at_ms bigint, ADD COLUMN projection_seq integer`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`ALTER TABLE subscriptions DROP COLUMN projection_at_ms, DROP COLUMN projection_seq`);
}
