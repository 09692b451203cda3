import type { Knex } from 'knex';

/**
 * A claimed Idempotency-Key records when and by whom it was claimed, so that a retry can take over
 * a claim whose API instance died mid-request (api/idempotency.ts) instead of waiting for ever.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    ALTER TABLE idempotency_keys
      ADD COLUMN claimed_at  timestamptz NOT NULL DEFAULT now(),
      ADD COLUMN claim_token text
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`ALTER TABLE idempotency_keys DROP COLUMN claimed_at, DROP COLUMN claim_token`);
}
