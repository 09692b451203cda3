/**
 * Everything support needs about one customer, read in parallel for the console's Customer page
 * (GET /v1/ops/customers): the account, the wallet and its ledger, subscriptions with their
 * exceptions, orders with their timelines, market positions, auction bids and wins, and what
 * staff did. Each part reuses its flow's own reads; this module only gathers them.
 */
import { accounts } from '../domain/ledger/accounts';
import { DEFAULT_TIMEZONE } from '../domain/rules';
import { localDateOf, type ScheduleException } from '../domain/schedule';
import { bidsOfBidder, lotsWonBy, type LotRow, type StoredBid } from './auction-lots';
import { findUser, findUserByPhone, userRoles, type UserRow } from './identity';
import { balanceOn, getBalance, listEntries, type Balance, type LedgerEntryView } from './ledger-reports';
import type { Queryable } from './knex';
import { userPositions } from './market-queries';
import { listOrders, orderDetails, type OrderRow } from './orders';
import { loadSubscriptionExceptions } from './subscription-exceptions';
import { listCustomerSubscriptions, type SubscriptionRow } from './subscriptions';

export interface AuditRow {
  id: number;
  actor: string;
  roles: string[];
  action: string;
  targetType: string;
  targetId: string;
  details: Record<string, unknown>;
  createdAt: Date;
}

export interface Customer360 {
  userId: string;
  user: UserRow | null;
  roles: string[];
  wallet: Balance & { entries: LedgerEntryView[]; balanceOn: BalanceOnDate | null };
  subscriptions: Array<{ row: SubscriptionRow; exceptions: ScheduleException[] }>;
  orders: Array<{ row: OrderRow; events: OrderRow[] }>;
  positions: Array<NonNullable<Awaited<ReturnType<typeof userPositions>>> & { marketId: string; question: string; status: string }>;
  bids: Array<StoredBid & { lot: LotRow }>;
  wins: LotRow[];
  audit: AuditRow[];
}

/**
 * The wallet at the end of a date (in the platform's timezone): the nightly snapshot when there is
 * one, else summed from the journal up to the end of that day; null for a date still to come.
 */
export interface BalanceOnDate {
  date: string;
  balance: number | null;
  source: 'snapshot' | 'journal' | null;
}

export async function walletBalanceOn(q: Queryable, account: string, date: string, nowMs = Date.now()): Promise<BalanceOnDate> {
  if (date > localDateOf(nowMs, DEFAULT_TIMEZONE)) return { date, balance: null, source: null };
  const snapshot = await balanceOn(q, account, date);
  if (snapshot !== null) return { date, balance: Number(snapshot), source: 'snapshot' };
  const { rows } = await q.raw<{ rows: Array<{ balance: string }> }>(
    `SELECT coalesce(sum(l.amount), 0)::bigint AS balance
     FROM journal_lines l JOIN journal j ON j.id = l.journal_id
     WHERE l.account_id = ? AND j.created_at < ((?::date + 1)::timestamp AT TIME ZONE ?)`,
    [account, date, DEFAULT_TIMEZONE],
  );
  return { date, balance: Number(rows[0].balance), source: 'journal' };
}

const LIMITS = { entries: 50, subscriptions: 20, orders: 20, markets: 20, bids: 20, wins: 20, audit: 50 } as const;

/** The user id a phone (E.164) belongs to now, or undefined. */
export async function userIdForPhone(q: Queryable, phone: string): Promise<string | undefined> {
  return (await findUserByPhone(q, phone))?.id;
}

async function marketPositions(q: Queryable, userId: string): Promise<Customer360['positions']> {
  const markets: Array<{ id: string; question: string; status: string }> = await q('market_positions as p')
    .join('markets as m', 'm.id', 'p.market_id')
    .where('p.user_id', userId)
    .groupBy('m.id')
    .orderBy('m.created_at', 'desc')
    .limit(LIMITS.markets)
    .select('m.id', 'm.question', 'm.status', 'm.created_at');
  const views = await Promise.all(markets.map((m) => userPositions(q, m.id, userId)));
  return markets.flatMap((m, i) => {
    const v = views[i];
    return v ? [{ ...v, marketId: m.id, question: m.question, status: m.status }] : [];
  });
}

/** Staff actions on the customer or on anything of theirs, newest first. */
async function auditTrail(q: Queryable, targetIds: string[]): Promise<AuditRow[]> {
  const rows = await q('audit_log').whereIn('target_id', targetIds).orderBy('created_at', 'desc').orderBy('id', 'desc').limit(LIMITS.audit);
  return rows.map((r) => ({
    id: Number(r.id),
    actor: r.actor,
    roles: r.roles,
    action: r.action,
    targetType: r.target_type,
    targetId: r.target_id,
    details: r.details ?? {},
    createdAt: new Date(r.created_at),
  }));
}

/** The customer 360 of one user id (which need not have logged in: dev tokens and imports have no users row). */
export async function customer360(q: Queryable, userId: string, opts: { balanceOn?: string } = {}): Promise<Customer360> {
  const wallet = accounts.userWallet(userId);
  const [user, roles, balance, ledger, onDate, subscriptionRows, orderRows, positions, bids, wins] = await Promise.all([
    findUser(q, userId),
    userRoles(q, userId),
    getBalance(q, wallet),
    listEntries(q, wallet, { limit: LIMITS.entries }),
    opts.balanceOn ? walletBalanceOn(q, wallet, opts.balanceOn) : Promise.resolve(null),
    listCustomerSubscriptions(q, userId, LIMITS.subscriptions),
    listOrders(q, { buyerId: userId, userId, limit: LIMITS.orders }),
    marketPositions(q, userId),
    bidsOfBidder(q, userId, LIMITS.bids),
    lotsWonBy(q, userId, LIMITS.wins),
  ]);
  const [exceptions, details] = await Promise.all([
    Promise.all(subscriptionRows.map((s) => loadSubscriptionExceptions(q, s.id))),
    orderRows.length
      ? orderDetails(
          q,
          orderRows.map((o) => o.id),
        )
      : Promise.resolve({ lines: [], events: [] }),
  ]);
  const targets = [
    userId,
    ...subscriptionRows.flatMap((s) => [s.id, `subscription-${s.id}`]),
    ...orderRows.flatMap((o) => [o.id, `checkout-${o.id}`]),
  ];
  const audit = await auditTrail(q, targets);
  return {
    userId,
    user: user ?? null,
    roles,
    wallet: { ...balance, entries: ledger.entries, balanceOn: onDate },
    subscriptions: subscriptionRows.map((row, i) => ({ row, exceptions: exceptions[i] })),
    orders: orderRows.map((row) => ({ row, events: details.events.filter((e) => e.order_id === row.id) })),
    positions,
    bids,
    wins,
    audit,
  };
}
