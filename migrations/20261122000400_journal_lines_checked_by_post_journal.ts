import type { Knex } from 'knex';

/**
 * Journal lines are written only by post_journal, its batched sibling (db/ledger.ts postJournals)
 * and the market engine's commit_market_batch, each in the same statement or transaction
 * that inserted their journal and after locking — or creating — each line's balance row, whose own
 * foreign key guarantees the account exists. The lines' foreign keys therefore re-checked, with a
 * trigger per line, facts the function had just established; on the hottest insert path of the
 * system that was a large share of each transfer's cost. The append-only triggers stay.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    ALTER TABLE journal_lines DROP CONSTRAINT journal_lines_journal_id_fkey;
    ALTER TABLE journal_lines DROP CONSTRAINT journal_lines_account_id_fkey;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    ALTER TABLE journal_lines ADD CONSTRAINT journal_lines_journal_id_fkey FOREIGN KEY (journal_id) REFERENCES journal(id);
    ALTER TABLE journal_lines ADD CONSTRAINT journal_lines_account_id_fkey FOREIGN KEY (account_id) REFERENCES accounts(id);
  `);
}
