import type { Knex } from 'knex';

/**
 * Fulfilment: areas, staff, addresses, outcomes, credits and the end-of-day summary.
 *
 * - An area is the existing holiday region (`subscriptions.region`), given a row of its own with a
 *   time zone, a cutoff (the local time its day closes) and its credit policy for `not_home` and
 *   `no_access`. One notion: the area id is the region's name, so a holiday for region X skips
 *   area X. No foreign key from subscriptions: older rows name regions that have no area yet.
 * - Delivery staff are assigned to areas; the `delivery` role joins the roles an admin grants.
 * - An address belongs to an area and a customer, and carries the sequence ops set for the route.
 *   A subscription's address must lie in its own area: the link's composite keys say so to the
 *   database, so no code path can route a delivery into another area's sheet.
 * - A delivery gains its outcome (status `unconfirmed` when its area's day closed without one),
 *   a revision, and its credit; every applied or superseded report is kept in delivery_outcomes.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    ALTER TABLE user_roles DROP CONSTRAINT user_roles_role_check,
      ADD CONSTRAINT user_roles_role_check CHECK (role IN ('support', 'admin', 'delivery'));

    CREATE TABLE delivery_areas (
      id               text PRIMARY KEY CHECK (id ~ '^[a-z0-9_-]{1,32}$'),
      name             text NOT NULL,
      timezone         text NOT NULL DEFAULT 'Asia/Kolkata',
      cutoff           text NOT NULL DEFAULT '12:00' CHECK (cutoff ~ '^([01][0-9]|2[0-3]):[0-5][0-9]$'),
      credit_not_home  boolean NOT NULL DEFAULT false,
      credit_no_access boolean NOT NULL DEFAULT true,
      created_by       text NOT NULL,
      created_at       timestamptz NOT NULL DEFAULT now(),
      updated_at       timestamptz NOT NULL DEFAULT now()
    );

    CREATE TABLE delivery_area_staff (
      area_id     text NOT NULL REFERENCES delivery_areas (id),
      user_id     text NOT NULL,
      assigned_by text NOT NULL,
      assigned_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (area_id, user_id)
    );
    CREATE INDEX delivery_area_staff_user_idx ON delivery_area_staff (user_id);

    CREATE TABLE delivery_addresses (
      id          text PRIMARY KEY,
      area_id     text NOT NULL REFERENCES delivery_areas (id),
      customer_id text NOT NULL,
      line        text NOT NULL,
      notes       text,
      sequence    int CHECK (sequence >= 0),
      created_at  timestamptz NOT NULL DEFAULT now(),
      updated_at  timestamptz NOT NULL DEFAULT now(),
      UNIQUE (id, area_id)
    );
    -- The same customer giving the same address twice (two subscriptions to one door) gets one stop.
    CREATE UNIQUE INDEX delivery_addresses_customer_line_idx ON delivery_addresses (customer_id, area_id, lower(line));

    -- The route sheet walks an area's subscriptions, then each one's delivery of the day by key.
    CREATE INDEX subscriptions_area_idx ON subscriptions (region, id);
    CREATE UNIQUE INDEX subscriptions_id_region_idx ON subscriptions (id, region);

    CREATE TABLE subscription_addresses (
      subscription_id text PRIMARY KEY,
      area_id         text NOT NULL,
      address_id      text NOT NULL,
      updated_at      timestamptz NOT NULL DEFAULT now(),
      FOREIGN KEY (subscription_id, area_id) REFERENCES subscriptions (id, region),
      FOREIGN KEY (address_id, area_id) REFERENCES delivery_addresses (id, area_id)
    );
    CREATE INDEX subscription_addresses_address_idx ON subscription_addresses (address_id);

    ALTER TABLE deliveries
      DROP CONSTRAINT deliveries_status_check,
      ADD CONSTRAINT deliveries_status_check CHECK (status IN ('scheduled', 'delivered', 'failed', 'unconfirmed')),
      ADD COLUMN failure_reason    text CHECK (failure_reason IN ('not_home', 'refused', 'no_access', 'out_of_stock', 'other')),
      ADD COLUMN outcome_at        timestamptz,
      ADD COLUMN outcome_note      text,
      ADD COLUMN outcome_by        text,
      ADD COLUMN outcome_source    text CHECK (outcome_source IN ('staff', 'ops', 'system')),
      ADD COLUMN customer_caused   boolean,
      ADD COLUMN revision          int NOT NULL DEFAULT 0,
      ADD COLUMN credits_issued    int NOT NULL DEFAULT 0,
      ADD COLUMN credit_journal_id bigint,
      ADD COLUMN credited_amount   bigint NOT NULL DEFAULT 0 CHECK (credited_amount >= 0),
      ADD CONSTRAINT deliveries_failed_has_reason CHECK ((status = 'failed') = (failure_reason IS NOT NULL)),
      ADD CONSTRAINT deliveries_credit_check CHECK ((credit_journal_id IS NULL) = (credited_amount = 0));

    -- Every report that was applied, or arrived after a later one (superseded), and every close.
    CREATE TABLE delivery_outcomes (
      id              bigserial PRIMARY KEY,
      subscription_id text NOT NULL,
      delivery_date   date NOT NULL,
      revision        int NOT NULL,
      status          text NOT NULL CHECK (status IN ('delivered', 'failed', 'unconfirmed')),
      failure_reason  text,
      note            text,
      occurred_at     timestamptz,
      source          text NOT NULL CHECK (source IN ('staff', 'ops', 'system')),
      reported_by     text NOT NULL,
      result          text NOT NULL CHECK (result IN ('applied', 'superseded')),
      received_at     timestamptz NOT NULL DEFAULT now(),
      FOREIGN KEY (subscription_id, delivery_date) REFERENCES deliveries (subscription_id, delivery_date)
    );
    CREATE INDEX delivery_outcomes_delivery_idx ON delivery_outcomes (subscription_id, delivery_date, id);

    CREATE TABLE delivery_day_summaries (
      area_id          text NOT NULL REFERENCES delivery_areas (id),
      delivery_date    date NOT NULL,
      total            int NOT NULL,
      delivered        int NOT NULL,
      failed           int NOT NULL,
      failed_by_reason jsonb NOT NULL,
      unconfirmed      int NOT NULL,
      scheduled        int NOT NULL,
      credits          int NOT NULL,
      credited_amount  bigint NOT NULL,
      closed_at        timestamptz NOT NULL DEFAULT now(),
      updated_at       timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (area_id, delivery_date)
    );
    CREATE INDEX delivery_day_summaries_date_idx ON delivery_day_summaries (delivery_date);

    CREATE TABLE delivery_alerts (
      id            bigserial PRIMARY KEY,
      kind          text NOT NULL CHECK (kind IN ('deliveries_unconfirmed', 'credit_unpriced', 'credit_reversal_failed')),
      area_id       text NOT NULL,
      delivery_date date NOT NULL,
      -- The delivery id for an alert about one delivery, '' for one about the area's day.
      subject       text NOT NULL DEFAULT '',
      count         int NOT NULL DEFAULT 0,
      message       text NOT NULL,
      raised_at     timestamptz NOT NULL DEFAULT now(),
      updated_at    timestamptz NOT NULL DEFAULT now(),
      resolved_at   timestamptz
    );
    CREATE UNIQUE INDEX delivery_alerts_open_idx ON delivery_alerts (kind, area_id, delivery_date, subject) WHERE resolved_at IS NULL;
    CREATE INDEX delivery_alerts_raised_idx ON delivery_alerts (raised_at DESC, id DESC);
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    DROP TABLE IF EXISTS delivery_alerts, delivery_day_summaries, delivery_outcomes, subscription_addresses, delivery_addresses,
      delivery_area_staff, delivery_areas;
    DROP INDEX IF EXISTS subscriptions_area_idx, subscriptions_id_region_idx;
    ALTER TABLE deliveries
      DROP CONSTRAINT IF EXISTS deliveries_credit_check,
      DROP CONSTRAINT IF EXISTS deliveries_failed_has_reason,
      DROP COLUMN IF EXISTS credited_amount, DROP COLUMN IF EXISTS credit_journal_id, DROP COLUMN IF EXISTS credits_issued,
      DROP COLUMN IF EXISTS revision, DROP COLUMN IF EXISTS customer_caused, DROP COLUMN IF EXISTS outcome_source,
      DROP COLUMN IF EXISTS outcome_by, DROP COLUMN IF EXISTS outcome_note, DROP COLUMN IF EXISTS outcome_at,
      DROP COLUMN IF EXISTS failure_reason;
    UPDATE deliveries SET status = 'scheduled' WHERE status = 'unconfirmed';
    ALTER TABLE deliveries DROP CONSTRAINT deliveries_status_check,
      ADD CONSTRAINT deliveries_status_check CHECK (status IN ('scheduled', 'delivered', 'failed'));
    DELETE FROM user_roles WHERE role = 'delivery';
    ALTER TABLE user_roles DROP CONSTRAINT user_roles_role_check,
      ADD CONSTRAINT user_roles_role_check CHECK (role IN ('support', 'admin'));
  `);
}
