import type { Knex } from 'knex';

/**
 * Order types traders expect, in-play suspension and price history:
 * - `market_orders.expires_at` (good-till-date: the engine expires the order then and releases its
 *   hold), `post_only` (the engine rejects it if it would take liquidity) and `reduce_to` (an amend
 *   that lowers the order's quantity to this total, queued for the engine like a cancel request).
 * - `markets.suspended_at` (in play: intake answers `market_suspended`), `resumes_at` (after a
 *   resume, intake reopens at this instant), and the market's own choices: whether a suspension
 *   cancels resting orders and how long after a resume trading restarts.
 * - `market_fills (market_id, created_at)`: candles read the trades of a time range.
 *
 * place_market_orders is restated whole (CREATE OR REPLACE resets its `enable_seqscan = off`,
 * restated too): it stores the new columns and refuses orders while suspended. The engine's
 * commit_market_batch changes in two places only — the next commands it returns carry the new
 * columns, and it says whether the market is suspended — so those two are rewritten in the
 * function's current definition rather than the 130-line function copied here; the migration fails
 * if either is not found.
 */
const placeMarketOrders = (withOrderTypes: boolean) => `
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
      v_markets := ARRAY(SELECT DISTINCT x->>'market_id' FROM jsonb_array_elements(p_orders) x);
      v_wallets := ARRAY(SELECT DISTINCT 'user:' || (x->>'user_id') || ':wallet' FROM jsonb_array_elements(p_orders) x WHERE x->>'action' = 'BUY');
      v_sellers := ARRAY(SELECT DISTINCT x->>'user_id' FROM jsonb_array_elements(p_orders) x WHERE x->>'action' = 'SELL');
      PERFORM 1 FROM markets mk WHERE mk.id = ANY(v_markets) ORDER BY mk.id FOR SHARE;
      PERFORM 1 FROM account_balances b WHERE b.account_id = ANY(v_wallets) AND b.shard = 0 ORDER BY b.account_id, b.shard FOR UPDATE;
      IF cardinality(v_sellers) > 0 THEN
        PERFORM 1 FROM market_positions p WHERE p.market_id = ANY(v_markets) AND p.user_id = ANY(v_sellers)
        ORDER BY p.market_id, p.user_id, p.side FOR UPDATE;
      END IF;

      FOR o IN
        SELECT * FROM jsonb_to_recordset(p_orders) AS x(idx int, order_id text, market_id text, user_id text,
          client_order_id text, side text, action text, price int, quantity int, tif text, seen_price int,
          slippage_bps int, hold bigint${withOrderTypes ? ', expires_at timestamptz, post_only boolean' : ''})
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
        ${
          withOrderTypes
            ? `-- In play (or in the delay after a resume): refused; the market row's share lock makes a
        -- suspension wait for this batch, so no order is accepted after it commits.
        IF m.suspended_at IS NOT NULL OR (m.resumes_at IS NOT NULL AND now() < m.resumes_at) THEN
          RETURN QUERY SELECT o.idx, NULL::text, NULL::bigint, 'market_suspended';
          CONTINUE;
        END IF;`
            : ''
        }

        v_hold := NULL;
        IF o.action = 'BUY' THEN
          v_account := 'user:' || o.user_id || ':wallet';
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
                                   seen_price, slippage_bps, seq, pending_seq, remaining, hold_id, hold_remaining${withOrderTypes ? ', expires_at, post_only' : ''})
        VALUES (o.order_id, o.market_id, o.user_id, o.client_order_id, o.side, o.action, o.price, o.quantity, o.tif,
                o.seen_price, o.slippage_bps, v_seq, v_seq, o.quantity, v_hold, CASE WHEN v_hold IS NULL THEN 0 ELSE o.hold END${
                  withOrderTypes ? ', o.expires_at, coalesce(o.post_only, false)' : ''
                })
        ON CONFLICT (user_id, market_id, client_order_id) DO NOTHING
        RETURNING id INTO v_inserted;
        IF v_inserted IS NULL THEN
          IF v_hold IS NOT NULL THEN
            DELETE FROM holds WHERE id = v_hold;
            UPDATE account_balances b SET held = b.held - o.hold WHERE b.account_id = v_account AND b.shard = 0;
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
        RETURN QUERY SELECT o.idx, o.order_id, v_seq, 'accepted';
      END LOOP;
    END $$;
`;

/** What commit_market_batch returns: the engine's next commands (their columns) and whether the market is suspended. */
const COMMIT_BEFORE = [
  'o.status, o.cancel_requested, o.hold_id, o.hold_remaining',
  `jsonb_build_object('version', v_version, 'next',`,
] as const;
const COMMIT_AFTER = [
  `${COMMIT_BEFORE[0]}, o.expires_at, o.post_only, o.reduce_to`,
  // The flag as of this commit, so the views the engine publishes after it never contradict a
  // suspension that committed first (the suspension bumps the same feed version).
  `jsonb_build_object('version', v_version, 'suspended', (SELECT mk.suspended_at IS NOT NULL OR (mk.resumes_at IS NOT NULL AND now() < mk.resumes_at) FROM markets mk WHERE mk.id = v_market), 'next',`,
] as const;

/** Rewrites those two places in commit_market_batch's current definition. */
async function rewriteCommit(knex: Knex, from: readonly string[], to: readonly string[]): Promise<void> {
  const { rows } = await knex.raw(`SELECT pg_get_functiondef('commit_market_batch(jsonb, int)'::regprocedure) AS def`);
  let def: string = rows[0].def;
  from.forEach((text, i) => {
    if (!def.includes(text)) throw new Error(`commit_market_batch: "${text}" not found`);
    def = def.replace(text, to[i]);
  });
  await knex.raw(def);
}

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    ALTER TABLE market_orders
      ADD COLUMN expires_at timestamptz,
      ADD COLUMN post_only boolean NOT NULL DEFAULT false,
      ADD COLUMN reduce_to int CHECK (reduce_to >= 0);
    ALTER TABLE markets
      ADD COLUMN suspended_at timestamptz,
      ADD COLUMN resumes_at timestamptz,
      ADD COLUMN suspend_cancels_orders boolean NOT NULL DEFAULT true,
      ADD COLUMN resume_delay_seconds int NOT NULL DEFAULT 0 CHECK (resume_delay_seconds BETWEEN 0 AND 600);
    CREATE INDEX market_fills_time_idx ON market_fills (market_id, created_at);
    ${placeMarketOrders(true)}
  `);
  await rewriteCommit(knex, COMMIT_BEFORE, COMMIT_AFTER);
}

export async function down(knex: Knex): Promise<void> {
  await rewriteCommit(knex, COMMIT_AFTER, COMMIT_BEFORE);
  await knex.raw(`
    ${placeMarketOrders(false)}
    DROP INDEX market_fills_time_idx;
    ALTER TABLE markets DROP COLUMN suspended_at, DROP COLUMN resumes_at, DROP COLUMN suspend_cancels_orders, DROP COLUMN resume_delay_seconds;
    ALTER TABLE market_orders DROP COLUMN expires_at, DROP COLUMN post_only, DROP COLUMN reduce_to;
  `);
}
