import type { Knex } from 'knex';

/**
 * The wallet ledger: double-entry, append-only.
 * - `account_balances` is derived state kept in the same transaction as the lines; hot platform
 *   accounts are split into shards (one row each) so concurrent postings do not queue on one lock.
 * - `post_journal` posts one balanced journal in a single round trip: idempotent on its key,
 *   locking balance rows in (account, shard) order so concurrent transfers never deadlock.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE accounts (
      id              text PRIMARY KEY,
      may_go_negative boolean NOT NULL,
      created_at      timestamptz NOT NULL DEFAULT now()
    );

    CREATE TABLE account_balances (
      account_id      text NOT NULL REFERENCES accounts(id),
      shard           smallint NOT NULL DEFAULT 0,
      balance         bigint NOT NULL DEFAULT 0,
      held            bigint NOT NULL DEFAULT 0 CHECK (held >= 0),
      may_go_negative boolean NOT NULL,
      PRIMARY KEY (account_id, shard),
      CONSTRAINT no_overdraft CHECK (may_go_negative OR balance - held >= 0)
    );

    CREATE TABLE journal (
      id                  bigserial PRIMARY KEY,
      idempotency_key     text NOT NULL UNIQUE,
      reason              text NOT NULL,
      ref_type            text,
      ref_id              text,
      actor               text NOT NULL DEFAULT 'system',
      reverses_journal_id bigint REFERENCES journal(id),
      metadata            jsonb NOT NULL DEFAULT '{}'::jsonb,
      created_at          timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX journal_ref_idx ON journal (ref_type, ref_id);
    -- A journal is reversed at most once. Partial, so ordinary postings pay nothing for it.
    CREATE UNIQUE INDEX journal_reversal_once ON journal (reverses_journal_id) WHERE reverses_journal_id IS NOT NULL;

    -- No surrogate key: lines are only ever read by journal or by account.
    CREATE TABLE journal_lines (
      journal_id bigint NOT NULL REFERENCES journal(id),
      account_id text NOT NULL REFERENCES accounts(id),
      shard      smallint NOT NULL DEFAULT 0,
      amount     bigint NOT NULL CHECK (amount <> 0)
    );
    CREATE INDEX journal_lines_account_idx ON journal_lines (account_id, journal_id DESC);
    CREATE INDEX journal_lines_journal_idx ON journal_lines (journal_id);

    -- Funds reserved for an open order or a pending charge. The reserved amount lives in
    -- account_balances.held so the no_overdraft check covers holds too.
    CREATE TABLE holds (
      id              bigserial PRIMARY KEY,
      account_id      text NOT NULL REFERENCES accounts(id),
      amount          bigint NOT NULL CHECK (amount > 0),
      remaining       bigint NOT NULL CHECK (remaining >= 0),
      status          text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
      idempotency_key text NOT NULL UNIQUE,
      ref_type        text,
      ref_id          text,
      created_at      timestamptz NOT NULL DEFAULT now(),
      CHECK (remaining <= amount)
    );
    CREATE INDEX holds_open_idx ON holds (account_id) WHERE status = 'open';

    CREATE TABLE balance_snapshots (
      account_id text NOT NULL REFERENCES accounts(id),
      as_of      date NOT NULL,
      balance    bigint NOT NULL,
      PRIMARY KEY (account_id, as_of)
    );

    -- Journal and lines are append-only: a mistake is undone by a reversal, never an edit.
    CREATE FUNCTION forbid_ledger_rewrite() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION 'ledger table % is append-only', TG_TABLE_NAME USING ERRCODE = 'MJ003';
    END $$;
    CREATE TRIGGER journal_append_only BEFORE UPDATE OR DELETE ON journal
      FOR EACH STATEMENT EXECUTE FUNCTION forbid_ledger_rewrite();
    CREATE TRIGGER journal_lines_append_only BEFORE UPDATE OR DELETE ON journal_lines
      FOR EACH STATEMENT EXECUTE FUNCTION forbid_ledger_rewrite();

    CREATE FUNCTION post_journal(
      p_key text, p_reason text, p_ref_type text, p_ref_id text, p_actor text, p_metadata jsonb,
      p_reverses bigint, p_accounts text[], p_shards smallint[], p_amounts bigint[], p_may_neg boolean[],
      OUT journal_id bigint, OUT applied boolean
    ) LANGUAGE plpgsql AS $$
    DECLARE
      n int := coalesce(array_length(p_accounts, 1), 0);
      i int;
      total bigint := 0;
      lock_order int[];
    BEGIN
      IF n < 2 THEN
        RAISE EXCEPTION 'a journal needs at least two lines' USING ERRCODE = 'MJ001';
      END IF;
      FOR i IN 1..n LOOP
        total := total + p_amounts[i];
      END LOOP;
      IF total <> 0 THEN
        RAISE EXCEPTION 'journal % does not balance', p_key USING ERRCODE = 'MJ002';
      END IF;

      INSERT INTO journal (idempotency_key, reason, ref_type, ref_id, actor, metadata, reverses_journal_id)
      VALUES (p_key, p_reason, p_ref_type, p_ref_id, coalesce(p_actor, 'system'), coalesce(p_metadata, '{}'::jsonb), p_reverses)
      ON CONFLICT (idempotency_key) DO NOTHING
      RETURNING id INTO journal_id;

      IF journal_id IS NULL THEN
        SELECT j.id INTO journal_id FROM journal j WHERE j.idempotency_key = p_key;
        applied := false;
        RETURN;
      END IF;

      -- Lock balance rows in (account, shard) order so concurrent postings never deadlock.
      -- Two lines (the common case) are ordered without a query.
      IF n = 2 THEN
        lock_order := CASE WHEN (p_accounts[1], p_shards[1]) <= (p_accounts[2], p_shards[2]) THEN ARRAY[1, 2] ELSE ARRAY[2, 1] END;
      ELSE
        SELECT array_agg(t.o ORDER BY t.acc, t.sh) INTO lock_order
        FROM unnest(p_accounts, p_shards) WITH ORDINALITY AS t(acc, sh, o);
      END IF;
      FOREACH i IN ARRAY lock_order LOOP
        UPDATE account_balances SET balance = balance + p_amounts[i]
        WHERE account_id = p_accounts[i] AND shard = p_shards[i];
        IF NOT FOUND THEN
          INSERT INTO accounts (id, may_go_negative) VALUES (p_accounts[i], p_may_neg[i]) ON CONFLICT DO NOTHING;
          INSERT INTO account_balances (account_id, shard, balance, may_go_negative)
          VALUES (p_accounts[i], p_shards[i], p_amounts[i], p_may_neg[i])
          ON CONFLICT (account_id, shard) DO UPDATE SET balance = account_balances.balance + EXCLUDED.balance;
        END IF;
      END LOOP;

      INSERT INTO journal_lines (journal_id, account_id, shard, amount)
      SELECT post_journal.journal_id, t.a, t.s, t.m FROM unnest(p_accounts, p_shards, p_amounts) AS t(a, s, m);
      applied := true;
    END $$;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    DROP FUNCTION IF EXISTS post_journal;
    DROP TABLE IF EXISTS balance_snapshots, holds, journal_lines, journal, account_balances, accounts CASCADE;
    DROP FUNCTION IF EXISTS forbid_ledger_rewrite;
  `);
}
