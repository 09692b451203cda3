import type { Knex } from 'knex';

/**
 * Live auctions: a seller's `auction_shows` and their `auction_lots`, each lot one product (quantity
 * 1) sold to the highest funded bid.
 *
 * - `auction_lots` is the lot's whole live state. `book` is the bidding state (leader, runner-up,
 *   price, each bidder's best bid: domain/auction); the columns beside it copy what reads and
 *   indexes need. Every bid, buy-now and close locks this one row, so the close is fenced in the
 *   database: a bid is accepted only while `status = 'open'` and the database clock is before
 *   `ends_at`, checked under the same lock the close takes. `version` rises with every change
 *   watchers see (bid, close, sale), so a feed can drop anything older than what a client has.
 * - `leader_hold_id`: only the leader's funds are held (a hold in the ledger for their maximum);
 *   an outbid leader's hold is closed in the bid's own transaction.
 * - `auction_bids` records every accepted bid, idempotent on (bidder, client_bid_id).
 * - `auction_offers`: a second-chance offer to a runner-up after the winner's order was cancelled.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TABLE auction_shows (
      id          text PRIMARY KEY CHECK (id ~ '^show_[a-z0-9]{8,40}$'),
      seller_id   text NOT NULL REFERENCES sellers(id),
      title       text NOT NULL,
      status      text NOT NULL DEFAULT 'scheduled' CHECK (status IN ('scheduled', 'live', 'paused', 'ended')),
      version     int NOT NULL DEFAULT 0,
      created_at  timestamptz NOT NULL DEFAULT now(),
      started_at  timestamptz,
      ended_at    timestamptz
    );
    CREATE INDEX auction_shows_seller_idx ON auction_shows (seller_id, created_at DESC);

    CREATE TABLE auction_lots (
      id              text PRIMARY KEY CHECK (id ~ '^lot_[a-z0-9]{8,40}$'),
      show_id         text REFERENCES auction_shows(id),
      position        int,
      seller_id       text NOT NULL REFERENCES sellers(id),
      product_id      text NOT NULL REFERENCES products(id),
      title           text NOT NULL,
      starting_price  bigint NOT NULL CHECK (starting_price > 0),
      reserve_price   bigint CHECK (reserve_price > 0),
      buy_now_price   bigint CHECK (buy_now_price > 0),
      duration_ms     int NOT NULL CHECK (duration_ms > 0),
      soft_close_ms   int NOT NULL CHECK (soft_close_ms >= 0),
      sudden_death    boolean NOT NULL DEFAULT false,
      increments      jsonb NOT NULL,
      starts_at       timestamptz,
      status          text NOT NULL DEFAULT 'scheduled'
                      CHECK (status IN ('scheduled', 'open', 'closed', 'sold', 'unsold', 'cancelled')),
      book            jsonb,
      price           bigint,
      leader_id       text,
      leader_hold_id  bigint REFERENCES holds(id),
      bid_count       int NOT NULL DEFAULT 0,
      version         int NOT NULL DEFAULT 0,
      opened_at       timestamptz,
      ends_at         timestamptz,
      closed_at       timestamptz,
      winner_id       text,
      sold_price      bigint,
      order_id        text REFERENCES orders(id),
      outcome_reason  text,
      created_at      timestamptz NOT NULL DEFAULT now(),
      UNIQUE (show_id, position),
      CHECK (reserve_price IS NULL OR reserve_price >= starting_price),
      CHECK (buy_now_price IS NULL OR buy_now_price > starting_price),
      CHECK (buy_now_price IS NULL OR reserve_price IS NULL OR buy_now_price >= reserve_price)
    );
    CREATE INDEX auction_lots_seller_idx ON auction_lots (seller_id, created_at DESC);
    CREATE INDEX auction_lots_winner_idx ON auction_lots (winner_id) WHERE winner_id IS NOT NULL;

    CREATE TABLE auction_bids (
      id            bigserial PRIMARY KEY,
      lot_id        text NOT NULL REFERENCES auction_lots(id),
      bidder_id     text NOT NULL,
      client_bid_id text NOT NULL,
      kind          text NOT NULL DEFAULT 'bid' CHECK (kind IN ('bid', 'buy_now')),
      amount        bigint NOT NULL CHECK (amount > 0),
      max_amount    bigint NOT NULL CHECK (max_amount >= amount),
      seq           int NOT NULL,
      price_after   bigint NOT NULL,
      leader_after  text NOT NULL,
      ends_at_after timestamptz NOT NULL,
      placed_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
      UNIQUE (lot_id, bidder_id, client_bid_id),
      UNIQUE (lot_id, seq)
    );
    CREATE INDEX auction_bids_bidder_idx ON auction_bids (bidder_id, id DESC);

    CREATE TABLE auction_offers (
      id          bigserial PRIMARY KEY,
      lot_id      text NOT NULL REFERENCES auction_lots(id),
      bidder_id   text NOT NULL,
      amount      bigint NOT NULL CHECK (amount > 0),
      status      text NOT NULL DEFAULT 'offered' CHECK (status IN ('offered', 'accepted', 'declined', 'expired')),
      expires_at  timestamptz NOT NULL,
      order_id    text REFERENCES orders(id),
      created_at  timestamptz NOT NULL DEFAULT now(),
      decided_at  timestamptz,
      UNIQUE (lot_id, bidder_id)
    );
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`DROP TABLE IF EXISTS auction_offers, auction_bids, auction_lots, auction_shows CASCADE;`);
}
