import { accountPolicy, shardFor } from '../domain/ledger/accounts';
import { reversalLines, validateJournal, type JournalEntry, type LedgerLine } from '../domain/ledger/journal';
import { InsufficientFundsError, isCheckViolation, NotFoundError } from './errors';
import type { Knex } from 'knex';
import type { Queryable, Tx } from './knex';

export interface PostResult {
  journalId: number;
  /** false when the idempotency key had already been applied: nothing moved this time. */
  applied: boolean;
}

function debitedAccounts(lines: LedgerLine[]): string {
  return lines
    .filter((l) => l.amount < 0)
    .map((l) => l.account)
    .join(', ');
}

async function withOverdraftCheck<T>(lines: LedgerLine[], run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (isCheckViolation(err, 'no_overdraft')) throw new InsufficientFundsError(debitedAccounts(lines));
    throw err;
  }
}

/**
 * The hottest statement in the system, sent as a named prepared statement: Postgres parses and
 * plans it once per connection instead of on every posting, which measured as a large share of a
 * single transfer's server time (see bench/ledger.ts). The text must never vary between calls —
 * node-postgres refuses a second text under the same name.
 */
const POST_JOURNAL_STATEMENT = {
  name: 'ledger_post_journal',
  text: `SELECT journal_id, applied FROM post_journal(?, ?, ?, ?, ?, ?::jsonb, ?, ?::text[], ?::smallint[], ?::bigint[], ?::boolean[])`,
};

/**
 * Posts one balanced journal in a single round trip (the `post_journal` function).
 * Idempotent: a repeated key returns the original journal with `applied: false`.
 */
export async function postJournal(q: Queryable, entry: JournalEntry, reversesJournalId?: number): Promise<PostResult> {
  validateJournal(entry);
  const { lines } = entry;
  const shards = lines.map((l) => shardFor(l.account, entry.idempotencyKey));
  const mayNeg = lines.map((l) => accountPolicy(l.account).mayGoNegative);
  return withOverdraftCheck(lines, async () => {
    const { rows } = await q
      .raw(POST_JOURNAL_STATEMENT.text, [
        entry.idempotencyKey,
        entry.reason,
        entry.refType ?? null,
        entry.refId ?? null,
        entry.actor ?? 'system',
        JSON.stringify(entry.metadata ?? {}),
        reversesJournalId ?? null,
        lines.map((l) => l.account),
        shards,
        lines.map((l) => l.amount),
        mayNeg,
      ])
      .options({ name: POST_JOURNAL_STATEMENT.name });
    return { journalId: rows[0].journal_id, applied: rows[0].applied };
  });
}

/**
 * Posts many journals in one transaction with a handful of set-based statements — the path for
 * settlement-style work. Keys already applied are skipped. The no-overdraft check applies to each
 * account's net movement across the batch, which is atomic as a whole.
 */
export async function postJournals(trx: Tx, entries: JournalEntry[]): Promise<{ applied: number; skipped: number }> {
  if (entries.length === 0) return { applied: 0, skipped: 0 };
  entries.forEach(validateJournal);

  const inserted = await trx.raw(
    `INSERT INTO journal (idempotency_key, reason, ref_type, ref_id, actor, metadata)
     SELECT * FROM unnest(?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::jsonb[])
     ON CONFLICT (idempotency_key) DO NOTHING
     RETURNING id, idempotency_key`,
    <Knex.RawBinding[]>[
      entries.map((e) => e.idempotencyKey),
      entries.map((e) => e.reason),
      entries.map((e) => e.refType ?? null),
      entries.map((e) => e.refId ?? null),
      entries.map((e) => e.actor ?? 'system'),
      entries.map((e) => JSON.stringify(e.metadata ?? {})),
    ],
  );
  const idByKey = new Map<string, number>(inserted.rows.map((r: { id: number; idempotency_key: string }) => [r.idempotency_key, r.id]));

  const lineJournal: number[] = [];
  const lineAccount: string[] = [];
  const lineShard: number[] = [];
  const lineAmount: number[] = [];
  const delta = new Map<string, { account: string; shard: number; amount: number }>();
  for (const entry of entries) {
    const journalId = idByKey.get(entry.idempotencyKey);
    if (journalId === undefined) continue;
    for (const line of entry.lines) {
      const shard = shardFor(line.account, entry.idempotencyKey);
      lineJournal.push(journalId);
      lineAccount.push(line.account);
      lineShard.push(shard);
      lineAmount.push(line.amount);
      const k = `${line.account}\u0000${shard}`;
      const d = delta.get(k) ?? { account: line.account, shard, amount: 0 };
      d.amount += line.amount;
      delta.set(k, d);
    }
  }
  if (lineJournal.length === 0) return { applied: 0, skipped: entries.length };

  const moves = [...delta.values()].sort((a, b) => (a.account < b.account ? -1 : a.account > b.account ? 1 : a.shard - b.shard));
  const moveAccounts = moves.map((m) => m.account);
  const moveShards = moves.map((m) => m.shard);
  const moveMayNeg = moves.map((m) => accountPolicy(m.account).mayGoNegative);

  await withOverdraftCheck(
    entries.flatMap((e) => e.lines),
    async () => {
      await trx.raw(
        `INSERT INTO accounts (id, may_go_negative) SELECT DISTINCT * FROM unnest(?::text[], ?::boolean[]) ON CONFLICT DO NOTHING`,
        [moveAccounts, moveMayNeg],
      );
      await trx.raw(
        `INSERT INTO account_balances (account_id, shard, may_go_negative)
         SELECT * FROM unnest(?::text[], ?::smallint[], ?::boolean[]) ON CONFLICT DO NOTHING`,
        [moveAccounts, moveShards, moveMayNeg],
      );
      // Lock in (account, shard) order, the same order post_journal uses, so batches never deadlock.
      await trx.raw(
        `SELECT 1 FROM account_balances b JOIN unnest(?::text[], ?::smallint[]) AS d(account_id, shard)
           ON b.account_id = d.account_id AND b.shard = d.shard
         ORDER BY b.account_id, b.shard FOR UPDATE OF b`,
        [moveAccounts, moveShards],
      );
      await trx.raw(
        `UPDATE account_balances b SET balance = b.balance + d.amount
         FROM unnest(?::text[], ?::smallint[], ?::bigint[]) AS d(account_id, shard, amount)
         WHERE b.account_id = d.account_id AND b.shard = d.shard`,
        [moveAccounts, moveShards, moves.map((m) => m.amount)],
      );
    },
  );
  await trx.raw(
    `INSERT INTO journal_lines (journal_id, account_id, shard, amount)
     SELECT * FROM unnest(?::bigint[], ?::text[], ?::smallint[], ?::bigint[])`,
    [lineJournal, lineAccount, lineShard, lineAmount],
  );
  return { applied: idByKey.size, skipped: entries.length - idByKey.size };
}

/** Undoes a journal with a new one pointing at it. A journal can be reversed only once. */
export async function reverseJournal(
  q: Queryable,
  journalId: number,
  meta: { idempotencyKey: string; reason: string; actor?: string },
): Promise<PostResult> {
  const original = await q('journal').where({ id: journalId }).first();
  if (!original) throw new NotFoundError(`journal ${journalId} not found`);
  const lines: LedgerLine[] = await q('journal_lines').where({ journal_id: journalId }).select('account_id as account', 'amount');
  return postJournal(
    q,
    {
      idempotencyKey: meta.idempotencyKey,
      reason: meta.reason,
      refType: original.ref_type ?? undefined,
      refId: original.ref_id ?? undefined,
      actor: meta.actor,
      metadata: { reverses: journalId },
      lines: reversalLines(lines),
    },
    journalId,
  );
}

export interface HoldRequest {
  account: string;
  amount: number;
  idempotencyKey: string;
  refType?: string;
  refId?: string;
}

/**
 * Reserves funds: they stay in the account but no longer count as available.
 * Run inside the transaction that records what the hold is for (an order, a pending charge).
 */
export async function placeHold(trx: Tx, req: HoldRequest): Promise<{ holdId: number; applied: boolean }> {
  if (!Number.isSafeInteger(req.amount) || req.amount <= 0) throw new RangeError('hold amount must be positive paise');
  const inserted = await trx.raw(
    `INSERT INTO holds (account_id, amount, remaining, idempotency_key, ref_type, ref_id)
     SELECT ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM accounts WHERE id = ?)
     ON CONFLICT (idempotency_key) DO NOTHING RETURNING id`,
    [req.account, req.amount, req.amount, req.idempotencyKey, req.refType ?? null, req.refId ?? null, req.account],
  );
  if (inserted.rows.length === 0) {
    const existing = await trx('holds').where({ idempotency_key: req.idempotencyKey }).first('id');
    if (existing) return { holdId: existing.id, applied: false };
    throw new InsufficientFundsError(req.account); // no account yet: nothing to hold
  }
  await withOverdraftCheck([{ account: req.account, amount: -req.amount }], () =>
    trx.raw(`UPDATE account_balances SET held = held + ? WHERE account_id = ? AND shard = 0`, [req.amount, req.account]),
  );
  return { holdId: inserted.rows[0].id, applied: true };
}

/**
 * Gives back `amount` (default: all that remains) of a hold. Returns what was released, so a
 * repeated release of a closed hold releases nothing.
 */
export async function releaseHold(trx: Tx, holdId: number, amount?: number): Promise<number> {
  const { rows } = await trx.raw(
    `WITH target AS (
       SELECT id, LEAST(remaining, coalesce(?::bigint, remaining)) AS released
       FROM holds WHERE id = ? AND status = 'open' FOR UPDATE
     )
     UPDATE holds h
     SET remaining = h.remaining - t.released,
         status = CASE WHEN h.remaining - t.released = 0 THEN 'closed' ELSE 'open' END
     FROM target t WHERE h.id = t.id
     RETURNING h.account_id, t.released`,
    [amount ?? null, holdId],
  );
  if (rows.length === 0) return 0;
  const { account_id: account, released } = rows[0];
  if (released > 0) {
    await trx.raw(`UPDATE account_balances SET held = held - ? WHERE account_id = ? AND shard = 0`, [released, account]);
  }
  return released;
}

/**
 * Turns part of a hold into a real movement: releases what the journal debits from the held
 * account and posts the journal, atomically. A repeated capture (same journal key) changes nothing.
 */
export async function captureHold(trx: Tx, holdId: number, entry: JournalEntry): Promise<PostResult> {
  const already = await trx('journal').where({ idempotency_key: entry.idempotencyKey }).first('id');
  if (already) return { journalId: already.id, applied: false };
  const hold = await trx('holds').where({ id: holdId }).forUpdate().first('account_id', 'remaining');
  if (!hold) throw new NotFoundError(`hold ${holdId} not found`);
  const debit = -entry.lines.filter((l) => l.account === hold.account_id && l.amount < 0).reduce((s, l) => s + l.amount, 0);
  if (debit <= 0 || debit > hold.remaining) {
    throw new RangeError(`capture of ${debit} from hold ${holdId} (remaining ${hold.remaining}) is not allowed`);
  }
  await releaseHold(trx, holdId, debit);
  return postJournal(trx, entry);
}
