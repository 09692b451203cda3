import type { Knex } from 'knex';

/** API plumbing shared by every flow: idempotent requests and the audit trail. */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE idempotency_keys (
      user_id      text NOT NULL,
      key          text NOT NULL,
      method       text NOT NULL,
      path         text NOT NULL,
      request_hash text NOT NULL,
      status_code  int,
      response     jsonb,
      created_at   timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (user_id, key)
    );

    CREATE TABLE audit_log (
      id          bigserial PRIMARY KEY,
      actor       text NOT NULL,
      roles       text[] NOT NULL,
      action      text NOT NULL,
      target_type text NOT NULL,
      target_id   text NOT NULL,
      details     jsonb NOT NULL DEFAULT '{}'::jsonb,
      created_at  timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX audit_log_target_idx ON audit_log (target_type, target_id);
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP TABLE IF EXISTS audit_log, idempotency_keys');
}
