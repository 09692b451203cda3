import type { Knex } from 'knex';

/**
 * A paid payout keeps the bank's reference (UTR), from the bank's own answer or from the statement
 * staff read when they settle it by hand: what the seller quotes to their bank, and support to ours.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`ALTER TABLE payouts ADD COLUMN utr text`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`ALTER TABLE payouts DROP COLUMN utr`);
}
