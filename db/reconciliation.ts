/**
 * The reconciliation list: everything that needs a human, from the tables each flow keeps, as one
 * keyset-paged list (oldest first: the longest-waiting item is the most urgent) with counts per
 * kind. Each source is read through a partial index on exactly what it lists
 * (migrations/20261206000100_reconciliation.ts).
 */
import type { Drift } from './ledger-reports';
import type { Queryable } from './knex';

export const RECONCILIATION_KINDS = [
  'ledger_drift',
  'checkout_stuck',
  'payout_unsettled',
  'subscription_dunning',
  'market_unresolved',
  'market_settlement_unfinished',
  'topup_unconfirmed',
  'flow_stuck',
] as const;
export type ReconciliationKind = (typeof RECONCILIATION_KINDS)[number];

/**
 * How long a flow may be in a normal in-between state before a human should look: a payout the
 * bank has not answered, a top-up the provider has not confirmed, a resolved market not yet paid
 * out. An outcome the bank called `unknown` is listed at once.
 */
export const GRACE = { payoutInFlight: '10 minutes', topupUnconfirmed: '15 minutes', settlement: '10 minutes' } as const;

export interface ReconciliationItem {
  kind: ReconciliationKind;
  /** What the item is about: a workflow id, a payout, subscription or market id, or a drift finding id. */
  ref: string;
  workflowId: string | null;
  reason: string;
  since: Date;
  /** Paise involved, when the item has an amount. */
  amount: number | null;
  /** Who it concerns, for links to the Customer and Seller pages. */
  customerId: string | null;
  sellerId: string | null;
  details: Record<string, unknown>;
}

export interface ReconciliationFilter {
  kinds?: readonly ReconciliationKind[];
  /** Only items waiting at least this many seconds. */
  olderThanSeconds?: number;
  minAmount?: number;
  maxAmount?: number;
}

/** Keyset position: the last item of the previous page (since in microseconds, kind, ref). */
export interface ReconciliationCursor {
  sinceUs: string;
  kind: string;
  ref: string;
}

/**
 * The market workflow's steps that pay holders out or refund them, and close the market after
 * (workflows/market/process.ts): a market parked on one is a settlement or void not finished.
 */
const MARKET_PAYING_STEPS = `'settle', 'refund', 'finish'`;
const OPEN_PAYING_ALERT = (market: string) =>
  `SELECT 1 FROM flow_alerts a WHERE a.workflow_id = 'market-' || ${market}.id AND a.resolved_at IS NULL AND a.flow_type = 'market'
     AND a.step IN (${MARKET_PAYING_STEPS})`;

/** One SELECT per kind, all with the same columns. */
const SOURCES: Record<ReconciliationKind, string> = {
  ledger_drift: `
    SELECT 'ledger_drift'::text AS kind, d.id::text AS ref, NULL::text AS workflow_id,
      format('%s of %s (shard %s): stored %s, derived from the journal %s', d.kind, d.account_id, d.shard, d.stored, d.derived) AS reason,
      d.found_at AS since, abs(d.stored - d.derived) AS amount, NULL::text AS customer_id, NULL::text AS seller_id,
      jsonb_build_object('account', d.account_id, 'shard', d.shard, 'balanceKind', d.kind, 'stored', d.stored, 'derived', d.derived,
        'checkedAt', d.checked_at) AS details
    FROM ledger_drift_findings d WHERE d.resolved_at IS NULL`,
  checkout_stuck: `
    SELECT 'checkout_stuck', a.workflow_id, a.workflow_id, format('Stuck on step %s: %s', a.step, a.reason),
      a.raised_at, o.total, o.buyer_id, o.seller_id,
      jsonb_build_object('alertId', a.id, 'step', a.step, 'code', a.code, 'orderId', o.id, 'orderStatus', o.status)
    FROM flow_alerts a LEFT JOIN orders o ON a.workflow_id = 'checkout-' || o.id
    WHERE a.resolved_at IS NULL AND a.flow_type = 'checkout'`,
  flow_stuck: `
    SELECT 'flow_stuck', a.workflow_id, a.workflow_id, format('Stuck on step %s: %s', a.step, a.reason),
      a.raised_at, NULL::bigint, NULL, NULL,
      jsonb_build_object('alertId', a.id, 'flowType', a.flow_type, 'step', a.step, 'code', a.code)
    FROM flow_alerts a WHERE a.resolved_at IS NULL AND a.flow_type <> 'checkout'
      AND NOT (a.flow_type = 'market' AND a.step IN (${MARKET_PAYING_STEPS}))`,
  // In flight: the bank has not said (or said unknown). Failed: the money went back to the payable,
  // and it stays listed until the seller is paid out again (a later payout exists).
  payout_unsettled: `
    SELECT 'payout_unsettled', p.id, 'payout-' || p.id,
      CASE WHEN p.status = 'failed' THEN format('Payout failed: %s %s', coalesce(p.failure_code, ''), coalesce(p.failure_message, ''))
           ELSE format('Bank outcome %s', coalesce(p.provider_state, 'not reported yet')) END,
      p.updated_at, p.amount, NULL, p.seller_id,
      jsonb_build_object('status', p.status, 'providerState', p.provider_state, 'providerPayoutId', p.provider_payout_id,
        'failureCode', p.failure_code)
    FROM payouts p
    WHERE (p.status = 'in_flight' AND (p.provider_state = 'unknown' OR p.updated_at < now() - interval '${GRACE.payoutInFlight}'))
       OR (p.status = 'failed' AND NOT EXISTS (SELECT 1 FROM payouts l WHERE l.seller_id = p.seller_id AND l.created_at > p.created_at))`,
  subscription_dunning: `
    SELECT 'subscription_dunning', s.id, 'subscription-' || s.id,
      format('Billing %s%s', s.billing_state, coalesce(': ' || s.billing_reason, '')),
      s.updated_at, s.price_per_period, s.customer_id, NULL,
      jsonb_build_object('billingState', s.billing_state, 'paymentMethod', s.payment_method, 'nextRenewalDate', s.next_renewal_date)
    FROM subscriptions s WHERE s.status = 'active' AND s.billing_state IN ('retrying', 'payment_failed')`,
  market_unresolved: `
    SELECT 'market_unresolved', m.id, 'market-' || m.id, format('Closed without a result: %s', m.question),
      m.closed_at, NULL::bigint, NULL, NULL,
      jsonb_build_object('question', m.question, 'closesAt', m.closes_at, 'deadlineSeconds', m.resolution_deadline_seconds)
    FROM markets m
    WHERE m.status = 'closed' AND m.closed_at + m.resolution_deadline_seconds * interval '1 second' < now()`,
  // A resolved market not paid out in time, a void not finished in time, and a market whose
  // settlement or void parked on a step that moves the money (listed here, not as flow_stuck: retrying the step re-runs the paying out).
  market_settlement_unfinished: `
    SELECT 'market_settlement_unfinished', m.id, 'market-' || m.id, format('Resolved %s, not yet settled: %s', m.outcome, m.question),
      m.resolved_at, NULL::bigint, NULL, NULL,
      jsonb_build_object('question', m.question, 'outcome', m.outcome, 'source', m.resolution_source)
    FROM markets m
    WHERE m.status = 'resolved' AND m.void_started_at IS NULL
      AND m.resolved_at + m.dispute_window_seconds * interval '1 second' + interval '${GRACE.settlement}' < now()
      AND NOT EXISTS (${OPEN_PAYING_ALERT('m')})
    UNION ALL
    SELECT 'market_settlement_unfinished', m.id, 'market-' || m.id, format('Void not finished: %s', m.question),
      m.void_started_at, NULL::bigint, NULL, NULL,
      jsonb_build_object('question', m.question, 'marketStatus', m.status)
    FROM markets m
    WHERE m.void_started_at < now() - interval '${GRACE.settlement}' AND m.status <> 'voided'
      AND NOT EXISTS (${OPEN_PAYING_ALERT('m')})
    UNION ALL
    SELECT 'market_settlement_unfinished', m.id, a.workflow_id,
      format('%s not finished, stuck on step %s: %s (%s)',
        CASE WHEN a.step = 'settle' OR (a.step = 'finish' AND m.outcome IS NOT NULL) THEN 'Settlement' ELSE 'Void' END,
        a.step, a.reason, m.question),
      a.raised_at, NULL::bigint, NULL, NULL,
      jsonb_build_object('alertId', a.id, 'step', a.step, 'code', a.code, 'question', m.question, 'outcome', m.outcome, 'marketStatus', m.status)
    FROM flow_alerts a JOIN markets m ON m.id = substr(a.workflow_id, length('market-') + 1)
    WHERE a.resolved_at IS NULL AND a.flow_type = 'market' AND a.step IN (${MARKET_PAYING_STEPS})`,
  topup_unconfirmed: `
    SELECT 'topup_unconfirmed', t.id, 'topup-' || t.id, format('Provider outcome not known (%s)', t.status),
      t.created_at, t.amount, t.user_id, NULL,
      jsonb_build_object('status', t.status, 'providerPaymentId', t.provider_payment_id, 'paymentMethod', t.payment_method)
    FROM topups t
    WHERE t.status IN ('pending', 'awaiting_confirmation') AND t.created_at < now() - interval '${GRACE.topupUnconfirmed}'`,
};

/** The columns every source yields, in order (the branches after the first are positional). */
const COLUMNS = 'kind, ref, workflow_id, reason, since, amount, customer_id, seller_id, details';

function itemsSql(kinds: readonly ReconciliationKind[]): string {
  return kinds.map((k) => `(${SOURCES[k]})`).join('\nUNION ALL\n');
}

/** The filters every query shares (age and amount); bindings in order. */
function where(f: ReconciliationFilter): { sql: string; bindings: Array<string | number> } {
  const parts: string[] = ['TRUE'];
  const bindings: Array<string | number> = [];
  if (f.olderThanSeconds !== undefined) {
    parts.push(`since < now() - ? * interval '1 second'`);
    bindings.push(f.olderThanSeconds);
  }
  if (f.minAmount !== undefined) {
    parts.push('amount >= ?');
    bindings.push(f.minAmount);
  }
  if (f.maxAmount !== undefined) {
    parts.push('amount <= ?');
    bindings.push(f.maxAmount);
  }
  return { sql: parts.join(' AND '), bindings };
}

interface ItemRow {
  kind: ReconciliationKind;
  ref: string;
  workflow_id: string | null;
  reason: string;
  since: Date;
  since_us: string;
  amount: number | null;
  customer_id: string | null;
  seller_id: string | null;
  details: Record<string, unknown>;
}

export interface ReconciliationPage {
  items: ReconciliationItem[];
  next: ReconciliationCursor | null;
}

/** One page, oldest first, after `cursor`. */
export async function listReconciliation(
  q: Queryable,
  f: ReconciliationFilter,
  page: { limit: number; cursor?: ReconciliationCursor },
): Promise<ReconciliationPage> {
  const kinds = f.kinds?.length ? f.kinds : RECONCILIATION_KINDS;
  const w = where(f);
  const after = page.cursor ? `AND (since_us, kind, ref) > (?::bigint, ?, ?)` : '';
  const afterBindings = page.cursor ? [page.cursor.sinceUs, page.cursor.kind, page.cursor.ref] : [];
  const { rows } = await q.raw<{ rows: ItemRow[] }>(
    `WITH items(${COLUMNS}) AS (${itemsSql(kinds)}),
     keyed AS (SELECT *, (extract(epoch FROM since) * 1000000)::bigint AS since_us FROM items)
     SELECT kind, ref, workflow_id, reason, since, since_us::text AS since_us, amount, customer_id, seller_id, details
     FROM keyed WHERE ${w.sql} ${after}
     ORDER BY since_us, kind, ref LIMIT ?`,
    [...w.bindings, ...afterBindings, page.limit + 1],
  );
  const items = rows.slice(0, page.limit).map((r) => ({
    kind: r.kind,
    ref: r.ref,
    workflowId: r.workflow_id,
    reason: r.reason,
    since: new Date(r.since),
    amount: r.amount === null ? null : Number(r.amount),
    customerId: r.customer_id,
    sellerId: r.seller_id,
    details: r.details,
  }));
  const last = rows[page.limit - 1];
  return { items, next: rows.length > page.limit ? { sinceUs: last.since_us, kind: last.kind, ref: last.ref } : null };
}

/** How many items of each kind match the age and amount filters (every kind, whatever `kinds` says). */
export async function countReconciliation(q: Queryable, f: ReconciliationFilter): Promise<Record<ReconciliationKind, number>> {
  const w = where(f);
  const { rows } = await q.raw<{ rows: Array<{ kind: ReconciliationKind; n: number }> }>(
    `WITH items(${COLUMNS}) AS (${itemsSql(RECONCILIATION_KINDS)})
     SELECT kind, count(*)::int AS n FROM items WHERE ${w.sql} GROUP BY kind`,
    w.bindings,
  );
  const counts = Object.fromEntries(RECONCILIATION_KINDS.map((k) => [k, 0])) as Record<ReconciliationKind, number>;
  for (const r of rows) counts[r.kind] = r.n;
  return counts;
}

/** One item, by kind and ref (null when it no longer needs a human). */
export async function findReconciliationItem(q: Queryable, kind: ReconciliationKind, ref: string): Promise<ReconciliationItem | null> {
  const { rows } = await q.raw<{ rows: ItemRow[] }>(`SELECT * FROM (${SOURCES[kind]}) AS item(${COLUMNS}) WHERE ref = ?`, [ref]);
  const r = rows[0];
  if (!r) return null;
  return {
    kind: r.kind,
    ref: r.ref,
    workflowId: r.workflow_id,
    reason: r.reason,
    since: new Date(r.since),
    amount: r.amount === null ? null : Number(r.amount),
    customerId: r.customer_id,
    sellerId: r.seller_id,
    details: r.details,
  };
}

/**
 * Records what a re-derivation of the balances found: a drift still there keeps its row (checked
 * again now), a new one opens a row, and an open row no longer drifting is closed. Returns how
 * many are open and how many were closed.
 */
export async function recordDriftFindings(q: Queryable, drift: readonly Drift[]): Promise<{ open: number; resolved: number }> {
  const { rows } = await q.raw<{ rows: Array<{ open: number; resolved: number }> }>(
    `WITH found AS (
       SELECT * FROM jsonb_to_recordset(?::jsonb) AS f(account text, shard int, kind text, stored bigint, derived bigint)
     ), closed AS (
       UPDATE ledger_drift_findings d SET resolved_at = now(), checked_at = now()
       WHERE d.resolved_at IS NULL
         AND NOT EXISTS (SELECT 1 FROM found f WHERE f.account = d.account_id AND f.shard = d.shard AND f.kind = d.kind)
       RETURNING 1
     ), upserted AS (
       INSERT INTO ledger_drift_findings (account_id, shard, kind, stored, derived)
       SELECT account, shard, kind, stored, derived FROM found
       ON CONFLICT (account_id, shard, kind) WHERE resolved_at IS NULL
       DO UPDATE SET stored = EXCLUDED.stored, derived = EXCLUDED.derived, checked_at = now()
       RETURNING 1
     )
     SELECT (SELECT count(*) FROM upserted)::int AS open, (SELECT count(*) FROM closed)::int AS resolved`,
    [JSON.stringify(drift)],
  );
  return rows[0];
}
