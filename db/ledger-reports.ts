import { DEFAULT_TIMEZONE } from '../domain/rules';
import type { Queryable } from './knex';

export interface Balance {
  account: string;
  balance: number;
  held: number;
  available: number;
}

export async function getBalance(q: Queryable, account: string): Promise<Balance> {
  const row = await q('account_balances')
    .where({ account_id: account })
    .first(q.raw('coalesce(sum(balance), 0)::bigint AS balance'), q.raw('coalesce(sum(held), 0)::bigint AS held'));
  const balance = row?.balance ?? 0;
  const held = row?.held ?? 0;
  return { account, balance, held, available: balance - held };
}

export interface LedgerEntryView {
  journalId: number;
  amount: number;
  reason: string;
  refType: string | null;
  refId: string | null;
  reversesJournalId: number | null;
  createdAt: string;
}

interface LedgerEntryDbRow {
  journal_id: number;
  amount: number;
  reason: string;
  ref_type: string | null;
  ref_id: string | null;
  reverses_journal_id: number | null;
  created_at: Date;
}

/** An account's movements, newest first, paged by journal id (`before` is exclusive). */
export async function listEntries(
  q: Queryable,
  account: string,
  page: { limit: number; before?: number },
): Promise<{ entries: LedgerEntryView[]; nextBefore: number | null }> {
  const rows: LedgerEntryDbRow[] = await q('journal_lines as l')
    .join('journal as j', 'j.id', 'l.journal_id')
    .where('l.account_id', account)
    .modify((b) => {
      if (page.before !== undefined) b.where('l.journal_id', '<', page.before);
    })
    .orderBy('l.journal_id', 'desc')
    .limit(page.limit + 1)
    .select('l.journal_id', 'l.amount', 'j.reason', 'j.ref_type', 'j.ref_id', 'j.reverses_journal_id', 'j.created_at');
  const entries: LedgerEntryView[] = rows.slice(0, page.limit).map((r) => ({
    journalId: r.journal_id,
    amount: r.amount,
    reason: r.reason,
    refType: r.ref_type,
    refId: r.ref_id,
    reversesJournalId: r.reverses_journal_id,
    createdAt: new Date(r.created_at).toISOString(),
  }));
  const nextBefore = rows.length > page.limit ? entries[entries.length - 1].journalId : null;
  return { entries, nextBefore };
}

export interface Drift {
  account: string;
  shard: number;
  kind: 'balance' | 'held';
  stored: number;
  derived: number;
}

/** Re-derives every balance from the journal lines and every held amount from open holds. */
export async function reconcile(q: Queryable): Promise<Drift[]> {
  const { rows } = await q.raw(`
    WITH derived AS (
      SELECT account_id, shard, sum(amount)::bigint AS balance FROM journal_lines GROUP BY account_id, shard
    ), derived_held AS (
      SELECT account_id, sum(remaining)::bigint AS held FROM holds WHERE status = 'open' GROUP BY account_id
    )
    SELECT b.account_id AS account, b.shard, 'balance' AS kind, b.balance AS stored, coalesce(d.balance, 0) AS derived
    FROM account_balances b LEFT JOIN derived d USING (account_id, shard)
    WHERE b.balance <> coalesce(d.balance, 0)
    UNION ALL
    SELECT d.account_id, d.shard, 'balance', 0, d.balance
    FROM derived d LEFT JOIN account_balances b USING (account_id, shard) WHERE b.account_id IS NULL
    UNION ALL
    SELECT b.account_id, 0, 'held', sum(b.held)::bigint, coalesce(max(h.held), 0)
    FROM account_balances b LEFT JOIN derived_held h USING (account_id)
    GROUP BY b.account_id HAVING sum(b.held) <> coalesce(max(h.held), 0)
  `);
  return rows;
}

/**
 * Records each account's balance at the end of `asOf` (a date in `timezone`) so "balance on date D"
 * is one lookup. Re-running for the same date changes nothing.
 */
export async function snapshotBalances(q: Queryable, asOf: string, timezone = DEFAULT_TIMEZONE): Promise<number> {
  const { rowCount } = await q.raw(
    `INSERT INTO balance_snapshots (account_id, as_of, balance)
     SELECT l.account_id, ?::date, sum(l.amount)::bigint
     FROM journal_lines l JOIN journal j ON j.id = l.journal_id
     WHERE j.created_at < ((?::date + 1)::timestamp AT TIME ZONE ?)
     GROUP BY l.account_id
     ON CONFLICT (account_id, as_of) DO NOTHING`,
    [asOf, asOf, timezone],
  );
  return rowCount ?? 0;
}

export async function balanceOn(q: Queryable, account: string, asOf: string): Promise<number | null> {
  const row = await q('balance_snapshots').where({ account_id: account, as_of: asOf }).first('balance');
  return row ? row.balance : null;
}

/**
 * The ledger's invariants, checked after every money scenario in the tests and by ops:
 * all balances sum to zero, each journal sums to zero, no idempotency key applied twice, a journal
 * reversed at most once, and no drift between stored and derived balances.
 */
export async function ledgerProblems(q: Queryable): Promise<string[]> {
  const problems: string[] = [];
  const total = await q.raw(`SELECT coalesce(sum(balance), 0)::bigint AS total FROM account_balances`);
  if (total.rows[0].total !== 0) problems.push(`balances sum to ${total.rows[0].total}, not 0`);
  const unbalanced = await q.raw(
    `SELECT journal_id, sum(amount)::bigint AS s FROM journal_lines GROUP BY journal_id HAVING sum(amount) <> 0 LIMIT 5`,
  );
  for (const r of unbalanced.rows) problems.push(`journal ${r.journal_id} sums to ${r.s}`);
  const dupKeys = await q.raw(`SELECT idempotency_key FROM journal GROUP BY idempotency_key HAVING count(*) > 1 LIMIT 5`);
  for (const r of dupKeys.rows) problems.push(`idempotency key ${r.idempotency_key} applied twice`);
  const empty = await q.raw(
    `SELECT j.id FROM journal j WHERE NOT EXISTS (SELECT 1 FROM journal_lines l WHERE l.journal_id = j.id) LIMIT 5`,
  );
  for (const r of empty.rows) problems.push(`journal ${r.id} has no lines`);
  for (const d of await reconcile(q)) problems.push(`drift on ${d.account}#${d.shard} ${d.kind}: stored ${d.stored}, derived ${d.derived}`);
  return problems;
}
