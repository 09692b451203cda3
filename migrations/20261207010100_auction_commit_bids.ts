import type { Knex } from 'knex';

/**
 * commit_auction_bids(p jsonb): one statement (its own transaction) that records a batch of bids
 * an API instance decided against the lot as it last knew it (api/auction-intake.ts). It is the
 * fence for those decisions, all under the lot's row lock:
 *
 * - the lot must still be open at the version the decisions were made against (a close, a sale, a
 *   cancel, an open or another instance's bids all raise it) → otherwise {ok: false, reason: 'stale'};
 * - the database clock, read after the lock was granted, must be before the lot's end (the close is
 *   fenced here, not only by the workflow's timer) → otherwise 'late';
 * - every accepted bidder must still cover their maximum (available funds, plus what is held for
 *   them on this lot now) → otherwise 'funds', with each bidder's available funds as they are.
 *
 * Then, as db/auction-bids.ts#recordBids does inside its transaction: the bids are inserted, the
 * leader's hold replaced when the lead or its maximum changed (the old one closed, the new one
 * placed, account_balances.held moved so no_overdraft covers it) and the lot moved (book, price,
 * leader, end, version + 1). It answers the bids and the lot as stored, the holds released and
 * the available funds of every wallet it touched, after the writes.
 *
 * p: {lotId, version, at (ms: the instant the bids were judged at), bids: [{bidder, cid, kind,
 *     amount, max_amount, seq, price, leader, ends_at}], funds: [{wallet, required}],
 *     hold: {changes, wallet, amount, key}, lot: {book, price, leader, bid_count, status, ends_at}}
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE OR REPLACE FUNCTION commit_auction_bids(p jsonb) RETURNS jsonb LANGUAGE plpgsql AS $$
    DECLARE
      v_lot auction_lots%ROWTYPE;
      v_now_ms bigint;
      v_short jsonb;
      v_bids jsonb;
      v_released jsonb := '[]'::jsonb;
      v_old record;
      v_hold_id bigint;
      v_changes boolean := (p->'hold'->>'changes')::boolean;
      v_wallets text[];
      v_available jsonb;
    BEGIN
      SELECT * INTO v_lot FROM auction_lots WHERE id = p->>'lotId' FOR UPDATE;
      v_now_ms := (extract(epoch FROM clock_timestamp()) * 1000)::bigint;
      IF NOT FOUND OR v_lot.version <> (p->>'version')::int OR v_lot.status <> 'open' OR v_lot.book IS NULL THEN
        RETURN jsonb_build_object('ok', false, 'reason', 'stale', 'nowMs', v_now_ms);
      END IF;
      IF v_now_ms >= (v_lot.book->>'endsAt')::bigint THEN
        RETURN jsonb_build_object('ok', false, 'reason', 'late', 'nowMs', v_now_ms);
      END IF;

      v_wallets := ARRAY(SELECT f->>'wallet' FROM jsonb_array_elements(p->'funds') f);
      SELECT jsonb_object_agg(f.wallet, coalesce(a.available, 0)) FILTER (WHERE coalesce(a.available, 0) < f.required)
        INTO v_short
        FROM jsonb_to_recordset(p->'funds') AS f(wallet text, required bigint)
        LEFT JOIN (SELECT account_id, sum(balance) - sum(held) AS available FROM account_balances
                   WHERE account_id = ANY(v_wallets) GROUP BY account_id) a ON a.account_id = f.wallet;
      IF v_short IS NOT NULL THEN
        RETURN jsonb_build_object('ok', false, 'reason', 'funds', 'funds', v_short, 'nowMs', v_now_ms);
      END IF;

      WITH bids AS (
        INSERT INTO auction_bids (lot_id, placed_at, bidder_id, client_bid_id, kind, amount, max_amount, seq, price_after,
                                  leader_after, ends_at_after)
        SELECT v_lot.id, to_timestamp((p->>'at')::double precision / 1000), b.bidder, b.cid, b.kind, b.amount, b.max_amount,
               b.seq, b.price, b.leader, to_timestamp(b.ends_at::double precision / 1000)
        FROM jsonb_to_recordset(p->'bids') AS b(bidder text, cid text, kind text, amount bigint, max_amount bigint, seq int,
                                                 price bigint, leader text, ends_at bigint)
        RETURNING *
      )
      SELECT jsonb_agg(to_jsonb(bids) ORDER BY bids.seq) INTO v_bids FROM bids;

      IF v_changes THEN
        -- The old leader's hold first: a leader raising their own maximum frees it before the larger one is placed.
        SELECT h.id, h.account_id, h.remaining INTO v_old FROM holds h WHERE h.id = v_lot.leader_hold_id AND h.status = 'open' FOR UPDATE;
        IF FOUND THEN
          UPDATE holds SET remaining = 0, status = 'closed' WHERE id = v_old.id;
          UPDATE account_balances SET held = held - v_old.remaining WHERE account_id = v_old.account_id AND shard = 0;
          v_released := jsonb_build_array(jsonb_build_object('account_id', v_old.account_id, 'amount', v_old.remaining));
        END IF;
        INSERT INTO holds (account_id, amount, remaining, idempotency_key, ref_type, ref_id)
        VALUES (p->'hold'->>'wallet', (p->'hold'->>'amount')::bigint, (p->'hold'->>'amount')::bigint, p->'hold'->>'key',
                'auction_lot', v_lot.id)
        RETURNING id INTO v_hold_id;
        UPDATE account_balances SET held = held + (p->'hold'->>'amount')::bigint
        WHERE account_id = p->'hold'->>'wallet' AND shard = 0;
        IF NOT FOUND THEN
          RAISE EXCEPTION 'wallet % has no balance to hold', p->'hold'->>'wallet' USING ERRCODE = 'check_violation',
            CONSTRAINT = 'no_overdraft';
        END IF;
      END IF;

      UPDATE auction_lots SET book = p->'lot'->'book', price = (p->'lot'->>'price')::bigint, leader_id = p->'lot'->>'leader',
        bid_count = (p->'lot'->>'bid_count')::int, status = p->'lot'->>'status',
        ends_at = to_timestamp((p->'lot'->>'ends_at')::double precision / 1000),
        closed_at = CASE WHEN p->'lot'->>'status' = 'closed' THEN clock_timestamp() ELSE closed_at END,
        leader_hold_id = CASE WHEN v_changes THEN v_hold_id ELSE leader_hold_id END,
        version = version + 1
      WHERE id = v_lot.id
      RETURNING * INTO v_lot;

      SELECT jsonb_object_agg(account_id, available) INTO v_available
        FROM (SELECT account_id, sum(balance) - sum(held) AS available FROM account_balances
              WHERE account_id = ANY(v_wallets || ARRAY(SELECT r->>'account_id' FROM jsonb_array_elements(v_released) r))
              GROUP BY account_id) a;

      RETURN jsonb_build_object('ok', true, 'bids', v_bids, 'lot', to_jsonb(v_lot), 'released', v_released,
                                'available', coalesce(v_available, '{}'::jsonb), 'nowMs', v_now_ms);
    END $$;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`DROP FUNCTION IF EXISTS commit_auction_bids(jsonb)`);
}
