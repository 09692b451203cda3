import type { Db } from './knex';
import { SUSPENDED_SQL } from './market-queries';

export interface Suspension {
  /** False when the market is not open (nothing was suspended). */
  suspended: boolean;
  /** Orders queued for the engine to cancel: the ones it had not yet seen, and (by the market's choice) the resting ones. */
  cancelRequested: number;
  version: number;
}

/**
 * Puts an open market in play, in one transaction: intake refuses from here on (its share lock on
 * the market row makes this wait for batches in flight), every order the engine has not yet seen
 * is queued to be cancelled instead of matched, and — unless the market chose to keep them —
 * so is every resting order (the engine releases their holds). The feed version is bumped so the
 * suspended view supersedes everything published before. Repeating it changes nothing more.
 */
export async function suspendMarket(db: Db, marketId: string): Promise<Suspension> {
  return db.transaction(async (trx) => {
    const { rows } = await trx.raw(
      `UPDATE markets SET suspended_at = coalesce(suspended_at, now()), resumes_at = NULL, updated_at = now()
       WHERE id = ? AND status = 'open' RETURNING suspend_cancels_orders`,
      [marketId],
    );
    if (rows.length === 0) return { suspended: false, cancelRequested: 0, version: 0 };
    // The engine row before the order rows: the engine's batch commit locks them in that order too.
    const v = await trx.raw(`UPDATE market_engines SET version = version + 1 WHERE market_id = ? RETURNING version`, [marketId]);
    const statuses = rows[0].suspend_cancels_orders ? ['accepted', 'open'] : ['accepted'];
    const cancelled = await trx.raw(
      `UPDATE market_orders SET cancel_requested = true, engine_pending = true, pending_seq = nextval('market_order_seq'), updated_at = now()
       WHERE market_id = ? AND status = ANY(?::text[]) AND NOT cancel_requested RETURNING id`,
      [marketId, statuses],
    );
    return { suspended: true, cancelRequested: cancelled.rows.length, version: v.rows[0].version };
  });
}

/**
 * Ends a suspension: intake reopens `delaySeconds` from now (the market's own resume delay when
 * null), so traders can re-quote before anyone can hit a quote. Returns when trading restarts, or
 * null when the market was not suspended.
 */
export async function resumeMarket(db: Db, marketId: string, delaySeconds: number | null): Promise<Date | null> {
  return db.transaction(async (trx) => {
    const { rows } = await trx.raw(
      `UPDATE markets SET suspended_at = NULL, updated_at = now(),
         resumes_at = now() + make_interval(secs => coalesce(?::int, resume_delay_seconds))
       WHERE id = ? AND suspended_at IS NOT NULL RETURNING resumes_at`,
      [delaySeconds, marketId],
    );
    if (rows.length === 0) return null;
    await trx.raw(`UPDATE market_engines SET version = version + 1 WHERE market_id = ?`, [marketId]);
    return rows[0].resumes_at;
  });
}

/** Bumps the feed version once a resume's delay has passed, so watchers see trading restart. */
export async function markTradingRestarted(db: Db, marketId: string): Promise<boolean> {
  const { rows } = await db.raw(
    `UPDATE market_engines e SET version = e.version + 1 FROM markets m
     WHERE e.market_id = ? AND m.id = e.market_id AND NOT ${SUSPENDED_SQL('m')} RETURNING e.version`,
    [marketId],
  );
  return rows.length > 0;
}

/** How many of the market's commands the engine has still to process. */
export async function queuedCommands(db: Db, marketId: string): Promise<number> {
  const [{ count }] = await db('market_orders').where({ market_id: marketId, engine_pending: true }).count();
  return Number(count);
}

/** Milliseconds until a resumed market trades again by the database's clock (0: it does); null while suspended. */
export async function msUntilTradingRestarts(db: Db, marketId: string): Promise<number | null> {
  const { rows } = await db.raw(
    `SELECT suspended_at IS NOT NULL AS suspended,
            greatest(0, ceil(extract(epoch FROM coalesce(resumes_at, now()) - now()) * 1000))::int AS ms
     FROM markets WHERE id = ?`,
    [marketId],
  );
  if (rows.length === 0 || rows[0].suspended) return null;
  return rows[0].ms;
}
