import type { Knex } from 'knex';

/**
 * A flow parked as `stuck` on a step that retrying could not fix: one row per park, open until
 * support retries the step successfully or abandons it. Ops read them in GET /v1/ops/alerts.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE flow_alerts (
      id          bigserial PRIMARY KEY,
      workflow_id text NOT NULL,
      flow_type   text NOT NULL,
      step        text NOT NULL,
      reason      text NOT NULL,
      code        text,
      raised_at   timestamptz NOT NULL DEFAULT now(),
      resolved_at timestamptz,
      resolution  text CHECK (resolution IN ('retried', 'abandoned', 'decided', 'cancelled')),
      CHECK ((resolved_at IS NULL) = (resolution IS NULL))
    );
    -- A step is parked once at a time: raising it again (an activity retry) is a no-op.
    CREATE UNIQUE INDEX flow_alerts_open_idx ON flow_alerts (workflow_id, step) WHERE resolved_at IS NULL;
    CREATE INDEX flow_alerts_raised_idx ON flow_alerts (raised_at DESC);
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`DROP TABLE IF EXISTS flow_alerts`);
}
