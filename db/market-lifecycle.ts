import { accounts } from '../domain/ledger/accounts';
import { transfer, type JournalEntry } from '../domain/ledger/journal';
import { marketKeys, type MarketOutcome } from '../contracts/market';
import { PAYOUT } from '../domain/market';
import { getBalance } from './ledger-reports';
import { postJournals } from './ledger';
import type { Db, Queryable } from './knex';
import type { MarketRow } from './market-queries';

export interface NewMarket {
  id: string;
  question: string;
  opensAt: Date;
  closesAt: Date;
  feeBps: number;
  disputeWindowSeconds: number;
  resolutionDeadlineSeconds: number;
  createdBy: string;
  /** In play: whether a suspension cancels resting orders (default) or keeps them. */
  suspendCancelsOrders?: boolean;
  /** Seconds after a resume before trading restarts (default 0). */
  resumeDelaySeconds?: number;
}

export async function insertMarket(q: Queryable, m: NewMarket): Promise<MarketRow> {
  const [row] = await q('markets')
    .insert({
      id: m.id,
      question: m.question,
      opens_at: m.opensAt,
      closes_at: m.closesAt,
      fee_bps: m.feeBps,
      dispute_window_seconds: m.disputeWindowSeconds,
      resolution_deadline_seconds: m.resolutionDeadlineSeconds,
      created_by: m.createdBy,
      suspend_cancels_orders: m.suspendCancelsOrders ?? true,
      resume_delay_seconds: m.resumeDelaySeconds ?? 0,
    })
    .returning('*');
  await q('market_engines').insert({ market_id: m.id });
  return row;
}

export async function openMarket(db: Db, marketId: string): Promise<void> {
  await db('markets')
    .where({ id: marketId, status: 'scheduled' })
    .update({ status: 'open', opened_at: db.fn.now(), updated_at: db.fn.now() });
}

/**
 * Stops intake: the row lock waits for intakes in flight, after which none can see the market open.
 * `closes_at` becomes the moment trading stopped — except for a market closed (or voided) before it
 * ever opened, whose closes_at must stay after opens_at (a CHECK); its closed_at says when.
 */
export async function closeMarket(db: Db, marketId: string): Promise<void> {
  await db.raw(
    `UPDATE markets SET status = 'closed', closed_at = now(), updated_at = now(),
       closes_at = CASE WHEN now() > opens_at THEN least(closes_at, now()) ELSE closes_at END
     WHERE id = ? AND status IN ('scheduled', 'open')`,
    [marketId],
  );
}

/**
 * Records a close the market's workflow has moved earlier (its timer is the source of truth), so
 * reads show it and intake refuses orders from that instant even before the timer fires. Only ever
 * earlier, only while the market has not closed; repeating it changes nothing.
 */
export async function scheduleClose(db: Db, marketId: string, at: Date): Promise<void> {
  await db.raw(
    `UPDATE markets SET closes_at = ?, updated_at = now()
     WHERE id = ? AND status IN ('scheduled', 'open') AND closes_at > ? AND opens_at < ?`,
    [at, marketId, at, at],
  );
}

/** What cancelling a live order needs to know of it. */
interface LiveOrderLock {
  id: string;
  user_id: string;
  side: string;
  action: string;
  quantity: number;
  filled_qty: number;
  /** What a decrease already gave up (and unlocked) while the order rested. */
  cancelled_qty: number;
  hold_id: number | null;
  hold_remaining: number;
}

/** After the engine has drained: every order still live is cancelled, its hold or contract lock released. */
export async function cancelLiveOrders(db: Db, marketId: string): Promise<number> {
  return db.transaction(async (trx) => {
    const rows: LiveOrderLock[] = await trx('market_orders')
      .where({ market_id: marketId })
      .whereIn('status', ['open', 'accepted'])
      .orderBy('id')
      .forUpdate()
      .select('id', 'user_id', 'side', 'action', 'quantity', 'filled_qty', 'cancelled_qty', 'hold_id', 'hold_remaining');
    if (rows.length === 0) return 0;
    const holds = rows.filter((r): r is LiveOrderLock & { hold_id: number } => r.hold_id !== null && r.hold_remaining > 0);
    if (holds.length > 0) {
      await trx.raw(
        `UPDATE holds h SET remaining = h.remaining - d.amount, status = CASE WHEN h.remaining = d.amount THEN 'closed' ELSE 'open' END
         FROM unnest(?::bigint[], ?::bigint[]) AS d(id, amount) WHERE h.id = d.id AND h.status = 'open'`,
        [holds.map((r) => r.hold_id), holds.map((r) => r.hold_remaining)],
      );
      const perAccount = new Map<string, number>();
      for (const r of holds)
        perAccount.set(accounts.userWallet(r.user_id), (perAccount.get(accounts.userWallet(r.user_id)) ?? 0) + r.hold_remaining);
      const accts = [...perAccount.keys()].sort();
      await trx.raw(
        `UPDATE account_balances b SET held = b.held - d.amount FROM unnest(?::text[], ?::bigint[]) AS d(account_id, amount)
         WHERE b.account_id = d.account_id AND b.shard = 0`,
        [accts, accts.map((a) => perAccount.get(a)!)],
      );
    }
    const sells = new Map<string, { userId: string; side: string; qty: number }>();
    for (const r of rows.filter((x) => x.action === 'SELL')) {
      const key = `${r.user_id}\u0000${r.side}`;
      const s = sells.get(key) ?? { userId: r.user_id, side: r.side, qty: 0 };
      s.qty += r.quantity - r.filled_qty - r.cancelled_qty;
      sells.set(key, s);
    }
    const unlocks = [...sells.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, v]) => v);
    if (unlocks.length > 0) {
      await trx.raw(
        `UPDATE market_positions p SET locked = p.locked - d.qty, updated_at = now()
         FROM unnest(?::text[], ?::text[], ?::bigint[]) AS d(user_id, side, qty)
         WHERE p.market_id = ? AND p.user_id = d.user_id AND p.side = d.side`,
        [unlocks.map((u) => u.userId), unlocks.map((u) => u.side), unlocks.map((u) => u.qty), marketId],
      );
    }
    await trx.raw(
      `UPDATE market_orders SET status = 'cancelled', cancelled_qty = quantity - filled_qty, remaining = 0, hold_remaining = 0,
         engine_pending = false, reject_reason = coalesce(reject_reason, 'market_closed'), updated_at = now()
       WHERE id = ANY(?::text[])`,
      [rows.map((r) => r.id)],
    );
    return rows.length;
  });
}

export async function recordResolution(db: Db, marketId: string, outcome: MarketOutcome, source: string): Promise<void> {
  await db('markets')
    .where({ id: marketId, status: 'closed' })
    .update({ status: 'resolved', outcome, resolution_source: source, resolved_at: db.fn.now(), updated_at: db.fn.now() });
}

/** What a holder not yet settled is owed, as SQL over their market_positions rows `p` (constant text). */
interface Owed {
  contracts: string;
  amount: string;
  bindings: string[];
}

/**
 * Pays one batch of the holders not yet settled: a settlement row once per (market, user) and a
 * journal keyed per user for each new row with money, in one transaction. Returns how many users
 * this batch settled (0 = done).
 */
async function payHolders(
  db: Db,
  marketId: string,
  kind: 'payout' | 'refund',
  owed: Owed,
  limit: number,
  journal: (userId: string, amount: number) => JournalEntry,
): Promise<number> {
  return db.transaction(async (trx) => {
    const { rows } = await trx.raw<{ rows: Array<{ user_id: string; contracts: number; amount: number }> }>(
      `SELECT p.user_id, (${owed.contracts})::bigint AS contracts, (${owed.amount})::bigint AS amount
       FROM market_positions p
       WHERE p.market_id = ? AND NOT EXISTS (SELECT 1 FROM market_settlements s WHERE s.market_id = p.market_id AND s.user_id = p.user_id)
       GROUP BY p.user_id ORDER BY p.user_id LIMIT ?`,
      [...owed.bindings, marketId, limit],
    );
    if (rows.length === 0) return 0;
    const inserted = await trx.raw<{ rows: Array<{ user_id: string; amount: number }> }>(
      `INSERT INTO market_settlements (market_id, user_id, kind, contracts, amount)
       SELECT ?, d.user_id, ?, d.contracts, d.amount FROM unnest(?::text[], ?::bigint[], ?::bigint[]) AS d(user_id, contracts, amount)
       ON CONFLICT (market_id, user_id) DO NOTHING RETURNING user_id, amount`,
      [marketId, kind, rows.map((r) => r.user_id), rows.map((r) => r.contracts), rows.map((r) => r.amount)],
    );
    await postJournals(
      trx,
      inserted.rows.filter((r) => r.amount > 0).map((r) => journal(r.user_id, r.amount)),
    );
    return rows.length;
  });
}

const WINNING_CONTRACTS = 'coalesce(sum(p.quantity) FILTER (WHERE p.side = ?), 0)';

/** Pays one batch of holders 1000 per winning contract, once per (market, user); 0 = done. */
export async function settleBatch(db: Db, marketId: string, outcome: MarketOutcome, limit: number): Promise<number> {
  const owed = { contracts: WINNING_CONTRACTS, amount: `${WINNING_CONTRACTS} * ${PAYOUT}`, bindings: [outcome, outcome] };
  return payHolders(db, marketId, 'payout', owed, limit, (userId, amount) => ({
    idempotencyKey: marketKeys.settle(marketId, userId),
    reason: 'market_payout',
    refType: 'market',
    refId: marketId,
    metadata: { outcome },
    lines: transfer(accounts.marketEscrow(marketId), accounts.userWallet(userId), amount),
  }));
}

/**
 * Void: each user gets back their net cost in the market (what they paid, fees included, minus
 * what they received) when positive. The escrow holds net costs minus fees, and users who sold at
 * a profit keep it, so the platform tops the escrow up by the difference first (once, keyed).
 */
/** The void has begun paying back (kept from its first attempt): reconciliation times an unfinished void from here. */
export async function markVoidStarted(db: Db, marketId: string): Promise<void> {
  await db('markets').where({ id: marketId }).whereNull('void_started_at').update({ void_started_at: db.fn.now() });
}

export async function fundVoidRefunds(db: Db, marketId: string): Promise<number> {
  return db.transaction(async (trx) => {
    const { rows } = await trx.raw(
      `WITH net AS (SELECT user_id, sum(cost)::bigint AS net FROM market_positions WHERE market_id = ? GROUP BY user_id)
       SELECT coalesce(sum(greatest(net, 0)), 0)::bigint AS refunds, coalesce(sum(net), 0)::bigint AS total,
              (SELECT coalesce(sum(taker_fee + maker_fee), 0)::bigint FROM market_fills WHERE market_id = ?) AS fees
       FROM net`,
      [marketId, marketId],
    );
    const { refunds, total, fees } = rows[0];
    const topUp = refunds - (total - fees);
    if (topUp > 0) {
      await postJournals(trx, [
        {
          idempotencyKey: marketKeys.voidFunding(marketId),
          reason: 'market_void_funding',
          refType: 'market',
          refId: marketId,
          metadata: { refunds, fees },
          lines: transfer(accounts.platformRevenue, accounts.marketEscrow(marketId), topUp),
        },
      ]);
    }
    return topUp;
  });
}

/** Refunds one batch of holders their net cost (when positive), once per (market, user); 0 = done. */
export async function refundBatch(db: Db, marketId: string, limit: number): Promise<number> {
  const owed = { contracts: '0', amount: 'greatest(sum(p.cost), 0)', bindings: [] };
  return payHolders(db, marketId, 'refund', owed, limit, (userId, amount) => ({
    idempotencyKey: marketKeys.refund(marketId, userId),
    reason: 'market_void_refund',
    refType: 'market',
    refId: marketId,
    lines: transfer(accounts.marketEscrow(marketId), accounts.userWallet(userId), amount),
  }));
}

/** Marks the market finished once its escrow is empty (it must be, after payouts or refunds). */
export async function finishMarket(db: Db, marketId: string, status: 'settled' | 'voided', reason?: string): Promise<number> {
  const escrow = await getBalance(db, accounts.marketEscrow(marketId));
  const fields = status === 'settled' ? { settled_at: db.fn.now() } : { voided_at: db.fn.now(), void_reason: reason ?? null };
  await db('markets')
    .where({ id: marketId })
    .whereNot({ status })
    .update({ status, ...fields, updated_at: db.fn.now() });
  return escrow.balance;
}

export async function raiseMarketAlert(db: Db, marketId: string, kind: string, message: string): Promise<boolean> {
  const { rows } = await db.raw(
    `INSERT INTO market_alerts (market_id, kind, message) VALUES (?, ?, ?) ON CONFLICT (market_id, kind) DO NOTHING RETURNING id`,
    [marketId, kind, message],
  );
  return rows.length > 0;
}
