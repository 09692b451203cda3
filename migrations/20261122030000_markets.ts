import type { Knex } from 'knex';

/**
 * Opinion-trading markets.
 * - `market_orders` is both the order record and the engine's input queue: intake inserts a row
 *   with `engine_pending`; a cancel request re-queues it. The engine consumes pending rows in
 *   `pending_seq` order and clears the flag in the same transaction that writes the outcome.
 * - `market_engines` holds the fencing epoch and the engine's committed progress, apart from
 *   `markets` so order intake (which share-locks the market row) never queues behind the engine.
 * - Intake is `place_market_orders` (migration 20261122030100).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE markets (
      id                          text PRIMARY KEY,
      question                    text NOT NULL,
      opens_at                    timestamptz NOT NULL,
      closes_at                   timestamptz NOT NULL,
      status                      text NOT NULL DEFAULT 'scheduled'
                                  CHECK (status IN ('scheduled', 'open', 'closed', 'resolved', 'settled', 'voided')),
      outcome                     text CHECK (outcome IN ('YES', 'NO')),
      resolution_source           text,
      void_reason                 text,
      fee_bps                     int NOT NULL CHECK (fee_bps BETWEEN 0 AND 1000),
      dispute_window_seconds      int NOT NULL DEFAULT 0 CHECK (dispute_window_seconds >= 0),
      resolution_deadline_seconds int NOT NULL DEFAULT 3600 CHECK (resolution_deadline_seconds > 0),
      created_by                  text NOT NULL,
      opened_at                   timestamptz,
      closed_at                   timestamptz,
      resolved_at                 timestamptz,
      settled_at                  timestamptz,
      voided_at                   timestamptz,
      created_at                  timestamptz NOT NULL DEFAULT now(),
      updated_at                  timestamptz NOT NULL DEFAULT now(),
      CHECK (closes_at > opens_at)
    );
    CREATE INDEX markets_status_idx ON markets (status, closes_at);

    CREATE TABLE market_engines (
      market_id      text PRIMARY KEY REFERENCES markets(id),
      epoch          bigint NOT NULL DEFAULT 0,
      last_book_seq  bigint NOT NULL DEFAULT 0,
      version        bigint NOT NULL DEFAULT 0,
      processed      bigint NOT NULL DEFAULT 0,
      last_price     int,
      volume         bigint NOT NULL DEFAULT 0,
      updated_at     timestamptz NOT NULL DEFAULT now()
    );

    -- Intake order; global so it needs no per-market lock. Commit order may differ from it, which
    -- is why the engine consumes "pending" rows rather than "seq > last seen".
    CREATE SEQUENCE market_order_seq;

    CREATE TABLE market_orders (
      id              text PRIMARY KEY,
      market_id       text NOT NULL REFERENCES markets(id),
      user_id         text NOT NULL,
      client_order_id text NOT NULL,
      side            text NOT NULL CHECK (side IN ('YES', 'NO')),
      action          text NOT NULL CHECK (action IN ('BUY', 'SELL')),
      price           int NOT NULL CHECK (price BETWEEN 50 AND 950 AND price % 50 = 0),
      quantity        int NOT NULL CHECK (quantity > 0),
      tif             text NOT NULL CHECK (tif IN ('GTC', 'IOC', 'FOK')),
      seen_price      int,
      slippage_bps    int NOT NULL,
      seq             bigint NOT NULL DEFAULT nextval('market_order_seq'),
      pending_seq     bigint NOT NULL,
      engine_pending  boolean NOT NULL DEFAULT true,
      cancel_requested boolean NOT NULL DEFAULT false,
      status          text NOT NULL DEFAULT 'accepted'
                      CHECK (status IN ('accepted', 'open', 'filled', 'cancelled', 'expired', 'rejected')),
      book_seq        bigint,
      book_price      int,
      remaining       int NOT NULL CHECK (remaining >= 0),
      filled_qty      int NOT NULL DEFAULT 0 CHECK (filled_qty >= 0),
      cancelled_qty   int NOT NULL DEFAULT 0 CHECK (cancelled_qty >= 0),
      filled_cost     bigint NOT NULL DEFAULT 0,
      fees            bigint NOT NULL DEFAULT 0,
      hold_id         bigint REFERENCES holds(id),
      hold_remaining  bigint NOT NULL DEFAULT 0 CHECK (hold_remaining >= 0),
      reject_reason   text,
      current_price   int,
      created_at      timestamptz NOT NULL DEFAULT now(),
      updated_at      timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT market_orders_user_client_uq UNIQUE (user_id, client_order_id),
      CHECK (filled_qty + cancelled_qty + remaining <= quantity)
    );
    CREATE INDEX market_orders_pending_idx ON market_orders (market_id, pending_seq) WHERE engine_pending;
    CREATE INDEX market_orders_open_idx ON market_orders (market_id, book_seq) WHERE status IN ('open', 'accepted');
    CREATE INDEX market_orders_user_idx ON market_orders (user_id, market_id, seq DESC);

    CREATE TABLE market_fills (
      market_id      text NOT NULL REFERENCES markets(id),
      book_seq       bigint NOT NULL,
      idx            int NOT NULL,
      kind           text NOT NULL CHECK (kind IN ('mint', 'transfer', 'merge')),
      yes_price      int NOT NULL,
      quantity       int NOT NULL CHECK (quantity > 0),
      taker_order_id text NOT NULL,
      taker_user_id  text NOT NULL,
      taker_side     text NOT NULL,
      taker_action   text NOT NULL,
      taker_price    int NOT NULL,
      taker_fee      bigint NOT NULL,
      maker_order_id text NOT NULL,
      maker_user_id  text NOT NULL,
      maker_side     text NOT NULL,
      maker_action   text NOT NULL,
      maker_price    int NOT NULL,
      maker_fee      bigint NOT NULL,
      created_at     timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (market_id, book_seq, idx)
    );
    CREATE INDEX market_fills_taker_idx ON market_fills (taker_order_id);
    CREATE INDEX market_fills_maker_idx ON market_fills (maker_order_id);

    -- cost = net cash the user put into this side (buys + fees − sale proceeds); may go negative.
    CREATE TABLE market_positions (
      market_id text NOT NULL REFERENCES markets(id),
      user_id   text NOT NULL,
      side      text NOT NULL CHECK (side IN ('YES', 'NO')),
      quantity  bigint NOT NULL DEFAULT 0 CHECK (quantity >= 0),
      locked    bigint NOT NULL DEFAULT 0 CHECK (locked >= 0),
      cost      bigint NOT NULL DEFAULT 0,
      updated_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (market_id, user_id, side),
      CHECK (locked <= quantity)
    );

    -- One row per (market, user) whatever the ending: the payout or refund is made exactly once.
    CREATE TABLE market_settlements (
      market_id text NOT NULL REFERENCES markets(id),
      user_id   text NOT NULL,
      kind      text NOT NULL CHECK (kind IN ('payout', 'refund')),
      contracts bigint NOT NULL DEFAULT 0,
      amount    bigint NOT NULL CHECK (amount >= 0),
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (market_id, user_id)
    );

    CREATE TABLE market_alerts (
      id         bigserial PRIMARY KEY,
      market_id  text NOT NULL REFERENCES markets(id),
      kind       text NOT NULL,
      message    text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (market_id, kind)
    );
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    DROP TABLE IF EXISTS market_alerts, market_settlements, market_positions, market_fills, market_orders, market_engines, markets CASCADE;
    DROP SEQUENCE IF EXISTS market_order_seq;
  `);
}
