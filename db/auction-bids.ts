/**
 * Bids, the auction's hot path: the bids that arrived together for one lot (api/auction-intake.ts)
 * are decided and recorded in ONE transaction under the lot's row lock. It reads the lot, the
 * bidders' available funds and any earlier answers to the same client bid ids; the rules decide
 * each bid in arrival order against the book as the previous ones left it (domain/auction); one
 * statement then records the accepted bids, replaces the leader's hold (only the leader's funds
 * are held: the outbid leader's hold is released, the new leader's placed) and moves the lot
 * (price, leader, end, version). So every bid is durable — its funds checked, the lead's held —
 * before it is acknowledged, and no bid is accepted after the close, which takes the same lock
 * (db/auction-lots.ts#attemptClose). One transaction for many bids is what lets a hot lot take
 * bids at the rate its bidders send them: each transaction holds the lock for a few round trips.
 *
 * That locked transaction (recordBids) is the fallback. A hot lot's batches are first decided in
 * memory, against the lot as this instance last committed it (LotMemory), and written by one
 * statement, commit_auction_bids, which checks under the same lock that the decisions still hold
 * (the lot open at the version they were made against, the database clock before the end, every
 * bidder still funded) — one round trip a batch, no transaction left idle while this process
 * decides (recordBidsFromMemory).
 */
import { type ApplicationFailure } from '@temporalio/common';
import { decideBid, decideBuyNow, nextMinimum, type AuctionBook } from '../domain/auction';
import { accounts } from '../domain/ledger';
import { readRejection, rejection } from '../domain/rejection';
import { auctionKeys } from '../contracts/auction';
import { isCheckViolation } from './errors';
import { termsOf, type LotRow, type StoredBid } from './auction-lots';
import type { Knex } from 'knex';
import type { Db, Queryable, Tx } from './knex';

export interface BidRequest {
  lotId: string;
  bidderId: string;
  clientBidId: string;
  kind: 'bid' | 'buy_now';
  /** For a buy-now: ignored (the lot's buy-now price). */
  amount: number;
  maxAmount?: number;
}

export interface BidAccepted {
  replayed: boolean;
  bid: StoredBid;
  /** The lot after the whole batch committed. */
  row: LotRow;
  /** Who this bid took the lead from, if anyone. */
  outbid: string | null;
  extended: boolean;
}

/** One answer per request, in order: accepted (or replayed), or the rejection to throw. */
export type BidAnswer = { ok: BidAccepted } | { refused: ApplicationFailure };

export interface BatchResult {
  answers: BidAnswer[];
  /** The lot after the batch, when anything was accepted. */
  row: LotRow | null;
  /** Holds actually released by the batch (the previous leader's, when replaced). */
  released: Array<{ bidderId: string; amount: number }>;
}

interface LockedLot extends LotRow {
  now_ms: string;
}

/**
 * The lot under its row lock, and the database clock read AFTER the lock was granted: a clock read
 * in the locking statement is evaluated before the wait, so a bid queued behind the lock across
 * the end would be judged as if it had arrived in time.
 */
async function lockLot(trx: Tx, lotId: string): Promise<LockedLot | undefined> {
  const { rows } = await trx.raw(`SELECT l.* FROM auction_lots l WHERE l.id = ? FOR UPDATE`, [lotId]);
  if (rows.length === 0) return undefined;
  const clock = await trx.raw(`SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint AS now_ms`);
  return { ...rows[0], now_ms: clock.rows[0].now_ms };
}

/** Each bidder's available funds (balance less held, over the wallet's shards). */
async function availableFunds(trx: Queryable, bidderIds: string[]): Promise<Map<string, number>> {
  const { rows } = await trx.raw(
    `SELECT account_id, sum(balance) - sum(held) AS available FROM account_balances WHERE account_id = ANY(?::text[]) GROUP BY account_id`,
    [bidderIds.map(accounts.userWallet)],
  );
  return new Map(rows.map((r: { account_id: string; available: string }) => [r.account_id, Number(r.available)]));
}

async function earlierBids(trx: Tx, lotId: string, reqs: BidRequest[]): Promise<Map<string, StoredBid>> {
  const { rows } = await trx.raw(
    `SELECT b.* FROM auction_bids b JOIN unnest(?::text[], ?::text[]) AS r(bidder, cid) ON b.bidder_id = r.bidder AND b.client_bid_id = r.cid
     WHERE b.lot_id = ?`,
    [reqs.map((r) => r.bidderId), reqs.map((r) => r.clientBidId), lotId],
  );
  return new Map(rows.map((b: StoredBid) => [idOf(b.bidder_id, b.client_bid_id), b]));
}

const idOf = (bidderId: string, clientBidId: string) => `${bidderId}\u0000${clientBidId}`;

/** The bid a repeated client bid id names; the same id for a different bid is refused. */
function replayOf(bid: StoredBid, req: BidRequest): BidAnswer | null {
  const same =
    req.kind === 'buy_now' ? bid.kind === 'buy_now' : bid.amount === req.amount && bid.max_amount === (req.maxAmount ?? req.amount);
  if (!same)
    return {
      refused: rejection('conflict', 'client_bid_id_reused', 'this clientBidId was already used for another bid', { bidId: bid.id }),
    };
  return null;
}

function refusalFor(lot: LotRow, book: AuctionBook): ApplicationFailure | null {
  if (lot.status === 'scheduled') return rejection('conflict', 'lot_not_open', 'the lot has not opened yet');
  if (lot.status !== 'open' || book.status !== 'open')
    return rejection('conflict', 'lot_closed', `the lot is ${lot.status === 'open' ? 'closed' : lot.status}`, {
      status: lot.status === 'open' ? 'closed' : lot.status,
    });
  return null;
}

interface Accepted {
  index: number;
  req: BidRequest;
  amount: number;
  maxAmount: number;
  book: AuctionBook;
  outbid: string | null;
  extended: boolean;
}

/**
 * Decides a batch against the locked lot: each request in order, each accepted one moving the
 * in-memory book. Funds: a bidder must be able to cover their new maximum, counting what is held
 * for them now (a leader raising their own bid only needs the difference).
 */
function decideBatch(lot: LockedLot, reqs: BidRequest[], funds: Map<string, number>, earlier: Map<string, StoredBid>) {
  const terms = termsOf(lot);
  const at = Number(lot.now_ms);
  const heldNow = lot.book?.leader ? { bidderId: lot.book.leader.bidderId, amount: lot.book.leader.maxAmount } : null;
  let book = lot.book!;
  const answers: Array<BidAnswer | { accepted: number } | { replayOf: StoredBid } | { sameAs: number }> = [];
  const accepted: Accepted[] = [];
  const inBatch = new Map<string, number>();
  reqs.forEach((req, index) => {
    const key = idOf(req.bidderId, req.clientBidId);
    const before = earlier.get(key);
    if (before) {
      answers.push(replayOf(before, req) ?? { replayOf: before });
      return;
    }
    const twin = inBatch.get(key);
    if (twin !== undefined) {
      answers.push({ sameAs: twin });
      return;
    }
    const closed = refusalFor(lot, book);
    if (closed) return void answers.push({ refused: closed });
    const decision =
      req.kind === 'buy_now'
        ? decideBuyNow(terms, book, { bidderId: req.bidderId, at })
        : decideBid(terms, book, { bidderId: req.bidderId, amount: req.amount, maxAmount: req.maxAmount, at });
    if (!decision.accepted) {
      const kind = decision.code === 'max_below_amount' || decision.code === 'invalid_amount' ? 'invalid' : 'conflict';
      return void answers.push({ refused: rejection(kind, decision.code, decision.message, decision.details) });
    }
    const amount = req.kind === 'buy_now' ? lot.buy_now_price! : req.amount;
    const maxAmount = req.kind === 'buy_now' ? amount : (req.maxAmount ?? req.amount);
    const covered = (funds.get(accounts.userWallet(req.bidderId)) ?? 0) + (heldNow?.bidderId === req.bidderId ? heldNow.amount : 0);
    if (covered < maxAmount)
      return void answers.push({
        refused: rejection('conflict', 'insufficient_funds', 'the wallet cannot cover this bid', {
          required: maxAmount,
          available: covered,
        }),
      });
    const outbid = book.leader && book.leader.bidderId !== decision.book.leader?.bidderId ? book.leader.bidderId : null;
    const extended = 'extendedTo' in decision && decision.extendedTo !== null;
    book = decision.book;
    inBatch.set(key, index);
    accepted.push({ index, req, amount, maxAmount, book, outbid, extended });
    answers.push({ accepted: accepted.length - 1 });
  });
  // A bid too low is told the minimum as the whole batch left it, the freshest the bidder can act on.
  if (accepted.length > 0) {
    const minimum = nextMinimum(terms, book);
    answers.forEach((a, i) => {
      if ('refused' in a && readRejection(a.refused)?.code === 'bid_too_low')
        answers[i] = {
          refused: rejection('conflict', 'bid_too_low', `The bid must be at least ${minimum} paise`, {
            nextMinimum: minimum,
            price: book.price,
          }),
        };
    });
  }
  return { answers, accepted, book, heldNow };
}

const BATCH_WRITE = `
  WITH bids AS (
    INSERT INTO auction_bids (lot_id, placed_at, bidder_id, client_bid_id, kind, amount, max_amount, seq, price_after, leader_after, ends_at_after)
    SELECT ?, to_timestamp(?::double precision / 1000), b.bidder, b.cid, b.kind, b.amount, b.max_amount, b.seq, b.price, b.leader, to_timestamp(b.ends_at::double precision / 1000)
    FROM unnest(?::text[], ?::text[], ?::text[], ?::bigint[], ?::bigint[], ?::int[], ?::bigint[], ?::text[], ?::bigint[])
      AS b(bidder, cid, kind, amount, max_amount, seq, price, leader, ends_at)
    RETURNING *
  ), released AS (
    UPDATE holds h SET remaining = 0, status = 'closed'
    FROM holds old WHERE old.id = h.id AND h.id = ?::bigint AND h.status = 'open'
    RETURNING h.account_id, old.remaining AS amount
  ), placed AS (
    INSERT INTO holds (account_id, amount, remaining, idempotency_key, ref_type, ref_id)
    SELECT ?, ?::bigint, ?::bigint, ?, 'auction_lot', ? WHERE ?::bigint > 0
    RETURNING id, account_id, amount
  ), held AS (
    UPDATE account_balances b SET held = b.held + d.delta
    FROM (SELECT account_id, sum(delta) AS delta
          FROM (SELECT account_id, -amount AS delta FROM released UNION ALL SELECT account_id, amount FROM placed) x
          GROUP BY account_id) d
    WHERE b.account_id = d.account_id AND b.shard = 0
    RETURNING b.account_id
  ), lot AS (
    UPDATE auction_lots SET book = ?::jsonb, price = ?, leader_id = ?, bid_count = ?, status = ?,
      ends_at = to_timestamp(?::double precision / 1000),
      closed_at = CASE WHEN ? = 'closed' THEN clock_timestamp() ELSE closed_at END,
      leader_hold_id = CASE WHEN ? THEN (SELECT id FROM placed) ELSE leader_hold_id END,
      version = version + 1
    WHERE id = ? RETURNING *
  )
  SELECT (SELECT json_agg(bids ORDER BY seq) FROM bids) AS bids, (SELECT row_to_json(lot) FROM lot) AS lot,
         (SELECT json_agg(released) FROM released) AS released, (SELECT count(*) FROM placed) AS placed`;

/** Records the accepted bids of a batch; the leader's hold is replaced only if the lead or its maximum changed. */
async function writeBatch(
  trx: Tx,
  lot: LockedLot,
  accepted: Accepted[],
  book: AuctionBook,
  heldNow: { bidderId: string; amount: number } | null,
) {
  const leader = book.leader!;
  const holdChanges = !heldNow || heldNow.bidderId !== leader.bidderId || heldNow.amount !== leader.maxAmount;
  const releaseHoldId = holdChanges && heldNow ? lot.leader_hold_id : null;
  const placeAmount = holdChanges ? leader.maxAmount : 0;
  const col = <T>(f: (a: Accepted) => T) => accepted.map(f);
  const bindings = [
    lot.id,
    // The instant the bids were judged at (against the end), not the later moment of the insert.
    Number(lot.now_ms),
    col((a) => a.req.bidderId),
    col((a) => a.req.clientBidId),
    col((a) => a.req.kind),
    col((a) => a.amount),
    col((a) => a.maxAmount),
    col((a) => a.book.seq),
    col((a) => a.book.price),
    col((a) => a.book.leader!.bidderId),
    col((a) => a.book.endsAt),
    releaseHoldId,
    accounts.userWallet(leader.bidderId),
    placeAmount,
    placeAmount,
    auctionKeys.bidHold(lot.id, book.seq),
    lot.id,
    placeAmount,
    JSON.stringify(book),
    book.price,
    leader.bidderId,
    book.bidCount,
    book.status,
    book.endsAt,
    book.status,
    holdChanges,
    lot.id,
  ];
  // knex's binding type does not describe arrays holding nulls, which node-postgres sends as SQL arrays.
  const { rows } = await trx.raw(BATCH_WRITE, bindings as unknown as Knex.RawBinding[]);
  const r = rows[0];
  if (holdChanges && Number(r.placed) !== 1) throw new RangeError(`hold for ${leader.bidderId} on lot ${lot.id} was not placed`);
  const released = ((r.released ?? []) as Array<{ account_id: string; amount: number }>).map((x) => ({
    bidderId: x.account_id.replace(/^user:/, '').replace(/:wallet$/, ''),
    amount: Number(x.amount),
  }));
  return { bids: (r.bids as StoredBid[]).map(parseBid), row: parseLot(r.lot), released };
}

type Decided = ReturnType<typeof decideBatch>;

/** Each request's answer once the batch's accepted bids are stored as `bids` and the lot as `row`. */
function answersOf(decided: Decided, bids: StoredBid[], row: LotRow): BidAnswer[] {
  return decided.answers.map((a): BidAnswer => {
    if ('accepted' in a) {
      const acc = decided.accepted[a.accepted];
      return { ok: { replayed: false, bid: bids[a.accepted], row, outbid: acc.outbid, extended: acc.extended } };
    }
    if ('replayOf' in a) return { ok: { replayed: true, bid: parseBid(a.replayOf), row, outbid: null, extended: false } };
    if ('sameAs' in a) {
      const first = decided.accepted.findIndex((x) => x.index === a.sameAs);
      return { ok: { replayed: true, bid: bids[first], row, outbid: null, extended: false } };
    }
    return a;
  });
}

// row_to_json gives ISO strings; bring them back to what the pool would return.
const parseBid = (b: StoredBid): StoredBid => ({ ...b, placed_at: new Date(b.placed_at), ends_at_after: new Date(b.ends_at_after) });
const parseLot = (l: LotRow): LotRow => ({
  ...l,
  ends_at: l.ends_at && new Date(l.ends_at),
  opened_at: l.opened_at && new Date(l.opened_at),
  closed_at: l.closed_at && new Date(l.closed_at),
  starts_at: l.starts_at && new Date(l.starts_at),
  created_at: new Date(l.created_at),
});

/**
 * Decides and records a batch of bids (and buy-nows) on one lot in one transaction. A batch whose
 * write fails on the overdraft check (a wallet spent elsewhere between the read and the write) is
 * rolled back whole; the caller retries its bids one by one, where that check answers only the bid
 * it concerns.
 */
export async function recordBids(db: Db, lotId: string, reqs: BidRequest[]): Promise<BatchResult> {
  try {
    return await db.transaction(async (trx) => {
      const lot = await lockLot(trx, lotId);
      if (!lot)
        return {
          answers: reqs.map(() => ({ refused: rejection('not_found', 'lot_not_found', `lot ${lotId} not found`) })),
          row: null,
          released: [],
        };
      if (!lot.book)
        return { answers: reqs.map(() => ({ refused: refusalFor(lot, { status: 'closed' } as AuctionBook)! })), row: null, released: [] };
      const [funds, earlier] = await Promise.all([
        availableFunds(trx, [...new Set(reqs.map((r) => r.bidderId))]),
        earlierBids(trx, lotId, reqs),
      ]);
      const decided = decideBatch(lot, reqs, funds, earlier);
      const written = decided.accepted.length > 0 ? await writeBatch(trx, lot, decided.accepted, decided.book, decided.heldNow) : null;
      return {
        answers: answersOf(decided, written?.bids ?? [], written?.row ?? lot),
        row: written?.row ?? null,
        released: written?.released ?? [],
      };
    });
  } catch (err) {
    if (!isCheckViolation(err, 'no_overdraft')) throw err;
    if (reqs.length === 1)
      return {
        answers: [{ refused: rejection('conflict', 'insufficient_funds', 'the wallet cannot cover this bid') }],
        row: null,
        released: [],
      };
    const one = [];
    for (const req of reqs) one.push(await recordBids(db, lotId, [req]));
    const last = [...one].reverse().find((r) => r.row !== null);
    return { answers: one.map((r) => r.answers[0]), row: last?.row ?? null, released: one.flatMap((r) => r.released) };
  }
}

// --- decided in memory, fenced in the database -----------------------------------------------------

/**
 * What one API instance knows of a hot lot, to decide its bids without a transaction round trip
 * per step: the lot as stored at `row.version` (its book), every bid ever accepted on it (for
 * replays of a client bid id) and the bidders' available funds as last read. It is only ever a
 * cache: commit_auction_bids refuses a batch decided against any other version of the lot (a close,
 * a sale, another instance's bids), after the lot's end by the database's clock, or with a bidder
 * no longer funded, and the batch is decided again against the lot as it is.
 */
export interface LotMemory {
  row: LotRow;
  bids: Map<string, StoredBid>;
  funds: Map<string, number>;
  /** The database clock less this process's, measured when the lot was loaded. */
  clockOffsetMs: number;
}

/**
 * The lot, its bids and the database clock in one snapshot; null when the lot is not open for
 * bids. Given what this instance knew before (`stale`: another writer moved the lot since), only
 * the bids after those it has are read — bids are only ever appended, in seq order — and its
 * funds figures are kept (commit_auction_bids checks them again).
 */
export async function loadLotMemory(db: Db, lotId: string, stale: LotMemory | null = null): Promise<LotMemory | null> {
  const after = stale?.row.book?.seq ?? 0;
  const { rows } = await db.raw(
    `SELECT to_jsonb(l) AS lot, (extract(epoch FROM clock_timestamp()) * 1000)::bigint AS now_ms,
            coalesce((SELECT jsonb_agg(to_jsonb(b)) FROM auction_bids b WHERE b.lot_id = l.id AND b.seq > ?), '[]'::jsonb) AS bids
     FROM auction_lots l WHERE l.id = ?`,
    [after, lotId],
  );
  if (rows.length === 0) return null;
  const row = parseLot(rows[0].lot);
  if (row.status !== 'open' || !row.book) return null;
  const bids = stale?.bids ?? new Map<string, StoredBid>();
  for (const b of rows[0].bids as StoredBid[]) bids.set(idOf(b.bidder_id, b.client_bid_id), parseBid(b));
  return { row, bids, funds: stale?.funds ?? new Map(), clockOffsetMs: Number(rows[0].now_ms) - Date.now() };
}

type Commit =
  | { ok: true; bids: StoredBid[]; lot: LotRow; released: Array<{ account_id: string; amount: number }>; available: Record<string, number> }
  | { ok: false; reason: 'stale' | 'late'; nowMs: number }
  | { ok: false; reason: 'funds'; funds: Record<string, number>; nowMs: number };

async function commitDecided(db: Db, mem: LotMemory, decided: Decided, at: number): Promise<Commit> {
  const { accepted, book, heldNow } = decided;
  const leader = book.leader!;
  const holdChanges = !heldNow || heldNow.bidderId !== leader.bidderId || heldNow.amount !== leader.maxAmount;
  const required = new Map<string, number>();
  for (const a of accepted) {
    const wallet = accounts.userWallet(a.req.bidderId);
    const need = a.maxAmount - (heldNow?.bidderId === a.req.bidderId ? heldNow.amount : 0);
    required.set(wallet, Math.max(required.get(wallet) ?? -Infinity, need));
  }
  const payload = {
    lotId: mem.row.id,
    version: mem.row.version,
    at,
    bids: accepted.map((a) => ({
      bidder: a.req.bidderId,
      cid: a.req.clientBidId,
      kind: a.req.kind,
      amount: a.amount,
      max_amount: a.maxAmount,
      seq: a.book.seq,
      price: a.book.price,
      leader: a.book.leader!.bidderId,
      ends_at: a.book.endsAt,
    })),
    funds: [...required].map(([wallet, need]) => ({ wallet, required: need })),
    hold: {
      changes: holdChanges,
      wallet: accounts.userWallet(leader.bidderId),
      amount: leader.maxAmount,
      key: auctionKeys.bidHold(mem.row.id, book.seq),
    },
    lot: { book, price: book.price, leader: leader.bidderId, bid_count: book.bidCount, status: book.status, ends_at: book.endsAt },
  };
  const { rows } = await db.raw(`SELECT commit_auction_bids(?::jsonb) AS r`, [JSON.stringify(payload)]);
  return rows[0].r as Commit;
}

/** The lot's version and status as committed (no lock): whether a batch of refusals was decided against the lot as it is. */
async function storedVersion(db: Db, lotId: string): Promise<number | null> {
  const row = await db('auction_lots').where({ id: lotId }).first('version', 'status');
  return row && row.status === 'open' ? row.version : null;
}

/** Tries to decide and commit against memory before falling back to the locked transaction. */
const MEMORY_ATTEMPTS = 4;

/**
 * Decides a batch against `mem` (loaded when null) and records it with one statement
 * (commit_auction_bids), which is also the fence; answers exactly what recordBids would, and
 * returns the memory to keep for the next batch (null: forget it). A batch whose memory is refused
 * is decided again against the lot as stored; after a few refusals, or on an error (an overdraft a
 * hold would cause on a wallet shard), the batch goes through recordBids' locked transaction.
 */
export async function recordBidsFromMemory(
  db: Db,
  lotId: string,
  reqs: BidRequest[],
  memory: LotMemory | null,
): Promise<{ result: BatchResult; memory: LotMemory | null }> {
  let mem = memory;
  let stale: LotMemory | null = null;
  let atFloor = -Infinity;
  try {
    for (let attempt = 0; attempt < MEMORY_ATTEMPTS; attempt++) {
      if (!mem || stale) mem = await loadLotMemory(db, lotId, stale);
      stale = null;
      if (!mem) break;
      const wallets = [...new Set(reqs.map((r) => accounts.userWallet(r.bidderId)))];
      const unknown = wallets.filter((w) => !mem!.funds.has(w));
      const refreshed = new Set<string>();
      const refresh = async (ws: string[]) => {
        const read = await availableFunds(db, ws.map(bidderOfWallet));
        for (const w of ws) {
          mem!.funds.set(w, read.get(w) ?? 0);
          refreshed.add(w);
        }
      };
      if (unknown.length > 0) await refresh(unknown);
      const at = Math.max(Date.now() + mem.clockOffsetMs, atFloor);
      let decided = decideBatch({ ...mem.row, now_ms: String(at) }, reqs, mem.funds, mem.bids);
      // Refused for funds on a figure read earlier (a top-up since?): read it again before refusing.
      const short = reqs
        .filter((r, i) => isInsufficient(decided.answers[i]) && !refreshed.has(accounts.userWallet(r.bidderId)))
        .map((r) => accounts.userWallet(r.bidderId));
      if (short.length > 0) {
        await refresh([...new Set(short)]);
        decided = decideBatch({ ...mem.row, now_ms: String(at) }, reqs, mem.funds, mem.bids);
      }
      if (decided.accepted.length === 0) {
        if ((await storedVersion(db, lotId)) === mem.row.version)
          return { result: { answers: answersOf(decided, [], mem.row), row: null, released: [] }, memory: mem };
        stale = mem;
        continue;
      }
      const r = await commitDecided(db, mem, decided, at);
      if (r.ok) {
        const bids = r.bids.map(parseBid);
        const row = parseLot(r.lot);
        for (const b of bids) mem.bids.set(idOf(b.bidder_id, b.client_bid_id), b);
        for (const [w, v] of Object.entries(r.available)) mem.funds.set(w, Number(v));
        mem.row = row;
        const released = r.released.map((x) => ({ bidderId: bidderOfWallet(x.account_id), amount: Number(x.amount) }));
        return {
          result: { answers: answersOf(decided, bids, row), row, released },
          memory: row.status === 'open' ? mem : null,
        };
      }
      if (r.reason === 'stale') stale = mem;
      else if (r.reason === 'late') atFloor = Number(r.nowMs);
      else if (r.reason === 'funds') for (const [w, v] of Object.entries(r.funds)) mem.funds.set(w, Number(v));
    }
  } catch {
    // Whatever failed, the locked transaction decides this batch (and says why, if it fails too).
  }
  return { result: await recordBids(db, lotId, reqs), memory: null };
}

const isInsufficient = (a: Decided['answers'][number]) => 'refused' in a && readRejection(a.refused)?.code === 'insufficient_funds';
const bidderOfWallet = (wallet: string) => wallet.replace(/^user:/, '').replace(/:wallet$/, '');
