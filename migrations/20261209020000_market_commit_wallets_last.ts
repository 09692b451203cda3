import type { Knex } from 'knex';

/**
 * Order intake and the engines' commits take the wallet rows last.
 *
 * commit_market_batch, commit_market_batches and place_market_orders locked every wallet (and fee
 * shard) they touch as their first step and then did all the rest of their work holding them. A
 * wallet row is touched by every order its user places (the hold) and by every fill of that user,
 * in any market, so each of those transactions kept the others away from the wallets for its
 * whole length. With a hundred busy markets, two group commits and two intake batches were in
 * flight, each over most of the same wallets, and they ran one after the other. Sampled during the
 * markets bench (pg_stat_activity, pg_blocking_pids, log_lock_waits): 1.5–1.7 backends on average
 * waiting on Lock:transactionid, every wait at the first `... FROM account_balances ... FOR UPDATE`
 * of one of these functions, blocked by another of them (group commit behind group commit on the
 * platform:revenue shards and wallets, intake behind group commit, group commit behind intake,
 * intake behind intake). With one market there is one commit in flight and hardly any wait.
 *
 * Now the part of each that touches no wallet runs first, and the wallets are locked (in key
 * order, FOR UPDATE, as before) and updated as the last step before the commit:
 *
 * - The engines' commits: the engine row first (the epoch fence, as before), the ledger rows a
 *   batch needs, the hold draw-downs, journals and lines, fills, order states and acks, the answer
 *   (next commands, suspension), the positions (locked in (market, user, side) order, then
 *   written); then the wallets and fee shards, their held and balance updates. The same rows and
 *   the same checks (no_overdraft on the balance rows, every hold draw-down must match, journals
 *   idempotent on their keys), all or nothing — only how long the wallets stay locked changes.
 * - Intake: see placeMarketOrders below.
 *
 * Lock order is positions before wallets everywhere a transaction can meet a running engine:
 * intake takes the sellers' positions first (only in open markets), the engines take theirs before
 * the wallets. cancelLiveOrders takes a market's positions after the wallets, but only once the
 * market is closed and its engine drained: intake locks no position of a market that is not open,
 * and holds, journals, fills and orders of a market are written only by its own engine, serialised
 * by its engine row.
 *
 * The engines' functions are restated whole (CREATE OR REPLACE resets their `enable_seqscan = off`,
 * which is restated too). down() restores the previous step order and the previous intake function.
 */

/** commit_market_batch's blocks, one market; `next` is p_next. */
const single = {
  declare: `
      v_market text := p->>'market_id';
      v_version bigint;
      v_count bigint;
      v_ids bigint[];
      v_keys text[];
      v_answer jsonb;
      v_accounts text[] := ARRAY(
        SELECT h->>'account' FROM jsonb_array_elements(p->'holds') h
        UNION SELECT l->>'account' FROM jsonb_array_elements(p->'lines') l);
      v_hold_ids bigint[] := ARRAY(SELECT (h->>'id')::bigint FROM jsonb_array_elements(p->'holds') h);
      v_users text[] := ARRAY(SELECT DISTINCT x->>'user_id' FROM jsonb_array_elements(p->'positions') x);
      v_order_ids text[] := ARRAY(SELECT x->>'id' FROM jsonb_array_elements(p->'orders') x);
      v_ack_ids text[] := ARRAY(SELECT x->>'id' FROM jsonb_array_elements(p->'acks') x);`,
  engine: `
      -- First, so a stale engine fails before writing anything and engines of one market serialise.
      UPDATE market_engines e SET last_book_seq = (p->>'last_book_seq')::bigint, version = e.version + 1,
        processed = e.processed + (p->>'processed')::bigint, last_price = coalesce((p->>'last_price')::int, e.last_price),
        volume = e.volume + (p->>'volume')::bigint, updated_at = now()
      WHERE e.market_id = v_market AND e.epoch = (p->>'epoch')::bigint
      RETURNING e.version INTO v_version;
      IF v_version IS NULL THEN
        RAISE EXCEPTION 'engine epoch % of market % is stale', p->>'epoch', v_market USING ERRCODE = 'MK010';
      END IF;`,
  ledgerRows: `
      -- Ledger rows the journals need (the market's escrow and fee shards appear with its first fills).
      -- Index lookups on explicit key arrays throughout: joined against a freshly grown table, a
      -- set-returning function's row estimate can turn these into scans of every open hold or balance.
      INSERT INTO accounts (id, may_go_negative)
      SELECT DISTINCT l.account, l.may_neg FROM jsonb_to_recordset(p->'lines') AS l(account text, may_neg boolean)
      WHERE l.account <> ALL(ARRAY(SELECT a.id FROM accounts a WHERE a.id = ANY(v_accounts)))
      ORDER BY 1 ON CONFLICT DO NOTHING;
      INSERT INTO account_balances (account_id, shard, may_go_negative)
      SELECT DISTINCT l.account, l.shard, l.may_neg FROM jsonb_to_recordset(p->'lines') AS l(account text, shard smallint, may_neg boolean)
      WHERE (l.account || '/' || l.shard) <> ALL(ARRAY(
        SELECT b.account_id || '/' || b.shard FROM account_balances b WHERE b.account_id = ANY(v_accounts)))
      ORDER BY 1, 2 ON CONFLICT DO NOTHING;`,
  lockWallets: `
      -- Every shard of the accounts involved (a superset of the rows needed; locking more is harmless).
      PERFORM 1 FROM account_balances b WHERE b.account_id = ANY(v_accounts) ORDER BY b.account_id, b.shard FOR UPDATE;`,
  lockPositions: `
      IF cardinality(v_users) > 0 THEN
        PERFORM 1 FROM market_positions mp WHERE mp.market_id = v_market AND mp.user_id = ANY(v_users)
        ORDER BY mp.market_id, mp.user_id, mp.side FOR UPDATE;
      END IF;`,
  holds: `
      -- The held amounts drawn down (for fills and for ended orders); the wallets' held follows below.
      UPDATE holds h SET remaining = h.remaining - d.amount,
        status = CASE WHEN h.remaining - d.amount = 0 THEN 'closed' ELSE 'open' END
      FROM jsonb_to_recordset(p->'holds') AS d(id bigint, amount bigint)
      -- "<> 'closed'" (the only other status) rather than "= 'open'": the latter would also match the
      -- partial index of every open hold, which the planner may prefer over the primary key.
      WHERE h.id = ANY(v_hold_ids) AND h.id = d.id AND h.status <> 'closed';
      GET DIAGNOSTICS v_count = ROW_COUNT;
      IF v_count <> jsonb_array_length(p->'holds') THEN
        RAISE EXCEPTION 'hold draw-down touched % of % holds', v_count, jsonb_array_length(p->'holds');
      END IF;`,
  held: `
      -- Release the held amounts before the balances are debited (the no_overdraft CHECK counts held).
      UPDATE account_balances b SET held = b.held - d.amount
      FROM (SELECT h.account, sum(h.amount) AS amount FROM jsonb_to_recordset(p->'holds') AS h(account text, amount bigint) GROUP BY h.account) d
      WHERE b.account_id = ANY(v_accounts) AND b.account_id = d.account AND b.shard = 0;`,
  journals: `
      -- Journals, idempotent on their keys as in postJournals: a key already applied moves nothing.
      WITH ins AS (
        INSERT INTO journal (idempotency_key, reason, ref_type, ref_id, actor, metadata)
        SELECT j.key, j.reason, j.ref_type, j.ref_id, j.actor, j.metadata
        FROM jsonb_to_recordset(p->'journals') AS j(key text, reason text, ref_type text, ref_id text, actor text, metadata jsonb)
        ON CONFLICT (idempotency_key) DO NOTHING
        RETURNING id, idempotency_key)
      SELECT coalesce(array_agg(ins.id), '{}'), coalesce(array_agg(ins.idempotency_key), '{}') INTO v_ids, v_keys FROM ins;`,
  balances: `
      UPDATE account_balances b SET balance = b.balance + d.amount
      FROM (SELECT l.account, l.shard, sum(l.amount) AS amount
            FROM jsonb_to_recordset(p->'lines') AS l(key text, account text, shard smallint, amount bigint)
            JOIN unnest(v_ids, v_keys) AS a(id, idempotency_key) ON a.idempotency_key = l.key
            GROUP BY l.account, l.shard) d
      WHERE b.account_id = ANY(v_accounts) AND b.account_id = d.account AND b.shard = d.shard;`,
  lines: `
      INSERT INTO journal_lines (journal_id, account_id, shard, amount)
      SELECT a.id, l.account, l.shard, l.amount
      FROM jsonb_to_recordset(p->'lines') AS l(key text, account text, shard smallint, amount bigint)
      JOIN unnest(v_ids, v_keys) AS a(id, idempotency_key) ON a.idempotency_key = l.key;`,
  fills: `
      INSERT INTO market_fills (market_id, book_seq, idx, kind, yes_price, quantity, taker_order_id, taker_user_id, taker_side,
        taker_action, taker_price, taker_fee, maker_order_id, maker_user_id, maker_side, maker_action, maker_price, maker_fee)
      SELECT v_market, f.book_seq, f.idx, f.kind, f.yes_price, f.quantity, f.taker_order_id, f.taker_user_id, f.taker_side,
        f.taker_action, f.taker_price, f.taker_fee, f.maker_order_id, f.maker_user_id, f.maker_side, f.maker_action, f.maker_price, f.maker_fee
      FROM jsonb_to_recordset(p->'fills') AS f(book_seq bigint, idx int, kind text, yes_price int, quantity int, taker_order_id text,
        taker_user_id text, taker_side text, taker_action text, taker_price int, taker_fee bigint, maker_order_id text,
        maker_user_id text, maker_side text, maker_action text, maker_price int, maker_fee bigint);`,
  positions: `
      -- Create missing rows at zero first: CHECKs apply to an INSERT's row even when it conflicts.
      INSERT INTO market_positions (market_id, user_id, side)
      SELECT v_market, x.user_id, x.side FROM jsonb_to_recordset(p->'positions') AS x(user_id text, side text)
      ORDER BY 2, 3 ON CONFLICT DO NOTHING;
      UPDATE market_positions mp SET quantity = mp.quantity + d.quantity, locked = mp.locked + d.locked,
        cost = mp.cost + d.cost, updated_at = now()
      FROM jsonb_to_recordset(p->'positions') AS d(user_id text, side text, quantity bigint, locked bigint, cost bigint)
      WHERE mp.market_id = v_market AND mp.user_id = ANY(v_users) AND mp.user_id = d.user_id AND mp.side = d.side;`,
  orders: `
      -- An order's queue ack (ack_seq) rides on its state update when it has one: each update of an
      -- order row rewrites all its indexes, so one update instead of two. The flag is cleared only if
      -- the order was not re-queued (a cancel request) since it was read.
      UPDATE market_orders m SET status = d.status, book_seq = d.book_seq, book_price = d.book_price, remaining = d.remaining,
        filled_qty = d.filled_qty, cancelled_qty = d.cancelled_qty, filled_cost = d.filled_cost, fees = d.fees,
        hold_remaining = d.hold_remaining, reject_reason = d.reject_reason, current_price = d.current_price, updated_at = now(),
        engine_pending = m.engine_pending AND m.pending_seq IS DISTINCT FROM d.ack_seq
      FROM jsonb_to_recordset(p->'orders') AS d(id text, status text, book_seq bigint, book_price int, remaining int,
        filled_qty int, cancelled_qty int, filled_cost bigint, fees bigint, hold_remaining bigint, reject_reason text, current_price int,
        ack_seq bigint)
      WHERE m.id = ANY(v_order_ids) AND m.id = d.id;

      -- Commands that changed no order (a moot cancel, a duplicate).
      UPDATE market_orders o SET engine_pending = false
      FROM jsonb_to_recordset(p->'acks') AS d(id text, pending_seq bigint)
      WHERE o.id = ANY(v_ack_ids) AND o.id = d.id AND o.pending_seq = d.pending_seq;`,
  answer: `
      -- The engine's next commands, read here to save it a round trip per batch (after this batch's
      -- acks). It uses them only once this transaction has committed; orders committed meanwhile are
      -- read next time.
      v_answer := jsonb_build_object('version', v_version, 'suspended', (SELECT mk.suspended_at IS NOT NULL OR (mk.resumes_at IS NOT NULL AND now() < mk.resumes_at) FROM markets mk WHERE mk.id = v_market), 'next', (
        SELECT coalesce(jsonb_agg(q ORDER BY q.pending_seq), '[]'::jsonb) FROM (
          SELECT o.id, o.user_id, o.side, o.action, o.price, o.quantity, o.tif, o.seen_price, o.slippage_bps, o.pending_seq,
                 o.status, o.cancel_requested, o.hold_id, o.hold_remaining, o.expires_at, o.post_only, o.reduce_to
          FROM market_orders o WHERE o.market_id = v_market AND o.engine_pending
          ORDER BY o.pending_seq LIMIT p_next) q));`,
};

/** commit_market_batches' blocks, many markets, every row filtered to the live ones (v_live). */
const group = {
  declare: `
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
      v_answer jsonb;`,
  engine: `
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
      v_ack_ids := ARRAY(SELECT x->>'id' FROM jsonb_array_elements(p->'acks') x WHERE x->>'market_id' = ANY(v_live));`,
  ledgerRows: `
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
      ORDER BY 1, 2 ON CONFLICT DO NOTHING;`,
  lockWallets: `
      PERFORM 1 FROM account_balances b WHERE b.account_id = ANY(v_accounts) ORDER BY b.account_id, b.shard FOR UPDATE;`,
  lockPositions: `
      IF cardinality(v_users) > 0 THEN
        PERFORM 1 FROM market_positions mp WHERE mp.market_id = ANY(v_live) AND mp.user_id = ANY(v_users)
        ORDER BY mp.market_id, mp.user_id, mp.side FOR UPDATE;
      END IF;`,
  holds: `
      UPDATE holds h SET remaining = h.remaining - d.amount,
        status = CASE WHEN h.remaining - d.amount = 0 THEN 'closed' ELSE 'open' END
      FROM jsonb_to_recordset(p->'holds') AS d(market_id text, id bigint, amount bigint)
      WHERE h.id = ANY(v_hold_ids) AND d.market_id = ANY(v_live) AND h.id = d.id AND h.status <> 'closed';
      GET DIAGNOSTICS v_count = ROW_COUNT;
      IF v_count <> cardinality(v_hold_ids) THEN
        RAISE EXCEPTION 'hold draw-down touched % of % holds', v_count, cardinality(v_hold_ids);
      END IF;`,
  held: `
      UPDATE account_balances b SET held = b.held - d.amount
      FROM (SELECT h.account, sum(h.amount) AS amount FROM jsonb_to_recordset(p->'holds') AS h(market_id text, account text, amount bigint)
            WHERE h.market_id = ANY(v_live) GROUP BY h.account) d
      WHERE b.account_id = ANY(v_accounts) AND b.account_id = d.account AND b.shard = 0;`,
  journals: `
      WITH ins AS (
        INSERT INTO journal (idempotency_key, reason, ref_type, ref_id, actor, metadata)
        SELECT j.key, j.reason, j.ref_type, j.ref_id, j.actor, j.metadata
        FROM jsonb_to_recordset(p->'journals') AS j(market_id text, key text, reason text, ref_type text, ref_id text, actor text, metadata jsonb)
        WHERE j.market_id = ANY(v_live)
        ON CONFLICT (idempotency_key) DO NOTHING
        RETURNING id, idempotency_key)
      SELECT coalesce(array_agg(ins.id), '{}'), coalesce(array_agg(ins.idempotency_key), '{}') INTO v_ids, v_keys FROM ins;`,
  balances: `
      UPDATE account_balances b SET balance = b.balance + d.amount
      FROM (SELECT l.account, l.shard, sum(l.amount) AS amount
            FROM jsonb_to_recordset(p->'lines') AS l(market_id text, key text, account text, shard smallint, amount bigint)
            JOIN unnest(v_ids, v_keys) AS a(id, idempotency_key) ON a.idempotency_key = l.key
            WHERE l.market_id = ANY(v_live)
            GROUP BY l.account, l.shard) d
      WHERE b.account_id = ANY(v_accounts) AND b.account_id = d.account AND b.shard = d.shard;`,
  lines: `
      INSERT INTO journal_lines (journal_id, account_id, shard, amount)
      SELECT a.id, l.account, l.shard, l.amount
      FROM jsonb_to_recordset(p->'lines') AS l(market_id text, key text, account text, shard smallint, amount bigint)
      JOIN unnest(v_ids, v_keys) AS a(id, idempotency_key) ON a.idempotency_key = l.key
      WHERE l.market_id = ANY(v_live);`,
  fills: `
      INSERT INTO market_fills (market_id, book_seq, idx, kind, yes_price, quantity, taker_order_id, taker_user_id, taker_side,
        taker_action, taker_price, taker_fee, maker_order_id, maker_user_id, maker_side, maker_action, maker_price, maker_fee)
      SELECT f.market_id, f.book_seq, f.idx, f.kind, f.yes_price, f.quantity, f.taker_order_id, f.taker_user_id, f.taker_side,
        f.taker_action, f.taker_price, f.taker_fee, f.maker_order_id, f.maker_user_id, f.maker_side, f.maker_action, f.maker_price, f.maker_fee
      FROM jsonb_to_recordset(p->'fills') AS f(market_id text, book_seq bigint, idx int, kind text, yes_price int, quantity int,
        taker_order_id text, taker_user_id text, taker_side text, taker_action text, taker_price int, taker_fee bigint,
        maker_order_id text, maker_user_id text, maker_side text, maker_action text, maker_price int, maker_fee bigint)
      WHERE f.market_id = ANY(v_live);`,
  positions: `
      INSERT INTO market_positions (market_id, user_id, side)
      SELECT x.market_id, x.user_id, x.side FROM jsonb_to_recordset(p->'positions') AS x(market_id text, user_id text, side text)
      WHERE x.market_id = ANY(v_live)
      ORDER BY 1, 2, 3 ON CONFLICT DO NOTHING;
      UPDATE market_positions mp SET quantity = mp.quantity + d.quantity, locked = mp.locked + d.locked,
        cost = mp.cost + d.cost, updated_at = now()
      FROM jsonb_to_recordset(p->'positions') AS d(market_id text, user_id text, side text, quantity bigint, locked bigint, cost bigint)
      WHERE mp.market_id = ANY(v_live) AND mp.user_id = ANY(v_users) AND d.market_id = ANY(v_live)
        AND mp.market_id = d.market_id AND mp.user_id = d.user_id AND mp.side = d.side;`,
  orders: `
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
      WHERE o.id = ANY(v_ack_ids) AND d.market_id = ANY(v_live) AND o.id = d.id AND o.pending_seq = d.pending_seq;`,
  answer: `
      -- Each batch's answer: stale, or its market's new version, suspension and next commands.
      v_answer := (
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
        FROM jsonb_to_recordset(p->'engines') AS x(idx int, market_id text, next int));`,
};

/**
 * place_market_orders, wallets last. The previous function (kept as place_market_orders_in_turn)
 * locked every buyer's wallet first and then, order by order, looked up replays and the market,
 * held the funds and wrote the hold and the order, all with the wallets locked. Now:
 *
 * 1. The markets (FOR SHARE, as before) and the sellers' positions in the open markets (FOR
 *    UPDATE, key order), then order by order, with no wallet locked: replay, market and suspension
 *    checks as before; a sell locks its contracts and is written as before; a buy's hold row and
 *    order row are written, its funds not yet held (nothing outside this transaction sees them).
 * 2. The buyers' wallets, FOR UPDATE in key order, and the buys decided in arrival order against
 *    what each wallet still has free, exactly as the one-by-one holds decided them: one update of
 *    `held` per wallet (the no_overdraft CHECK applies as always); a buy that does not fit is
 *    answered insufficient_funds and its rows are deleted again.
 *
 * A batch that repeats a (user, market, client order id) goes through place_market_orders_in_turn
 * whole (after the positions are locked, so it too takes them before the wallets): there a later
 * repeat is decided after the earlier one's outcome, which step 2 would only know later. A refused buy costs a row written and deleted again; refusals are rare.
 */
const placeMarketOrders = `
    ALTER FUNCTION place_market_orders(jsonb) RENAME TO place_market_orders_in_turn;

    CREATE FUNCTION place_market_orders(p_orders jsonb)
    RETURNS TABLE (r_idx int, r_order_id text, r_seq bigint, r_result text) LANGUAGE plpgsql
    SET enable_seqscan = off AS $$
    DECLARE
      o record;
      e record;
      m record;
      w record;
      v_hold bigint;
      v_seq bigint;
      v_inserted text;
      v_account text;
      v_markets text[];
      v_wallets text[];
      v_sellers text[];
      v_k int;
      -- The buys written in step 1, in arrival order.
      b_idx int[] := '{}';
      b_order text[] := '{}';
      b_seq bigint[] := '{}';
      b_hold bigint[] := '{}';
      b_account text[] := '{}';
      b_amount bigint[] := '{}';
      -- The buyers' wallets in key order: what each has free (NULL: may go negative) and what step 2 holds on it.
      w_ids text[] := '{}';
      w_free bigint[] := '{}';
      w_add bigint[] := '{}';
      v_refused bigint[] := '{}';
      v_refused_orders text[] := '{}';
    BEGIN
      v_markets := ARRAY(SELECT DISTINCT x->>'market_id' FROM jsonb_array_elements(p_orders) x);
      v_sellers := ARRAY(SELECT DISTINCT x->>'user_id' FROM jsonb_array_elements(p_orders) x WHERE x->>'action' = 'SELL');
      PERFORM 1 FROM markets mk WHERE mk.id = ANY(v_markets) ORDER BY mk.id FOR SHARE;
      IF cardinality(v_sellers) > 0 THEN
        PERFORM 1 FROM market_positions p JOIN markets mk ON mk.id = p.market_id AND mk.status = 'open'
        WHERE p.market_id = ANY(v_markets) AND p.user_id = ANY(v_sellers)
        ORDER BY p.market_id, p.user_id, p.side FOR UPDATE OF p;
      END IF;
      -- A repeated client order id: decided one by one (its own locks come after these positions).
      IF EXISTS (SELECT 1 FROM jsonb_array_elements(p_orders) x
                 GROUP BY x->>'user_id', x->>'market_id', x->>'client_order_id' HAVING count(*) > 1) THEN
        RETURN QUERY SELECT * FROM place_market_orders_in_turn(p_orders);
        RETURN;
      END IF;
      -- The wallets that exist (never deleted, so no lock needed to know it): a buyer without one is refused.
      v_wallets := ARRAY(
        SELECT b.account_id FROM account_balances b
        WHERE b.account_id = ANY(ARRAY(SELECT DISTINCT 'user:' || (x->>'user_id') || ':wallet' FROM jsonb_array_elements(p_orders) x WHERE x->>'action' = 'BUY'))
          AND b.shard = 0);

      FOR o IN
        SELECT * FROM jsonb_to_recordset(p_orders) AS x(idx int, order_id text, market_id text, user_id text,
          client_order_id text, side text, action text, price int, quantity int, tif text, seen_price int,
          slippage_bps int, hold bigint, expires_at timestamptz, post_only boolean)
        ORDER BY x.idx
      LOOP
        SELECT mo.id, mo.seq, (mo.market_id = o.market_id AND mo.side = o.side AND mo.action = o.action
                AND mo.price = o.price AND mo.quantity = o.quantity AND mo.tif = o.tif) AS same
          INTO e FROM market_orders mo WHERE mo.user_id = o.user_id AND mo.market_id = o.market_id AND mo.client_order_id = o.client_order_id;
        IF FOUND THEN
          RETURN QUERY SELECT o.idx, e.id, e.seq, CASE WHEN e.same THEN 'replayed' ELSE 'client_order_id_reused' END;
          CONTINUE;
        END IF;
        SELECT mk.* INTO m FROM markets mk WHERE mk.id = o.market_id;
        IF NOT FOUND THEN
          RETURN QUERY SELECT o.idx, NULL::text, NULL::bigint, 'market_not_found';
          CONTINUE;
        END IF;
        IF m.status <> 'open' OR now() < m.opens_at OR now() >= m.closes_at THEN
          RETURN QUERY SELECT o.idx, NULL::text, NULL::bigint, 'market_not_open';
          CONTINUE;
        END IF;
        -- In play (or in the delay after a resume): refused; the market row's share lock makes a
        -- suspension wait for this batch, so no order is accepted after it commits.
        IF m.suspended_at IS NOT NULL OR (m.resumes_at IS NOT NULL AND now() < m.resumes_at) THEN
          RETURN QUERY SELECT o.idx, NULL::text, NULL::bigint, 'market_suspended';
          CONTINUE;
        END IF;

        v_hold := NULL;
        IF o.action = 'BUY' THEN
          v_account := 'user:' || o.user_id || ':wallet';
          -- As the one-by-one hold: nothing to hold, or no wallet, is refused.
          IF NOT (o.hold > 0 AND v_account = ANY(v_wallets)) THEN
            RETURN QUERY SELECT o.idx, NULL::text, NULL::bigint, 'insufficient_funds';
            CONTINUE;
          END IF;
          INSERT INTO holds (account_id, amount, remaining, idempotency_key, ref_type, ref_id)
          VALUES (v_account, o.hold, o.hold, 'mkt-order-' || o.order_id || ':hold', 'market_order', o.order_id)
          RETURNING id INTO v_hold;
        ELSE
          UPDATE market_positions p SET locked = p.locked + o.quantity, updated_at = now()
          WHERE p.market_id = o.market_id AND p.user_id = o.user_id AND p.side = o.side AND p.quantity - p.locked >= o.quantity;
          IF NOT FOUND THEN
            RETURN QUERY SELECT o.idx, NULL::text, NULL::bigint, 'insufficient_position';
            CONTINUE;
          END IF;
        END IF;

        v_seq := nextval('market_order_seq');
        v_inserted := NULL;
        INSERT INTO market_orders (id, market_id, user_id, client_order_id, side, action, price, quantity, tif,
                                   seen_price, slippage_bps, seq, pending_seq, remaining, hold_id, hold_remaining, expires_at, post_only)
        VALUES (o.order_id, o.market_id, o.user_id, o.client_order_id, o.side, o.action, o.price, o.quantity, o.tif,
                o.seen_price, o.slippage_bps, v_seq, v_seq, o.quantity, v_hold, CASE WHEN v_hold IS NULL THEN 0 ELSE o.hold END,
                o.expires_at, coalesce(o.post_only, false))
        ON CONFLICT (user_id, market_id, client_order_id) DO NOTHING
        RETURNING id INTO v_inserted;
        IF v_inserted IS NULL THEN
          -- Another batch committed this client order id meanwhile: that order is the answer.
          IF v_hold IS NOT NULL THEN
            DELETE FROM holds WHERE id = v_hold;
          ELSE
            UPDATE market_positions p SET locked = p.locked - o.quantity, updated_at = now()
            WHERE p.market_id = o.market_id AND p.user_id = o.user_id AND p.side = o.side;
          END IF;
          SELECT mo.id, mo.seq, (mo.market_id = o.market_id AND mo.side = o.side AND mo.action = o.action
                  AND mo.price = o.price AND mo.quantity = o.quantity AND mo.tif = o.tif) AS same
            INTO e FROM market_orders mo WHERE mo.user_id = o.user_id AND mo.market_id = o.market_id AND mo.client_order_id = o.client_order_id;
          RETURN QUERY SELECT o.idx, e.id, e.seq, CASE WHEN e.same THEN 'replayed' ELSE 'client_order_id_reused' END;
          CONTINUE;
        END IF;
        IF v_hold IS NULL THEN
          RETURN QUERY SELECT o.idx, o.order_id, v_seq, 'accepted';
        ELSE
          b_idx := b_idx || o.idx;
          b_order := b_order || o.order_id;
          b_seq := b_seq || v_seq;
          b_hold := b_hold || v_hold;
          b_account := b_account || v_account;
          b_amount := b_amount || o.hold;
        END IF;
      END LOOP;

      IF cardinality(b_idx) = 0 THEN
        RETURN;
      END IF;
      -- Step 2: the buyers' wallets, last.
      FOR w IN
        SELECT b.account_id, CASE WHEN b.may_go_negative THEN NULL ELSE b.balance - b.held END AS free
        FROM account_balances b WHERE b.account_id = ANY(b_account) AND b.shard = 0
        ORDER BY b.account_id, b.shard FOR UPDATE
      LOOP
        w_ids := w_ids || w.account_id;
        w_free := w_free || w.free;
        w_add := w_add || 0::bigint;
      END LOOP;
      FOR i IN 1 .. cardinality(b_idx) LOOP
        v_k := array_position(w_ids, b_account[i]);
        IF w_free[v_k] IS NULL OR w_free[v_k] >= b_amount[i] THEN
          w_free[v_k] := w_free[v_k] - b_amount[i];
          w_add[v_k] := w_add[v_k] + b_amount[i];
          RETURN QUERY SELECT b_idx[i], b_order[i], b_seq[i], 'accepted';
        ELSE
          v_refused := v_refused || b_hold[i];
          v_refused_orders := v_refused_orders || b_order[i];
          RETURN QUERY SELECT b_idx[i], NULL::text, NULL::bigint, 'insufficient_funds';
        END IF;
      END LOOP;
      UPDATE account_balances b SET held = b.held + d.amount
      FROM unnest(w_ids, w_add) AS d(account_id, amount)
      WHERE b.account_id = ANY(w_ids) AND b.account_id = d.account_id AND b.shard = 0 AND d.amount > 0;
      IF cardinality(v_refused) > 0 THEN
        DELETE FROM market_orders mo WHERE mo.id = ANY(v_refused_orders);
        DELETE FROM holds h WHERE h.id = ANY(v_refused);
      END IF;
    END $$;
`;

type Blocks = typeof single;

/** Wallets last: everything that touches no wallet (positions last of those), then the wallets and their updates. */
const walletsLast = (b: Blocks) =>
  [
    b.engine,
    b.ledgerRows,
    b.holds,
    b.journals,
    b.lines,
    b.fills,
    b.orders,
    b.answer,
    b.lockPositions,
    b.positions,
    `
      -- The wallets last, just before the commit: from here until it they are locked.`,
    b.lockWallets,
    b.held,
    b.balances,
  ].join('\n');

/** The previous order: every wallet and position locked first. */
const walletsFirst = (b: Blocks) =>
  [
    b.engine,
    b.ledgerRows,
    b.lockWallets,
    b.lockPositions,
    b.holds,
    b.held,
    b.journals,
    b.balances,
    b.lines,
    b.fills,
    b.positions,
    b.orders,
    b.answer,
  ].join('\n');

const functions = (order: (b: Blocks) => string) => `
    CREATE OR REPLACE FUNCTION commit_market_batch(p jsonb, p_next int) RETURNS jsonb LANGUAGE plpgsql
    SET enable_seqscan = off AS $$
    DECLARE${single.declare}
    BEGIN${order(single)}
      RETURN v_answer;
    END $$;

    CREATE OR REPLACE FUNCTION commit_market_batches(p jsonb) RETURNS jsonb LANGUAGE plpgsql
    SET enable_seqscan = off AS $$
    DECLARE${group.declare}
    BEGIN${order(group as Blocks)}
      RETURN v_answer;
    END $$;
`;

export async function up(knex: Knex): Promise<void> {
  await knex.raw(functions(walletsLast));
  await knex.raw(placeMarketOrders);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    DROP FUNCTION place_market_orders(jsonb);
    ALTER FUNCTION place_market_orders_in_turn(jsonb) RENAME TO place_market_orders;
  `);
  await knex.raw(functions(walletsFirst));
}
