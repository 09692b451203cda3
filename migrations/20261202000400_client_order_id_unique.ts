import type { Knex } from 'knex';

/**
 * A clientOrderId names an order within one market: unique per (user, market, clientOrderId),
 * no longer per (user, clientOrderId) across every market. So an app may number its orders per
 * market (`a-1`, `a-2`… in each), and a replay or a clash is decided against the orders of the
 * market the request is for.
 *
 * The unique index stays the one index intake checks and inserts through — it is built before the
 * old one is dropped and replaces it, so the hot path keeps exactly one unique probe per order. The
 * lookups in place_market_orders name all three columns, so they use it too; a client order id
 * repeated inside one batch is still caught by the same lookup (the first one was inserted by the
 * time the second is examined), and one committed meanwhile by another batch by the ON CONFLICT.
 * The function is replaced whole (its `enable_seqscan = off` setting restated: CREATE OR REPLACE
 * resets it); only its key lookups and conflict target change.
 */
type Scope = 'user' | 'user_market';

const placeMarketOrders = (scope: Scope) => {
  const sameKey =
    scope === 'user_market'
      ? 'mo.user_id = o.user_id AND mo.market_id = o.market_id AND mo.client_order_id = o.client_order_id'
      : 'mo.user_id = o.user_id AND mo.client_order_id = o.client_order_id';
  const conflictTarget = scope === 'user_market' ? 'user_id, market_id, client_order_id' : 'user_id, client_order_id';
  return `
    CREATE OR REPLACE FUNCTION place_market_orders(p_orders jsonb)
    RETURNS TABLE (r_idx int, r_order_id text, r_seq bigint, r_result text) LANGUAGE plpgsql
    SET enable_seqscan = off AS $$
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
          INTO e FROM market_orders mo WHERE ${sameKey};
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
        ON CONFLICT (${conflictTarget}) DO NOTHING
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
            INTO e FROM market_orders mo WHERE ${sameKey};
          RETURN QUERY SELECT o.idx, e.id, e.seq, CASE WHEN e.same THEN 'replayed' ELSE 'client_order_id_reused' END;
          CONTINUE;
        END IF;
        RETURN QUERY SELECT o.idx, o.order_id, v_seq, 'accepted';
      END LOOP;
    END $$;
`;
};

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE UNIQUE INDEX market_orders_user_market_client_uq ON market_orders (user_id, market_id, client_order_id);
    ALTER TABLE market_orders ADD CONSTRAINT market_orders_user_market_client_uq UNIQUE USING INDEX market_orders_user_market_client_uq;
    ${placeMarketOrders('user_market')}
    ALTER TABLE market_orders DROP CONSTRAINT market_orders_user_client_uq;
  `);
}

/** Fails if a user has since reused a client order id in two markets: that cannot be undone by dropping data. */
export async function down(knex: Knex): Promise<void> {
  await knex.raw(`
    ALTER TABLE market_orders ADD CONSTRAINT market_orders_user_client_uq UNIQUE (user_id, client_order_id);
    ${placeMarketOrders('user')}
    ALTER TABLE market_orders DROP CONSTRAINT market_orders_user_market_client_uq;
  `);
}
