import type { Knex } from 'knex';

/**
 * Journals are looked up by reference only with a reference in hand (`ref_type = ? AND ref_id = ?`,
 * or `ref_id = ?`), so the rows without one — peer-to-peer transfers, seeds, most batched
 * postings — never need an entry in the reference index. Each such entry cost every refless
 * posting an index insertion and its WAL; the batched path pays it ten thousand times a batch.
 * Every reader's `ref_id = ?` implies `ref_id IS NOT NULL`, so the partial index still serves it.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    DROP INDEX journal_ref_idx;
    CREATE INDEX journal_ref_idx ON journal (ref_type, ref_id) WHERE ref_id IS NOT NULL;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    DROP INDEX journal_ref_idx;
    CREATE INDEX journal_ref_idx ON journal (ref_type, ref_id);
  `);
}
