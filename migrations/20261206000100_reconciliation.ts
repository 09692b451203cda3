import type { Knex } from 'knex';

/**
 * The ops console's reconciliation list (db/reconciliation.ts) reads each source of work for a
 * human through a partial index on exactly what it lists, so the list and its counts stay fast
 * however many settled rows the tables hold.
 *
 * `ledger_drift_findings`: what the last re-derivation of the balances found (db/ledger-reports.ts
 * `reconcile`), one open row per account, shard and kind; a re-check closes the rows that no
 * longer drift. Drift is otherwise only logged, which ops cannot list or act on.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE ledger_drift_findings (
      id          bigserial PRIMARY KEY,
      account_id  text NOT NULL,
      shard       int NOT NULL,
      kind        text NOT NULL CHECK (kind IN ('balance', 'held')),
      stored      bigint NOT NULL,
      derived     bigint NOT NULL,
      found_at    timestamptz NOT NULL DEFAULT now(),
      checked_at  timestamptz NOT NULL DEFAULT now(),
      resolved_at timestamptz
    );
    CREATE UNIQUE INDEX ledger_drift_open_idx ON ledger_drift_findings (account_id, shard, kind) WHERE resolved_at IS NULL;
    CREATE INDEX ledger_drift_found_idx ON ledger_drift_findings (found_at, id) WHERE resolved_at IS NULL;

    CREATE INDEX flow_alerts_open_raised_idx ON flow_alerts (raised_at, id) WHERE resolved_at IS NULL;
    CREATE INDEX payouts_unsettled_idx ON payouts (updated_at, id) WHERE status IN ('in_flight', 'failed');
    CREATE INDEX subscriptions_dunning_idx ON subscriptions (updated_at, id)
      WHERE status = 'active' AND billing_state IN ('retrying', 'payment_failed');
    CREATE INDEX topups_unconfirmed_idx ON topups (created_at, id) WHERE status IN ('pending', 'awaiting_confirmation');
    CREATE INDEX markets_unfinished_idx ON markets (status, closed_at, resolved_at) WHERE status IN ('closed', 'resolved');
    CREATE INDEX audit_log_target_recent_idx ON audit_log (target_id, created_at DESC);
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    DROP INDEX IF EXISTS audit_log_target_recent_idx, markets_unfinished_idx, topups_unconfirmed_idx, subscriptions_dunning_idx,
      payouts_unsettled_idx, flow_alerts_open_raised_idx;
    DROP TABLE IF EXISTS ledger_drift_findings;
  `);
}
