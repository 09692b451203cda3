import type { Knex } from 'knex';

/**
 * Group commit for market order intake: `place_market_orders` accepts many orders in one
 * transaction (one round trip and one WAL flush for the lot) with a result per order, so the API
 * can batch the requests that arrive together.
 * - Per order: idempotent on (user, client order id),
 *   market open check under a share lock, funds hold or contract lock and the order row commit
 *   together, durable before the API answers.
 * - Lock order: markets (share), then wallet balance rows, then positions, each in sorted order —
 *   the order post_journal and the engine's batch commit use for balances and positions — so
 *   concurrent batches, postings and engine commits cannot deadlock on them.
 * - An order that cannot be accepted gets its own result instead of raising, so it never rolls
 *   back the others in its batch. No per-order exception blocks either: hundreds of
 *   subtransactions per transaction would overflow the subtransaction cache for every reader.
 *
 * `commit_market_batch` is the engine's batch commit (db/market-engine-store.ts) in one statement —
 * epoch fence first, then balance rows and positions locked in sorted order, hold draw-downs,
 * journals, fills, positions, orders, queue acks — so the locks it takes are held only while the
 * server applies them, not across a dozen round trips from a busy worker process: intake queues
 * behind those locks on the wallet rows. It also returns the engine's next queued commands.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE FUNCTION place_market_orders(p_orders jsonb)
    RETURNS TABLE (r_idx int, r_order_id text, r_seq bigint, r_result text) LANGUAGE plpgsql AS $$
    DECLARE
      o record;
      e record;
      m record;
      v_hold bigint;
      v_seq bigint;
      v_inserted text;
      v_account text;
      v_markets text[];
      v_wallets text[];
      v_sellers text[];
    BEGIN
      -- Index lookups on explicit key arrays: joined against a freshly grown table, a set-returning
      -- function's row estimate can turn these into scans of every open hold or balance.
      v_markets := ARRAY(SELECT DISTINCT x->>'market_id' FROM jsonb_array_elements(p_orders) x);
      v_wallets := ARRAY(SELECT DISTINCT 'user:' || (x->>'user_id') || ':wallet' FROM jsonb_array_elements(p_orders) x WHERE x->>'action' = 'BUY');
      v_sellers := ARRAY(SELECT DISTINCT x->>'user_id' FROM jsonb_array_elements(p_orders) x WHERE x->>'action' = 'SELL');
      PERFORM 1 FROM markets mk WHERE mk.id = ANY(v_markets) ORDER BY mk.id FOR SHARE;
      PERFORM 1 FROM account_balances b WHERE b.account_id = ANY(v_wallets) AND b.shard = 0 ORDER BY b.account_id, b.shard FOR UPDATE;
      -- Sellers' positions in these markets (a superset of those needed; locking more is harmless).
      IF cardinality(v_sellers) > 0 THEN
        PERFORM 1 FROM market_positions p WHERE p.market_id = ANY(v_markets) AND p.user_id = ANY(v_sellers)
        ORDER BY p.market_id, p.user_id, p.side FOR UPDATE;
      END IF;

      -- Arrival order: of two orders one wallet cannot both afford, the earlier one wins.
      FOR o IN
        SELECT * FROM jsonb_to_recordset(p_orders) AS x(idx int, order_id text, market_id text, user_id text,
          client_order_id text, side text, action text, price int, quantity int, tif text, seen_price int,
          slippage_bps int, hold bigint)
        ORDER BY x.idx
      LOOP
        -- Also catches a client order id repeated inside this batch: the first one was inserted above.
        SELECT mo.id, mo.seq, (mo.market_id = o.market_id AND mo.side = o.side AND mo.action = o.action
                AND mo.price = o.price AND mo.quantity = o.quantity AND mo.tif = o.tif) AS same
          INTO e FROM market_orders mo WHERE mo.user_id = o.user_id AND mo.client_order_id = o.client_order_id;
        IF FOUND THEN
          RETURN QUERY SELECT o.idx, e.id, e.seq, CASE WHEN e.same THEN 'replayed' ELSE 'client_order_id_reused' END;
          CONTINUE;
        END IF;
        SELECT mk.status, mk.opens_at, mk.closes_at INTO m FROM markets mk WHERE mk.id = o.market_id;
        IF NOT FOUND THEN
          RETURN QUERY SELECT o.idx, NULL::text, NULL::bigint, 'market_not_found';
          CONTINUE;
        END IF;
        IF m.status <> 'open' OR now() < m.opens_at OR now() >= m.closes_at THEN
          RETURN QUERY SELECT o.idx, NULL::text, NULL::bigint, 'market_not_open';
          CONTINUE;
        END IF;

        v_hold := NULL;
        IF o.action = 'BUY' THEN
          v_account := 'user:' || o.user_id || ':wallet';
          -- The same test as the no_overdraft CHECK, made here so a refusal is a result, not an error.
          UPDATE account_balances b SET held = b.held + o.hold
          WHERE b.account_id = v_account AND b.shard = 0 AND o.hold > 0 AND (b.may_go_negative OR b.balance - b.held >= o.hold);
          IF NOT FOUND THEN
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
                                   seen_price, slippage_bps, seq, pending_seq, remaining, hold_id, hold_remaining)
        VALUES (o.order_id, o.market_id, o.user_id, o.client_order_id, o.side, o.action, o.price, o.quantity, o.tif,
                o.seen_price, o.slippage_bps, v_seq, v_seq, o.quantity, v_hold, CASE WHEN v_hold IS NULL THEN 0 ELSE o.hold END)
        ON CONFLICT (user_id, client_order_id) DO NOTHING
        RETURNING id INTO v_inserted;
        IF v_inserted IS NULL THEN
          -- Another transaction committed this client order id after our check: undo the
          -- reservation and answer with its order, as a replay would.
          IF v_hold IS NOT NULL THEN
            DELETE FROM holds WHERE id = v_hold;
            UPDATE account_balances b SET held = b.held - o.hold WHERE b.account_id = v_account AND b.shard = 0;
          ELSE
            UPDATE market_positions p SET locked = p.locked - o.quantity, updated_at = now()
            WHERE p.market_id = o.market_id AND p.user_id = o.user_id AND p.side = o.side;
          END IF;
          SELECT mo.id, mo.seq, (mo.market_id = o.market_id AND mo.side = o.side AND mo.action = o.action
                  AND mo.price = o.price AND mo.quantity = o.quantity AND mo.tif = o.tif) AS same
            INTO e FROM market_orders mo WHERE mo.user_id = o.user_id AND mo.client_order_id = o.client_order_id;
          RETURN QUERY SELECT o.idx, e.id, e.seq, CASE WHEN e.same THEN 'replayed' ELSE 'client_order_id_reused' END;
          CONTINUE;
        END IF;
        RETURN QUERY SELECT o.idx, o.order_id, v_seq, 'accepted';
      END LOOP;
    END $$;

    CREATE FUNCTION commit_market_batch(p jsonb, p_next int) RETURNS jsonb LANGUAGE plpgsql AS $$
    DECLARE
      v_market text := p->>'market_id';
      v_version bigint;
      v_count bigint;
      v_ids bigint[];
      v_keys text[];
      v_accounts text[] := ARRAY(
        SELECT h->>'account' FROM jsonb_array_elements(p->'holds') h
        UNION SELECT l->>'account' FROM jsonb_array_elements(p->'lines') l);
      v_hold_ids bigint[] := ARRAY(SELECT (h->>'id')::bigint FROM jsonb_array_elements(p->'holds') h);
      v_users text[] := ARRAY(SELECT DISTINCT x->>'user_id' FROM jsonb_array_elements(p->'positions') x);
      v_order_ids text[] := ARRAY(SELECT x->>'id' FROM jsonb_array_elements(p->'orders') x);
      v_ack_ids text[] := ARRAY(SELECT x->>'id' FROM jsonb_array_elements(p->'acks') x);
    BEGIN
      -- First, so a stale engine fails before writing anything and engines of one market serialise.
      UPDATE market_engines e SET last_book_seq = (p->>'last_book_seq')::bigint, version = e.version + 1,
        processed = e.processed + (p->>'processed')::bigint, last_price = coalesce((p->>'last_price')::int, e.last_price),
        volume = e.volume + (p->>'volume')::bigint, updated_at = now()
      WHERE e.market_id = v_market AND e.epoch = (p->>'epoch')::bigint
      RETURNING e.version INTO v_version;
      IF v_version IS NULL THEN
        RAISE EXCEPTION 'engine epoch % of market % is stale', p->>'epoch', v_market USING ERRCODE = 'MK010';
      END IF;

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
      ORDER BY 1, 2 ON CONFLICT DO NOTHING;

      -- Every shard of the accounts involved (a superset of the rows needed; locking more is harmless).
      PERFORM 1 FROM account_balances b WHERE b.account_id = ANY(v_accounts) ORDER BY b.account_id, b.shard FOR UPDATE;
      IF cardinality(v_users) > 0 THEN
        PERFORM 1 FROM market_positions mp WHERE mp.market_id = v_market AND mp.user_id = ANY(v_users)
        ORDER BY mp.market_id, mp.user_id, mp.side FOR UPDATE;
      END IF;

      -- Release the held amounts (for fills and for ended orders) before the journals debit balances.
      UPDATE holds h SET remaining = h.remaining - d.amount,
        status = CASE WHEN h.remaining - d.amount = 0 THEN 'closed' ELSE 'open' END
      FROM jsonb_to_recordset(p->'holds') AS d(id bigint, amount bigint)
      -- "<> 'closed'" (the only other status) rather than "= 'open'": the latter would also match the
      -- partial index of every open hold, which the planner may prefer over the primary key.
      WHERE h.id = ANY(v_hold_ids) AND h.id = d.id AND h.status <> 'closed';
      GET DIAGNOSTICS v_count = ROW_COUNT;
      IF v_count <> jsonb_array_length(p->'holds') THEN
        RAISE EXCEPTION 'hold draw-down touched % of % holds', v_count, jsonb_array_length(p->'holds');
      END IF;
      UPDATE account_balances b SET held = b.held - d.amount
      FROM (SELECT h.account, sum(h.amount) AS amount FROM jsonb_to_recordset(p->'holds') AS h(account text, amount bigint) GROUP BY h.account) d
      WHERE b.account_id = ANY(v_accounts) AND b.account_id = d.account AND b.shard = 0;

      -- Journals, idempotent on their keys as in postJournals: a key already applied moves nothing.
      WITH ins AS (
        INSERT INTO journal (idempotency_key, reason, ref_type, ref_id, actor, metadata)
        SELECT j.key, j.reason, j.ref_type, j.ref_id, j.actor, j.metadata
        FROM jsonb_to_recordset(p->'journals') AS j(key text, reason text, ref_type text, ref_id text, actor text, metadata jsonb)
        ON CONFLICT (idempotency_key) DO NOTHING
        RETURNING id, idempotency_key)
      SELECT coalesce(array_agg(ins.id), '{}'), coalesce(array_agg(ins.idempotency_key), '{}') INTO v_ids, v_keys FROM ins;
      UPDATE account_balances b SET balance = b.balance + d.amount
      FROM (SELECT l.account, l.shard, sum(l.amount) AS amount
            FROM jsonb_to_recordset(p->'lines') AS l(key text, account text, shard smallint, amount bigint)
            JOIN unnest(v_ids, v_keys) AS a(id, idempotency_key) ON a.idempotency_key = l.key
            GROUP BY l.account, l.shard) d
      WHERE b.account_id = ANY(v_accounts) AND b.account_id = d.account AND b.shard = d.shard;
      INSERT INTO journal_lines (journal_id, account_id, shard, amount)
      SELECT a.id, l.account, l.shard, l.amount
      FROM jsonb_to_recordset(p->'lines') AS l(key text, account text, shard smallint, amount bigint)
      JOIN unnest(v_ids, v_keys) AS a(id, idempotency_key) ON a.idempotency_key = l.key;

      INSERT INTO market_fills (market_id, book_seq, idx, kind, yes_price, quantity, taker_order_id, taker_user_id, taker_side,
        taker_action, taker_price, taker_fee, maker_order_id, maker_user_id, maker_side, maker_action, maker_price, maker_fee)
      SELECT v_market, f.book_seq, f.idx, f.kind, f.yes_price, f.quantity, f.taker_order_id, f.taker_user_id, f.taker_side,
        f.taker_action, f.taker_price, f.taker_fee, f.maker_order_id, f.maker_user_id, f.maker_side, f.maker_action, f.maker_price, f.maker_fee
      FROM jsonb_to_recordset(p->'fills') AS f(book_seq bigint, idx int, kind text, yes_price int, quantity int, taker_order_id text,
        taker_user_id text, taker_side text, taker_action text, taker_price int, taker_fee bigint, maker_order_id text,
        maker_user_id text, maker_side text, maker_action text, maker_price int, maker_fee bigint);

      -- Create missing rows at zero first: CHECKs apply to an INSERT's row even when it conflicts.
      INSERT INTO market_positions (market_id, user_id, side)
      SELECT v_market, x.user_id, x.side FROM jsonb_to_recordset(p->'positions') AS x(user_id text, side text)
      ORDER BY 2, 3 ON CONFLICT DO NOTHING;
      UPDATE market_positions mp SET quantity = mp.quantity + d.quantity, locked = mp.locked + d.locked,
        cost = mp.cost + d.cost, updated_at = now()
      FROM jsonb_to_recordset(p->'positions') AS d(user_id text, side text, quantity bigint, locked bigint, cost bigint)
      WHERE mp.market_id = v_market AND mp.user_id = ANY(v_users) AND mp.user_id = d.user_id AND mp.side = d.side;

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
      WHERE o.id = ANY(v_ack_ids) AND o.id = d.id AND o.pending_seq = d.pending_seq;

      -- The engine's next commands, read here to save it a round trip per batch. It uses them only
      -- once this transaction has committed; orders committed meanwhile are read next time.
      RETURN jsonb_build_object('version', v_version, 'next', (
        SELECT coalesce(jsonb_agg(q ORDER BY q.pending_seq), '[]'::jsonb) FROM (
          SELECT o.id, o.user_id, o.side, o.action, o.price, o.quantity, o.tif, o.seen_price, o.slippage_bps, o.pending_seq,
                 o.status, o.cancel_requested, o.hold_id, o.hold_remaining
          FROM market_orders o WHERE o.market_id = v_market AND o.engine_pending
          ORDER BY o.pending_seq LIMIT p_next) q));
    END $$;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw(`DROP FUNCTION IF EXISTS commit_market_batch(jsonb, int); DROP FUNCTION IF EXISTS place_market_orders(jsonb);`);
}
