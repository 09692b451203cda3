import type { Knex } from 'knex';

/**
 * When a market's void began paying everyone back: a void still not finished some minutes later
 * needs a human even when no step has parked (reconciliation's market_settlement_unfinished).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`ALTER TABLE markets ADD COLUMN void_started_at timestamptz`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`ALTER TABLE markets DROP COLUMN void_started_at`);
}
