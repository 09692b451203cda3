import { accountPolicy, shardFor } from '../domain/ledger/accounts';
import { validateJournal } from '../domain/ledger/journal';
import type { BatchResult, LiveOrder, OrderState, PendingCommand } from '../domain/market/batch';
import type { MarketView } from '../domain/market/feed';
import type { Action, Side, TimeInForce } from '../domain/market';
import type { MarketStatus } from '../contracts/market';
import { InsufficientFundsError, isCheckViolation } from './errors';
import { GroupCommit, settle, type Outcome } from './group-commit';
import type { Db } from './knex';
import { SUSPENDED_SQL, committedView, type MarketOrderRow } from './market-queries';

/** Another engine instance has taken over this market (its epoch is newer): stop at once. */
export class StaleEngineError extends Error {
  readonly type = 'StaleEngine';
}

export interface EngineClaim {
  epoch: number;
  lastBookSeq: number;
  version: number;
  lastPrice: number | null;
  volume: number;
  feeBps: number;
  /** The market is suspended (in play): views say so. */
  suspended: boolean;
}

/** Takes over the market's engine: bumping the epoch fences out any older instance still running. */
export async function claimEngine(db: Db, marketId: string): Promise<EngineClaim> {
  const { rows } = await db.raw(
    `UPDATE market_engines e SET epoch = e.epoch + 1, updated_at = now()
     FROM markets m WHERE m.id = e.market_id AND e.market_id = ?
     RETURNING e.epoch, e.last_book_seq, e.version, e.last_price, e.volume, m.fee_bps, ${SUSPENDED_SQL('m')} AS suspended`,
    [marketId],
  );
  if (rows.length === 0) throw new Error(`market ${marketId} has no engine row`);
  const r = rows[0];
  return {
    epoch: r.epoch,
    lastBookSeq: r.last_book_seq,
    version: r.version,
    lastPrice: r.last_price,
    volume: r.volume,
    feeBps: r.fee_bps,
    suspended: r.suspended,
  };
}

/**
 * Bumps the feed version without an engine batch (the close cancelled what rested), so watchers
 * take the empty book that follows as newer than anything the engine published.
 */
export async function bumpFeedVersion(db: Db, marketId: string): Promise<{ version: number; lastPrice: number | null; volume: number }> {
  const { rows } = await db.raw(
    `UPDATE market_engines SET version = version + 1 WHERE market_id = ? RETURNING version, last_price, volume`,
    [marketId],
  );
  const e = rows[0];
  return { version: e.version, lastPrice: e.last_price, volume: e.volume };
}

/**
 * The committed view under a newly taken feed version, read in the same transaction (so it shows
 * exactly the batches committed before that version): for the engine's trades whose own view was
 * superseded on the feed before it went out (a suspension published a newer one), so they go out
 * with a view newer than anything published.
 */
export async function freshFeedView(db: Db, marketId: string): Promise<MarketView> {
  return db.transaction(async (trx) => {
    await trx.raw(`UPDATE market_engines SET version = version + 1 WHERE market_id = ?`, [marketId]);
    return committedView(trx, marketId);
  });
}

export interface MarketWatchRow {
  marketId: string;
  status: MarketStatus;
  /** Commands are queued for the engine (a new order or a cancel request). */
  pending: boolean;
  suspended: boolean;
}

/**
 * Each market's status and whether its engine has anything queued, for many markets in one
 * statement — one snapshot, so "stopped trading and nothing queued" read together is final:
 * intake holds the market row while it inserts, and a close waits for it.
 */
export async function watchMarkets(db: Db, marketIds: readonly string[]): Promise<MarketWatchRow[]> {
  if (marketIds.length === 0) return [];
  const rows = await db('markets as m')
    .whereIn('m.id', marketIds)
    .select(
      'm.id',
      'm.status',
      db.raw(`${SUSPENDED_SQL('m')} AS suspended`),
      db.raw('EXISTS (SELECT 1 FROM market_orders o WHERE o.market_id = m.id AND o.engine_pending) AS pending'),
    );
  return rows.map((r: { id: string; status: MarketStatus; pending: boolean; suspended: boolean }) => ({
    marketId: r.id,
    status: r.status,
    pending: r.pending,
    suspended: r.suspended,
  }));
}

function toLive(r: MarketOrderRow): LiveOrder {
  return {
    orderId: r.id,
    userId: r.user_id,
    side: r.side as Side,
    action: r.action as Action,
    quantity: r.quantity,
    status: r.status as OrderState,
    bookSeq: r.book_seq,
    bookPrice: r.book_price,
    remaining: r.remaining,
    filledQty: r.filled_qty,
    cancelledQty: r.cancelled_qty,
    filledCost: r.filled_cost,
    fees: r.fees,
    holdId: r.hold_id,
    holdRemaining: r.hold_remaining,
    rejectReason: r.reject_reason,
    currentPrice: r.current_price,
    expiresAt: instantMs(r.expires_at),
  };
}

/** A timestamptz as read by pg (a Date) or inside jsonb (an ISO string), in ms; null stays null. */
function instantMs(v: Date | string | null | undefined): number | null {
  return v == null ? null : new Date(v).getTime();
}

export async function loadOpenOrders(db: Db, marketId: string): Promise<LiveOrder[]> {
  const rows = await db('market_orders').where({ market_id: marketId, status: 'open' }).orderBy('book_seq');
  return rows.map(toLive);
}

const PENDING_COLUMNS = [
  'id',
  'user_id',
  'side',
  'action',
  'price',
  'quantity',
  'tif',
  'seen_price',
  'slippage_bps',
  'pending_seq',
  'status',
  'cancel_requested',
  'hold_id',
  'hold_remaining',
  'expires_at',
  'post_only',
  'reduce_to',
];

function toPending(r: MarketOrderRow): PendingCommand {
  return {
    orderId: r.id,
    userId: r.user_id,
    side: r.side,
    action: r.action,
    price: r.price,
    quantity: r.quantity,
    tif: r.tif as TimeInForce,
    seenPrice: r.seen_price,
    slippageBps: r.slippage_bps,
    pendingSeq: r.pending_seq,
    status: r.status,
    cancelRequested: r.cancel_requested,
    holdId: r.hold_id,
    holdRemaining: r.hold_remaining,
    expiresAt: instantMs(r.expires_at),
    postOnly: r.post_only === true,
    reduceTo: r.reduce_to ?? null,
  };
}

export async function readPending(db: Db, marketId: string, limit: number): Promise<PendingCommand[]> {
  const rows = await db('market_orders')
    .where({ market_id: marketId, engine_pending: true })
    .orderBy('pending_seq')
    .limit(limit)
    .select(PENDING_COLUMNS);
  return rows.map(toPending);
}

export interface CommitResult {
  /** The market's new feed version. */
  version: number;
  /** Up to `nextLimit` queued commands, read after this batch's acks in the same transaction. */
  next: PendingCommand[];
  /** The market is suspended as of this commit. */
  suspended: boolean;
}

/** What commit_market_batch takes for one batch (checked: every journal balances). */
export function batchPayload(marketId: string, epoch: number, batch: BatchResult) {
  batch.journals.forEach(validateJournal);
  const ackSeq = new Map(batch.acks.map((a) => [a.orderId, a.pendingSeq]));
  const changed = new Set(batch.orders.map((o) => o.orderId));
  const payload = {
    market_id: marketId,
    epoch,
    last_book_seq: batch.lastBookSeq,
    processed: batch.acks.length,
    last_price: batch.lastPrice,
    volume: batch.volume,
    holds: batch.holds.map((h) => ({ id: h.holdId, account: h.account, amount: h.amount })),
    journals: batch.journals.map((j) => ({
      key: j.idempotencyKey,
      reason: j.reason,
      ref_type: j.refType ?? null,
      ref_id: j.refId ?? null,
      actor: j.actor ?? 'system',
      metadata: j.metadata ?? {},
    })),
    lines: batch.journals.flatMap((j) =>
      j.lines.map((l) => ({
        key: j.idempotencyKey,
        account: l.account,
        shard: shardFor(l.account, j.idempotencyKey),
        amount: l.amount,
        may_neg: accountPolicy(l.account).mayGoNegative,
      })),
    ),
    fills: batch.fills.map((x) => ({
      book_seq: x.bookSeq,
      idx: x.idx,
      kind: x.fill.kind,
      yes_price: x.fill.yesPrice,
      quantity: x.fill.quantity,
      taker_order_id: x.fill.takerOrderId,
      taker_user_id: x.fill.takerUserId,
      taker_side: x.fill.takerSide,
      taker_action: x.fill.takerAction,
      taker_price: x.fill.takerPrice,
      taker_fee: x.takerFee,
      maker_order_id: x.fill.makerOrderId,
      maker_user_id: x.fill.makerUserId,
      maker_side: x.fill.makerSide,
      maker_action: x.fill.makerAction,
      maker_price: x.fill.makerPrice,
      maker_fee: x.makerFee,
    })),
    positions: batch.positions.map((x) => ({ user_id: x.userId, side: x.side, quantity: x.quantity, locked: x.locked, cost: x.cost })),
    orders: batch.orders.map((x) => ({
      ack_seq: ackSeq.get(x.orderId) ?? null,
      id: x.orderId,
      status: x.status,
      book_seq: x.bookSeq,
      book_price: x.bookPrice,
      remaining: x.remaining,
      filled_qty: x.filledQty,
      cancelled_qty: x.cancelledQty,
      filled_cost: x.filledCost,
      fees: x.fees,
      hold_remaining: x.holdRemaining,
      reject_reason: x.rejectReason,
      current_price: x.currentPrice,
    })),
    acks: batch.acks.filter((a) => !changed.has(a.orderId)).map((a) => ({ id: a.orderId, pending_seq: a.pendingSeq })),
  };
  return payload;
}

export type BatchPayload = ReturnType<typeof batchPayload>;

/** One market's commit_market_batch answer, as the engine uses it. */
export function commitResultOf(r: { version: number; next: MarketOrderRow[]; suspended?: boolean }): CommitResult {
  return { version: r.version, next: r.next.map(toPending), suspended: r.suspended === true };
}

/** A commit's failure as the engine must see it: a stale epoch, an overdraft, or anything else as is. */
export function commitFailure(err: unknown, marketId: string, epoch: number, batch: BatchResult): unknown {
  if ((err as { code?: string }).code === 'MK010') return new StaleEngineError(`engine epoch ${epoch} of market ${marketId} is stale`);
  if (isCheckViolation(err, 'no_overdraft'))
    return new InsufficientFundsError(batch.journals.flatMap((j) => j.lines.filter((l) => l.amount < 0).map((l) => l.account)).join(', '));
  return err;
}

/**
 * Commits one engine batch atomically in one statement (commit_market_batch): progress (fenced by
 * the epoch), hold draw-downs, journals, fills, positions, order states and queue acks. One round
 * trip, so the wallet rows it locks are not held while this process is busy elsewhere — intake
 * queues behind those locks. Returns the new feed version and the next queued commands.
 */
export async function commitBatch(db: Db, marketId: string, epoch: number, batch: BatchResult, nextLimit = 0): Promise<CommitResult> {
  const payload = batchPayload(marketId, epoch, batch);
  try {
    const { rows } = await db.raw(`SELECT commit_market_batch(?::jsonb, ?::int) AS r`, [JSON.stringify(payload), nextLimit]);
    return commitResultOf(rows[0].r);
  } catch (err) {
    throw commitFailure(err, marketId, epoch, batch);
  }
}

export interface MarketEngineStoreOptions {
  /** Most markets in one group statement. */
  maxGroup?: number;
  /** Group statements of one kind in flight at once; requests arriving meanwhile wait for the next. */
  maxInFlight?: number;
}

const newStoreStats = () => ({ commitStatements: 0, commitBatches: 0, readStatements: 0, reads: 0, groupFallbacks: 0 });
export type StoreStats = ReturnType<typeof newStoreStats>;
/** Every MarketEngineStore of this process, summed (the markets benchmark reports them). */
export const marketEngineStoreTotals: StoreStats = newStoreStats();

interface CommitRequest {
  marketId: string;
  epoch: number;
  batch: BatchResult;
  nextLimit: number;
}

interface ReadRequest {
  marketId: string;
  limit: number;
}

/**
 * The engines of one worker process reading their queues and committing their batches together
 * (GroupCommit).
 * Engines woken at once read in one statement (read_market_queues), and the batches ready at once
 * commit in one transaction and one statement (commit_market_batches): a hundred busy markets cost
 * Postgres a few large transactions a round instead of a hundred small ones taking turns on the
 * same wallet rows, each with its own round trip and WAL flush. A lone call goes as a single
 * market's statement, so one busy market pays nothing for this.
 *
 * Each market keeps every guarantee of its own commit: its batch is fenced by its epoch (a stale
 * one fails with StaleEngineError and writes nothing, the others commit), all or nothing, its
 * journals idempotent and checked against overdraft. If a group's statement fails as a whole (an
 * overdraft, a deadlock), each of its batches is committed again on its own, so a failing market
 * fails alone and the others commit.
 */
export class MarketEngineStore {
  private readonly commits: GroupCommit<CommitRequest, CommitResult>;
  private readonly reads: GroupCommit<ReadRequest, PendingCommand[]>;
  /** Statements sent and the calls they carried, for tests (and, summed over the process, marketEngineStoreTotals). */
  readonly stats = newStoreStats();

  constructor(
    private readonly db: Db,
    options: MarketEngineStoreOptions = {},
  ) {
    const maxGroup = options.maxGroup ?? 50;
    const maxInFlight = options.maxInFlight ?? 2;
    this.commits = new GroupCommit({ maxGroup, maxInFlight, run: (reqs) => this.commitGroup(reqs) });
    this.reads = new GroupCommit({ maxGroup, maxInFlight, run: (reqs) => this.readGroup(reqs) });
  }

  private count(what: keyof StoreStats, n: number): void {
    this.stats[what] += n;
    marketEngineStoreTotals[what] += n;
  }

  /** Commits one engine batch (see commitBatch), together with the batches other engines have ready. */
  commit(marketId: string, epoch: number, batch: BatchResult, nextLimit = 0): Promise<CommitResult> {
    return this.commits.call({ marketId, epoch, batch, nextLimit });
  }

  /** Up to `limit` of the market's queued commands in order (see readPending), read together with other engines' reads. */
  readPending(marketId: string, limit: number): Promise<PendingCommand[]> {
    return this.reads.call({ marketId, limit });
  }

  private async commitGroup(reqs: CommitRequest[]): Promise<Array<Outcome<CommitResult>>> {
    this.count('commitStatements', 1);
    this.count('commitBatches', reqs.length);
    const alone = (r: CommitRequest) => settle(() => commitBatch(this.db, r.marketId, r.epoch, r.batch, r.nextLimit));
    if (reqs.length === 1) return [await alone(reqs[0])];
    // One batch per market in a group (two engine instances of one market in this process, during
    // a hand-over, commit on their own), and a batch that fails its own checks (an unbalanced
    // journal) reports that on its own too.
    const grouped = new Map<string, { idx: number; payload: BatchPayload }>();
    reqs.forEach((r, idx) => {
      if (grouped.has(r.marketId)) return;
      try {
        grouped.set(r.marketId, { idx, payload: batchPayload(r.marketId, r.epoch, r.batch) });
      } catch {
        // committed alone below, which throws the same error
      }
    });
    const out: Array<Outcome<CommitResult> | undefined> = new Array(reqs.length);
    if (grouped.size > 1) {
      try {
        const { rows } = await this.db.raw(`SELECT commit_market_batches(?::jsonb) AS r`, [JSON.stringify(groupPayload(grouped, reqs))]);
        for (const a of rows[0].r as Array<{ idx: number; stale?: boolean } & Parameters<typeof commitResultOf>[0]>) {
          const r = reqs[a.idx];
          out[a.idx] = a.stale
            ? { err: new StaleEngineError(`engine epoch ${r.epoch} of market ${r.marketId} is stale`) }
            : { ok: commitResultOf(a) };
        }
      } catch (err) {
        // Only an error the server raised proves the group rolled back; after anything else (the
        // connection lost) it may have committed, and no batch may be applied twice: every engine
        // of the group fails its attempt and rebuilds from what is committed, as after its own commit.
        if (!rolledBack(err)) throw err;
        // The whole group rolled back: each batch on its own, so only a failing one fails.
        this.count('groupFallbacks', 1);
      }
    }
    return Promise.all(reqs.map((r, i) => out[i] ?? alone(r)));
  }

  private async readGroup(reqs: ReadRequest[]): Promise<Array<Outcome<PendingCommand[]>>> {
    this.count('readStatements', 1);
    this.count('reads', reqs.length);
    if (reqs.length === 1) return [await settle(() => readPending(this.db, reqs[0].marketId, reqs[0].limit))];
    const { rows } = await this.db.raw(
      `SELECT market_id, ${PENDING_COLUMNS.join(', ')} FROM read_market_queues(?::text[], ?::int[]) ORDER BY market_id, pending_seq`,
      [reqs.map((r) => r.marketId), reqs.map((r) => r.limit)],
    );
    const byMarket = new Map<string, PendingCommand[]>();
    for (const r of rows as MarketOrderRow[]) {
      let list = byMarket.get(r.market_id);
      if (!list) byMarket.set(r.market_id, (list = []));
      list.push(toPending(r));
    }
    return reqs.map((r) => ({ ok: byMarket.get(r.marketId) ?? [] }));
  }
}

/** A statement's error raised by the server (SQLSTATE, severity ERROR): its transaction rolled back. */
function rolledBack(err: unknown): boolean {
  const e = err as { code?: unknown; severity?: unknown };
  return e.severity === 'ERROR' && typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code);
}

/** commit_market_batches' payload: the batches' rows side by side, each with its market. */
function groupPayload(grouped: Map<string, { idx: number; payload: BatchPayload }>, reqs: readonly CommitRequest[]) {
  const g = {
    engines: [] as unknown[],
    holds: [] as unknown[],
    journals: [] as unknown[],
    lines: [] as unknown[],
    fills: [] as unknown[],
    positions: [] as unknown[],
    orders: [] as unknown[],
    acks: [] as unknown[],
  };
  for (const [market_id, { idx, payload: b }] of grouped) {
    g.engines.push({
      idx,
      market_id,
      epoch: b.epoch,
      last_book_seq: b.last_book_seq,
      processed: b.processed,
      last_price: b.last_price,
      volume: b.volume,
      next: reqs[idx].nextLimit,
    });
    for (const k of ['holds', 'journals', 'lines', 'fills', 'positions', 'orders', 'acks'] as const)
      for (const row of b[k]) g[k].push({ market_id, ...row });
  }
  return g;
}
