import type { Knex } from 'knex';

/**
 * The two hot market functions touch rows only by key (order ids, wallet ids, hold ids), so a
 * sequential scan is never the right plan for them. Yet on a market_orders table that grew faster
 * than autovacuum analyses it — a fresh deployment's first busy minutes — the planner, believing
 * it tiny, chose one for the engine's order update: 20 ms per batch and growing with the table,
 * all of it spent holding the wallet rows that order intake waits for. Turning sequential scans
 * off for these functions alone keeps them on their indexes whatever the statistics say.
 * market_orders is also a queue (engine_pending flips on every order), so it is vacuumed and
 * analysed after 2% of it changes rather than 20%.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    ALTER FUNCTION commit_market_batch(jsonb, int) SET enable_seqscan = off;
    ALTER FUNCTION place_market_orders(jsonb) SET enable_seqscan = off;
    ALTER TABLE market_orders SET (autovacuum_vacuum_scale_factor = 0.02, autovacuum_analyze_scale_factor = 0.02);
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    ALTER FUNCTION commit_market_batch(jsonb, int) RESET enable_seqscan;
    ALTER FUNCTION place_market_orders(jsonb) RESET enable_seqscan;
    ALTER TABLE market_orders RESET (autovacuum_vacuum_scale_factor, autovacuum_analyze_scale_factor);
  `);
}
