import type { Knex } from 'knex';

/**
 * Group commit for market engines. One worker process runs many engines, and with a hundred busy
 * markets each engine committed its own small batch (commit_market_batch: a dozen statements and a
 * transaction whatever the batch's size, about 4–5 ms of server time each on a busy machine) and
 * read its own queue: a hundred small transactions a round, taking turns on the same wallet rows
 * while intake waited behind them. `commit_market_batches` commits several markets' batches in one
 * statement and one transaction, with the same dozen statements over all of their rows at once:
 *
 * - Every market's engine row is locked first, in market order, and each batch's epoch is checked
 *   against it: only the batches whose epoch is current (the live markets) are applied, a stale one
 *   is answered `stale` and nothing of it is written. Every row of the payload carries its market.
 * - Then as commit_market_batch: ledger rows created, every wallet and ledger row locked in key
 *   order, positions in (market, user, side) order, hold draw-downs (all of them must match),
 *   journals idempotent on their keys, fills, positions, order states, queue acks; the CHECKs
 *   (no overdraft) apply as always. These are the orders intake and a single commit take the same
 *   rows in, so a group deadlocks with neither nor with another group.
 * - Anything that fails fails the statement as a whole; the caller then commits each batch on its
 *   own, so a failing market fails alone (db/market-engine-store.ts#MarketEngineStore). No
 *   exception block per market: a subtransaction each would overflow the subtransaction cache.
 *
 * The payload: `engines` [{ idx, market_id, epoch, last_book_seq, processed, last_price, volume,
 * next }] (at most one per market; `next`: how many queued commands to return), and `holds`,
 * `journals`, `lines`, `fills`, `positions`, `orders`, `acks` as in commit_market_batch, each row
 * with its `market_id`. The answer: per engine `{ idx, stale: true }` or `{ idx, version,
 * suspended, next }` (commit_market_batch's answer).
 *
 * `read_market_queues` reads several markets' queued commands in one statement (each up to its
 * own limit, in queue order), for engines woken together.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE FUNCTION commit_market_batches(p jsonb) RETURNS jsonb LANGUAGE plpgsql
    SET enable_seqscan = off AS $$
    DECLARE
      v_live text[];
      v_versions jsonb;
      v_count bigint;
      v_ids bigint[];
      v_keys text[];
      v_accounts text[];
      v_hold_ids bigint[];
      v_users text[];
      v_order_ids text[];
      v_ack_ids text[];
    BEGIN
      -- The engine rows first, in market order; then the batches whose epoch is current (the live
      -- markets) are the only ones applied. Every row below is filtered to them.
      PERFORM 1 FROM market_engines me
      WHERE me.market_id = ANY(ARRAY(SELECT x->>'market_id' FROM jsonb_array_elements(p->'engines') x))
      ORDER BY me.market_id FOR UPDATE;
      v_live := ARRAY(
        SELECT x.market_id FROM jsonb_to_recordset(p->'engines') AS x(market_id text, epoch bigint)
        JOIN market_engines me ON me.market_id = x.market_id AND me.epoch = x.epoch);
      WITH u AS (
        UPDATE market_engines e SET last_book_seq = x.last_book_seq, version = e.version + 1,
          processed = e.processed + x.processed, last_price = coalesce(x.last_price, e.last_price),
          volume = e.volume + x.volume, updated_at = now()
        FROM jsonb_to_recordset(p->'engines') AS x(market_id text, last_book_seq bigint, processed bigint, last_price int, volume bigint)
        WHERE e.market_id = ANY(v_live) AND e.market_id = x.market_id
        RETURNING e.market_id, e.version)
      SELECT coalesce(jsonb_object_agg(u.market_id, u.version), '{}'::jsonb) INTO v_versions FROM u;

      v_accounts := ARRAY(
        SELECT h->>'account' FROM jsonb_array_elements(p->'holds') h WHERE h->>'market_id' = ANY(v_live)
        UNION SELECT l->>'account' FROM jsonb_array_elements(p->'lines') l WHERE l->>'market_id' = ANY(v_live));
      v_hold_ids := ARRAY(SELECT (h->>'id')::bigint FROM jsonb_array_elements(p->'holds') h WHERE h->>'market_id' = ANY(v_live));
      v_users := ARRAY(SELECT DISTINCT x->>'user_id' FROM jsonb_array_elements(p->'positions') x WHERE x->>'market_id' = ANY(v_live));
      v_order_ids := ARRAY(SELECT x->>'id' FROM jsonb_array_elements(p->'orders') x WHERE x->>'market_id' = ANY(v_live));
      v_ack_ids := ARRAY(SELECT x->>'id' FROM jsonb_array_elements(p->'acks') x WHERE x->>'market_id' = ANY(v_live));

      -- From here on as commit_market_batch, over every live market's rows at once.
      INSERT INTO accounts (id, may_go_negative)
      SELECT DISTINCT l.account, l.may_neg FROM jsonb_to_recordset(p->'lines') AS l(market_id text, account text, may_neg boolean)
      WHERE l.market_id = ANY(v_live) AND l.account <> ALL(ARRAY(SELECT a.id FROM accounts a WHERE a.id = ANY(v_accounts)))
      ORDER BY 1 ON CONFLICT DO NOTHING;
      INSERT INTO account_balances (account_id, shard, may_go_negative)
      SELECT DISTINCT l.account, l.shard, l.may_neg
      FROM jsonb_to_recordset(p->'lines') AS l(market_id text, account text, shard smallint, may_neg boolean)
      WHERE l.market_id = ANY(v_live) AND (l.account || '/' || l.shard) <> ALL(ARRAY(
        SELECT b.account_id || '/' || b.shard FROM account_balances b WHERE b.account_id = ANY(v_accounts)))
      ORDER BY 1, 2 ON CONFLICT DO NOTHING;

      PERFORM 1 FROM account_balances b WHERE b.account_id = ANY(v_accounts) ORDER BY b.account_id, b.shard FOR UPDATE;
      IF cardinality(v_users) > 0 THEN
        PERFORM 1 FROM market_positions mp WHERE mp.market_id = ANY(v_live) AND mp.user_id = ANY(v_users)
        ORDER BY mp.market_id, mp.user_id, mp.side FOR UPDATE;
      END IF;

      UPDATE holds h SET remaining = h.remaining - d.amount,
        status = CASE WHEN h.remaining - d.amount = 0 THEN 'closed' ELSE 'open' END
      FROM jsonb_to_recordset(p->'holds') AS d(market_id text, id bigint, amount bigint)
      WHERE h.id = ANY(v_hold_ids) AND d.market_id = ANY(v_live) AND h.id = d.id AND h.status <> 'closed';
      GET DIAGNOSTICS v_count = ROW_COUNT;
      IF v_count <> cardinality(v_hold_ids) THEN
        RAISE EXCEPTION 'hold draw-down touched % of % holds', v_count, cardinality(v_hold_ids);
      END IF;
      UPDATE account_balances b SET held = b.held - d.amount
      FROM (SELECT h.account, sum(h.amount) AS amount FROM jsonb_to_recordset(p->'holds') AS h(market_id text, account text, amount bigint)
            WHERE h.market_id = ANY(v_live) GROUP BY h.account) d
      WHERE b.account_id = ANY(v_accounts) AND b.account_id = d.account AND b.shard = 0;

      WITH ins AS (
        INSERT INTO journal (idempotency_key, reason, ref_type, ref_id, actor, metadata)
        SELECT j.key, j.reason, j.ref_type, j.ref_id, j.actor, j.metadata
        FROM jsonb_to_recordset(p->'journals') AS j(market_id text, key text, reason text, ref_type text, ref_id text, actor text, metadata jsonb)
        WHERE j.market_id = ANY(v_live)
        ON CONFLICT (idempotency_key) DO NOTHING
        RETURNING id, idempotency_key)
      SELECT coalesce(array_agg(ins.id), '{}'), coalesce(array_agg(ins.idempotency_key), '{}') INTO v_ids, v_keys FROM ins;
      UPDATE account_balances b SET balance = b.balance + d.amount
      FROM (SELECT l.account, l.shard, sum(l.amount) AS amount
            FROM jsonb_to_recordset(p->'lines') AS l(market_id text, key text, account text, shard smallint, amount bigint)
            JOIN unnest(v_ids, v_keys) AS a(id, idempotency_key) ON a.idempotency_key = l.key
            WHERE l.market_id = ANY(v_live)
            GROUP BY l.account, l.shard) d
      WHERE b.account_id = ANY(v_accounts) AND b.account_id = d.account AND b.shard = d.shard;
      INSERT INTO journal_lines (journal_id, account_id, shard, amount)
      SELECT a.id, l.account, l.shard, l.amount
      FROM jsonb_to_recordset(p->'lines') AS l(market_id text, key text, account text, shard smallint, amount bigint)
      JOIN unnest(v_ids, v_keys) AS a(id, idempotency_key) ON a.idempotency_key = l.key
      WHERE l.market_id = ANY(v_live);

      INSERT INTO market_fills (market_id, book_seq, idx, kind, yes_price, quantity, taker_order_id, taker_user_id, taker_side,
        taker_action, taker_price, taker_fee, maker_order_id, maker_user_id, maker_side, maker_action, maker_price, maker_fee)
      SELECT f.market_id, f.book_seq, f.idx, f.kind, f.yes_price, f.quantity, f.taker_order_id, f.taker_user_id, f.taker_side,
        f.taker_action, f.taker_price, f.taker_fee, f.maker_order_id, f.maker_user_id, f.maker_side, f.maker_action, f.maker_price, f.maker_fee
      FROM jsonb_to_recordset(p->'fills') AS f(market_id text, book_seq bigint, idx int, kind text, yes_price int, quantity int,
        taker_order_id text, taker_user_id text, taker_side text, taker_action text, taker_price int, taker_fee bigint,
        maker_order_id text, maker_user_id text, maker_side text, maker_action text, maker_price int, maker_fee bigint)
      WHERE f.market_id = ANY(v_live);

      INSERT INTO market_positions (market_id, user_id, side)
      SELECT x.market_id, x.user_id, x.side FROM jsonb_to_recordset(p->'positions') AS x(market_id text, user_id text, side text)
      WHERE x.market_id = ANY(v_live)
      ORDER BY 1, 2, 3 ON CONFLICT DO NOTHING;
      UPDATE market_positions mp SET quantity = mp.quantity + d.quantity, locked = mp.locked + d.locked,
        cost = mp.cost + d.cost, updated_at = now()
      FROM jsonb_to_recordset(p->'positions') AS d(market_id text, user_id text, side text, quantity bigint, locked bigint, cost bigint)
      WHERE mp.market_id = ANY(v_live) AND mp.user_id = ANY(v_users) AND d.market_id = ANY(v_live)
        AND mp.market_id = d.market_id AND mp.user_id = d.user_id AND mp.side = d.side;

      UPDATE market_orders m SET status = d.status, book_seq = d.book_seq, book_price = d.book_price, remaining = d.remaining,
        filled_qty = d.filled_qty, cancelled_qty = d.cancelled_qty, filled_cost = d.filled_cost, fees = d.fees,
        hold_remaining = d.hold_remaining, reject_reason = d.reject_reason, current_price = d.current_price, updated_at = now(),
        engine_pending = m.engine_pending AND m.pending_seq IS DISTINCT FROM d.ack_seq
      FROM jsonb_to_recordset(p->'orders') AS d(market_id text, id text, status text, book_seq bigint, book_price int, remaining int,
        filled_qty int, cancelled_qty int, filled_cost bigint, fees bigint, hold_remaining bigint, reject_reason text, current_price int,
        ack_seq bigint)
      WHERE m.id = ANY(v_order_ids) AND d.market_id = ANY(v_live) AND m.id = d.id;

      UPDATE market_orders o SET engine_pending = false
      FROM jsonb_to_recordset(p->'acks') AS d(market_id text, id text, pending_seq bigint)
      WHERE o.id = ANY(v_ack_ids) AND d.market_id = ANY(v_live) AND o.id = d.id AND o.pending_seq = d.pending_seq;

      -- Each batch's answer: stale, or its market's new version, suspension and next commands.
      RETURN (
        SELECT coalesce(jsonb_agg(CASE WHEN x.market_id = ANY(v_live) THEN jsonb_build_object(
          'idx', x.idx,
          'version', (v_versions->>x.market_id)::bigint,
          'suspended', (SELECT mk.suspended_at IS NOT NULL OR (mk.resumes_at IS NOT NULL AND now() < mk.resumes_at) FROM markets mk WHERE mk.id = x.market_id),
          'next', (
            SELECT coalesce(jsonb_agg(q ORDER BY q.pending_seq), '[]'::jsonb) FROM (
              SELECT o.id, o.user_id, o.side, o.action, o.price, o.quantity, o.tif, o.seen_price, o.slippage_bps, o.pending_seq,
                     o.status, o.cancel_requested, o.hold_id, o.hold_remaining, o.expires_at, o.post_only, o.reduce_to
              FROM market_orders o WHERE o.market_id = x.market_id AND o.engine_pending
              ORDER BY o.pending_seq LIMIT x.next) q))
          ELSE jsonb_build_object('idx', x.idx, 'stale', true) END), '[]'::jsonb)
        FROM jsonb_to_recordset(p->'engines') AS x(idx int, market_id text, next int));
    END $$;

    CREATE FUNCTION read_market_queues(p_markets text[], p_limits int[])
    RETURNS SETOF market_orders LANGUAGE sql STABLE
    SET enable_seqscan = off AS $$
      SELECT o.* FROM unnest(p_markets, p_limits) AS r(market_id, lim)
      CROSS JOIN LATERAL (
        SELECT * FROM market_orders mo WHERE mo.market_id = r.market_id AND mo.engine_pending
        ORDER BY mo.pending_seq LIMIT r.lim) o
    $$;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`DROP FUNCTION IF EXISTS read_market_queues(text[], int[]); DROP FUNCTION IF EXISTS commit_market_batches(jsonb);`);
}
