import type { Knex } from 'knex';

/** Stored Idempotency-Keys are pruned by age every night; this finds the old ones without a scan. */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at)`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`DROP INDEX IF EXISTS idempotency_keys_created_idx`);
}
