import type { Knex } from 'knex';

/**
 * Identity: users with a stable opaque id (the phone is an attribute that can move to another
 * user: numbers are recycled), the roles granted to them, their seller links, login sessions
 * with one-time refresh tokens (stored as SHA-256 hashes only), the terms each login accepted,
 * the subjects of an external identity provider mapped to users, and the sandbox OTP outbox.
 *
 * `token_version` is bumped to revoke every access token of a user at once (logout-all, role
 * changes, erasure). Deletion keeps the `users` row under its opaque id — the ledger's accounts
 * are named after it — with the personal fields emptied and `erased_at` set.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE users (
      id                    text PRIMARY KEY CHECK (id ~ '^usr_[a-z2-7]{20}$'),
      phone                 text UNIQUE CHECK (phone ~ '^\\+[1-9][0-9]{6,14}$'),
      display_name          text,
      token_version         int NOT NULL DEFAULT 0,
      terms_version         text,
      terms_accepted_at     timestamptz,
      deletion_requested_at timestamptz,
      deletion_erase_after  timestamptz,
      erased_at             timestamptz,
      created_at            timestamptz NOT NULL DEFAULT now(),
      last_login_at         timestamptz
    );

    CREATE TABLE user_roles (
      user_id    text NOT NULL REFERENCES users(id),
      role       text NOT NULL CHECK (role IN ('support', 'admin')),
      granted_by text NOT NULL,
      granted_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (user_id, role)
    );

    CREATE TABLE seller_users (
      user_id   text NOT NULL REFERENCES users(id),
      seller_id text NOT NULL REFERENCES sellers(id),
      linked_by text NOT NULL,
      linked_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (user_id, seller_id)
    );

    CREATE TABLE auth_sessions (
      id             text PRIMARY KEY CHECK (id ~ '^ses_[a-z2-7]{20}$'),
      user_id        text NOT NULL REFERENCES users(id),
      device         text,
      user_agent     text,
      ip             text,
      created_at     timestamptz NOT NULL DEFAULT now(),
      last_used_at   timestamptz NOT NULL DEFAULT now(),
      revoked_at     timestamptz,
      revoked_reason text
    );
    CREATE INDEX auth_sessions_user_idx ON auth_sessions (user_id, created_at DESC);

    -- A session's family: every refresh token it was ever given. used_at set = retired; showing a
    -- retired token again revokes the session.
    CREATE TABLE refresh_tokens (
      token_hash bytea PRIMARY KEY,
      session_id text NOT NULL REFERENCES auth_sessions(id),
      issued_at  timestamptz NOT NULL DEFAULT now(),
      expires_at timestamptz NOT NULL,
      used_at    timestamptz
    );
    CREATE INDEX refresh_tokens_session_idx ON refresh_tokens (session_id, used_at);

    CREATE TABLE user_consents (
      id            bigserial PRIMARY KEY,
      user_id       text NOT NULL REFERENCES users(id),
      terms_version text NOT NULL,
      accepted_at   timestamptz NOT NULL DEFAULT now(),
      ip            text,
      user_agent    text
    );
    CREATE INDEX user_consents_user_idx ON user_consents (user_id, accepted_at DESC);

    CREATE TABLE external_identities (
      issuer     text NOT NULL,
      subject    text NOT NULL,
      user_id    text NOT NULL REFERENCES users(id),
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (issuer, subject)
    );
    CREATE INDEX external_identities_user_idx ON external_identities (user_id);

    CREATE SCHEMA IF NOT EXISTS fake_provider;
    -- What the sandbox OTP sender "sent": read by tests and local use (GET /v1/dev/otp-outbox).
    CREATE TABLE fake_provider.otp_messages (
      id         bigserial PRIMARY KEY,
      phone      text NOT NULL,
      code       text NOT NULL,
      body       text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX otp_messages_phone_idx ON fake_provider.otp_messages (phone, id DESC);
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    DROP TABLE IF EXISTS fake_provider.otp_messages, external_identities, user_consents, refresh_tokens,
      auth_sessions, seller_users, user_roles, users
  `);
}
