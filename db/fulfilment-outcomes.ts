/**
 * Recording outcomes: a report from a delivery person's phone (one, or a whole route's batch from
 * an offline sync) or an ops correction, applied in one transaction per call.
 *
 * The deliveries named are locked in key order, each report is decided by the pure rules
 * (domain/fulfilment/outcome.ts) against the state the previous reports of the batch left, and
 * then, once per delivery, the ledger is brought in line with the credit policy: a credit issued
 * when one is due and the delivery has none, the one it has reversed when none is due any more.
 * Every applied (or superseded) report joins the delivery's history. Each report is answered on
 * its own; a report that is refused changes nothing and does not stop the others.
 */
import {
  DELIVERY_REF_TYPE,
  MISSED_DELIVERY_CREDIT_REASON,
  MISSED_DELIVERY_CREDIT_REVERSAL_REASON,
  deliveryCreditKey,
  deliveryCreditReversalKey,
} from '../contracts/fulfilment';
import {
  DEFAULT_CREDIT_POLICY,
  causedByCustomer,
  creditAction,
  creditAmount,
  creditDue,
  dayBounds,
  decideOutcome,
  deliveryIdOf,
  parseDeliveryId,
  type CreditPolicy,
  type DeliveryStatus,
  type FailureReason,
  type OutcomeSource,
  type OutcomeState,
  type ReportedOutcome,
} from '../domain/fulfilment';
import { accounts, transfer, type JournalEntry } from '../domain/ledger';
import type { RejectionKind } from '../domain/rejection';
import type { Knex } from 'knex';
import { InsufficientFundsError } from './errors';
import { raiseDeliveryAlert, refreshClosedDays } from './fulfilment-day';
import type { Db, Tx } from './knex';
import { postJournals, reverseJournal } from './ledger';

export interface OutcomeInput {
  deliveryId: string;
  outcome: ReportedOutcome;
  reason: FailureReason | null;
  note: string | null;
  /** When it happened (epoch ms). Required from the field; an ops correction without one keeps the time already reported. */
  atMs: number | null;
}

export interface Reporter {
  userId: string;
  /** `staff`: the delivery person, limited to the areas they are assigned to; `ops`: a correction, any area. */
  source: 'staff' | 'ops';
}

export interface DeliveryOutcomeView {
  deliveryId: string;
  subscriptionId: string;
  date: string;
  areaId: string;
  status: DeliveryStatus;
  failureReason: FailureReason | null;
  outcomeAt: string | null;
  outcomeBy: string | null;
  source: OutcomeSource | null;
  /** Set by an ops correction: the field can no longer change it. */
  corrected: boolean;
  revision: number;
  /** The missed-delivery credit the delivery carries now. */
  credit: { amount: number; journalId: number } | null;
}

export type OutcomeResult = 'applied' | 'duplicate' | 'superseded' | 'rejected';

export interface OutcomeAnswer {
  deliveryId: string;
  result: OutcomeResult;
  error?: { kind: RejectionKind; code: string; message: string };
  /** The delivery after the whole call (absent when there is no such delivery for the reporter). */
  delivery?: DeliveryOutcomeView;
}

interface LockedRow {
  subscription_id: string;
  delivery_date: string;
  quantity: number;
  status: DeliveryStatus;
  failure_reason: FailureReason | null;
  outcome_at: Date | null;
  outcome_note: string | null;
  outcome_by: string | null;
  outcome_source: OutcomeSource | null;
  customer_caused: boolean | null;
  revision: number;
  credits_issued: number;
  credit_journal_id: number | null;
  credited_amount: number;
  region: string;
  customer_id: string;
  unit_price: number | null;
  timezone: string;
  credit_not_home: boolean | null;
  credit_no_access: boolean | null;
  assigned: boolean;
}

/** One delivery while the call works on it. */
interface Working {
  row: LockedRow;
  id: string;
  policy: CreditPolicy;
  state: OutcomeState;
  note: string | null;
  by: string | null;
  revision: number;
  touched: boolean;
}

interface HistoryEvent {
  subscriptionId: string;
  date: string;
  revision: number;
  status: ReportedOutcome;
  reason: FailureReason | null;
  note: string | null;
  atMs: number;
  result: 'applied' | 'superseded';
}

const key = (subscriptionId: string, date: string) => `${subscriptionId}\u0000${date}`;

async function lockDeliveries(trx: Tx, keys: { subscriptionId: string; date: string }[], userId: string): Promise<LockedRow[]> {
  const { rows } = await trx.raw(
    `SELECT d.subscription_id, d.delivery_date::text AS delivery_date, d.quantity, d.status, d.failure_reason, d.outcome_at, d.outcome_note,
            d.outcome_by, d.outcome_source, d.customer_caused, d.revision, d.credits_issued, d.credit_journal_id, d.credited_amount,
            s.region, s.customer_id, s.unit_price, COALESCE(a.timezone, s.timezone) AS timezone, a.credit_not_home, a.credit_no_access,
            (st.user_id IS NOT NULL) AS assigned
       FROM unnest(?::text[], ?::date[]) AS k(subscription_id, delivery_date)
       JOIN deliveries d ON d.subscription_id = k.subscription_id AND d.delivery_date = k.delivery_date
       JOIN subscriptions s ON s.id = d.subscription_id
       LEFT JOIN delivery_areas a ON a.id = s.region
       LEFT JOIN delivery_area_staff st ON st.area_id = s.region AND st.user_id = ?
      ORDER BY d.subscription_id, d.delivery_date
        FOR UPDATE OF d`,
    [keys.map((k) => k.subscriptionId), keys.map((k) => k.date), userId],
  );
  return rows;
}

function working(row: LockedRow): Working {
  const policy: CreditPolicy =
    row.credit_not_home === null
      ? DEFAULT_CREDIT_POLICY
      : { creditNotHome: row.credit_not_home, creditNoAccess: row.credit_no_access ?? DEFAULT_CREDIT_POLICY.creditNoAccess };
  return {
    row,
    id: deliveryIdOf(row.subscription_id, row.delivery_date),
    policy,
    state: {
      status: row.status,
      reason: row.failure_reason,
      atMs: row.outcome_at ? new Date(row.outcome_at).getTime() : null,
      source: row.outcome_source,
    },
    note: row.outcome_note,
    by: row.outcome_by,
    revision: row.revision,
    touched: false,
  };
}

/** An ops correction without a time keeps the reported one, else says "now" (or the day's last instant, for a past day). */
function correctionTime(w: Working, nowMs: number): number {
  if (w.state.atMs !== null) return w.state.atMs;
  const { startMs, endMs } = dayBounds(w.row.delivery_date, w.row.timezone);
  return Math.min(Math.max(nowMs, startMs), endMs - 1);
}

const NOT_FOUND = { kind: 'not_found' as const, code: 'delivery_not_found', message: 'No such delivery on your routes' };

/** Decides every report against the locked deliveries; returns the answers (without views) and the history to store. */
function decideAll(inputs: OutcomeInput[], byKey: Map<string, Working>, reporter: Reporter, nowMs: number) {
  const answers: { answer: OutcomeAnswer; w?: Working }[] = [];
  const events: HistoryEvent[] = [];
  for (const input of inputs) {
    const parsed = parseDeliveryId(input.deliveryId);
    const w = parsed ? byKey.get(key(parsed.subscriptionId, parsed.date)) : undefined;
    if (!w || (reporter.source === 'staff' && !w.row.assigned)) {
      answers.push({ answer: { deliveryId: input.deliveryId, result: 'rejected', error: NOT_FOUND } });
      continue;
    }
    const atMs = input.atMs ?? (reporter.source === 'ops' ? correctionTime(w, nowMs) : NaN);
    const report = { outcome: input.outcome, reason: input.reason, atMs, source: reporter.source };
    const decision = decideOutcome(w.state, report, { date: w.row.delivery_date, timezone: w.row.timezone }, nowMs);
    if (decision.result === 'rejected') {
      const error = { kind: decision.kind, code: decision.code, message: decision.message };
      answers.push({ answer: { deliveryId: w.id, result: 'rejected', error }, w });
      continue;
    }
    if (decision.result === 'applied') {
      w.state = decision.next;
      w.note = input.note;
      w.by = reporter.userId;
      w.revision += 1;
      w.touched = true;
    }
    if (decision.result !== 'duplicate') {
      events.push({
        subscriptionId: w.row.subscription_id,
        date: w.row.delivery_date,
        revision: w.revision,
        status: input.outcome,
        reason: input.reason,
        note: input.note,
        atMs,
        result: decision.result,
      });
      w.touched = true;
    }
    answers.push({ answer: { deliveryId: w.id, result: decision.result }, w });
  }
  return { answers, events };
}

interface CreditState {
  creditsIssued: number;
  journalId: number | null;
  amount: number;
  /** The key of a credit posted by this call: its journal id is read back when the delivery is stored. */
  newKey?: string;
}

/** Brings each touched delivery's credit in line with the policy; returns the credit state to store per delivery. */
async function settleCredits(trx: Tx, touched: Working[], reporter: Reporter): Promise<Map<Working, CreditState>> {
  const out = new Map<Working, CreditState>();
  const issues: { w: Working; entry: JournalEntry; amount: number }[] = [];
  const actor = `${reporter.source}:${reporter.userId}`;
  for (const w of touched) {
    const credit: CreditState = { creditsIssued: w.row.credits_issued, journalId: w.row.credit_journal_id, amount: w.row.credited_amount };
    out.set(w, credit);
    const action = creditAction(credit.journalId !== null, creditDue(w.state, w.policy));
    if (action === 'issue') {
      if (w.row.unit_price === null) {
        await raiseDeliveryAlert(trx, {
          kind: 'credit_unpriced',
          areaId: w.row.region,
          date: w.row.delivery_date,
          subject: w.id,
          message: `Delivery ${w.id} failed (${w.state.reason}) and is owed a credit, but its subscription has no unit price: credit it by hand`,
        });
        continue;
      }
      const amount = creditAmount(w.row.quantity, w.row.unit_price);
      const n = credit.creditsIssued + 1;
      issues.push({
        w,
        amount,
        entry: {
          idempotencyKey: deliveryCreditKey(w.id, n),
          reason: MISSED_DELIVERY_CREDIT_REASON,
          refType: DELIVERY_REF_TYPE,
          refId: w.id,
          actor,
          metadata: { failureReason: w.state.reason, quantity: w.row.quantity, unitPrice: w.row.unit_price },
          lines: transfer(accounts.platformRevenue, accounts.userWallet(w.row.customer_id), amount),
        },
      });
    } else if (action === 'reverse') {
      await reverseCredit(trx, w, credit, actor);
    }
  }
  if (issues.length > 0) {
    await postJournals(
      trx,
      issues.map((i) => i.entry),
    );
    for (const i of issues) {
      const credit = out.get(i.w)!;
      credit.creditsIssued += 1;
      credit.newKey = i.entry.idempotencyKey;
      credit.amount = i.amount;
    }
  }
  return out;
}

/**
 * Reverses a delivery's credit. The customer may have spent it: the wallet cannot go negative, so
 * the credit then stays, and ops are alerted to settle it with the customer — the outcome itself
 * is still recorded (a savepoint keeps the failed reversal from undoing the rest).
 */
async function reverseCredit(trx: Tx, w: Working, credit: CreditState, actor: string): Promise<void> {
  try {
    await trx.transaction((sp) =>
      reverseJournal(sp, credit.journalId!, {
        idempotencyKey: deliveryCreditReversalKey(w.id, credit.creditsIssued),
        reason: MISSED_DELIVERY_CREDIT_REVERSAL_REASON,
        actor,
      }),
    );
    credit.journalId = null;
    credit.amount = 0;
  } catch (err) {
    if (!(err instanceof InsufficientFundsError)) throw err;
    await raiseDeliveryAlert(trx, {
      kind: 'credit_reversal_failed',
      areaId: w.row.region,
      date: w.row.delivery_date,
      subject: w.id,
      message: `Delivery ${w.id} is now ${w.state.status}, but its credit of ${credit.amount} paise could not be taken back: the wallet no longer holds it`,
    });
  }
}

/**
 * Stores the deliveries' new state and their history in one statement; a credit posted by this
 * call is linked by its key (its journal id is read back into `credits`).
 */
async function storeDeliveries(
  trx: Tx,
  touched: Working[],
  credits: Map<Working, CreditState>,
  events: HistoryEvent[],
  reporter: Reporter,
): Promise<void> {
  const col = <T>(f: (w: Working) => T) => touched.map(f);
  const ev = <T>(f: (e: HistoryEvent) => T) => events.map(f);
  const { rows } = await trx.raw(
    `WITH stored AS (
       UPDATE deliveries d SET status = u.status, failure_reason = u.failure_reason, outcome_at = u.outcome_at, outcome_note = u.note,
              outcome_by = u.outcome_by, outcome_source = u.source, customer_caused = u.customer_caused, revision = u.revision,
              credits_issued = u.credits_issued, credited_amount = u.credited_amount,
              credit_journal_id = COALESCE((SELECT j.id FROM journal j WHERE j.idempotency_key = u.credit_key), u.credit_journal_id)
         FROM unnest(?::text[], ?::date[], ?::text[], ?::text[], ?::timestamptz[], ?::text[], ?::text[], ?::text[], ?::boolean[],
                     ?::int[], ?::int[], ?::bigint[], ?::bigint[], ?::text[])
           AS u(subscription_id, delivery_date, status, failure_reason, outcome_at, note, outcome_by, source, customer_caused, revision,
                credits_issued, credit_journal_id, credited_amount, credit_key)
        WHERE d.subscription_id = u.subscription_id AND d.delivery_date = u.delivery_date
        RETURNING d.subscription_id, d.delivery_date::text AS delivery_date, d.credit_journal_id
     ), history AS (
       INSERT INTO delivery_outcomes
         (subscription_id, delivery_date, revision, status, failure_reason, note, occurred_at, result, source, reported_by)
       SELECT h.*, ?, ?
         FROM unnest(?::text[], ?::date[], ?::int[], ?::text[], ?::text[], ?::text[], ?::timestamptz[], ?::text[]) AS h
     )
     SELECT * FROM stored`,
    <Knex.RawBinding[]>[
      col((w) => w.row.subscription_id),
      col((w) => w.row.delivery_date),
      col((w) => w.state.status),
      col((w) => w.state.reason),
      col((w) => (w.state.atMs === null ? null : new Date(w.state.atMs).toISOString())),
      col((w) => w.note),
      col((w) => w.by),
      col((w) => w.state.source),
      col((w) => (w.state.status === 'failed' && w.state.reason !== null ? causedByCustomer(w.state.reason, w.policy) : null)),
      col((w) => w.revision),
      col((w) => credits.get(w)!.creditsIssued),
      col((w) => credits.get(w)!.journalId),
      col((w) => credits.get(w)!.amount),
      col((w) => credits.get(w)!.newKey ?? null),
      reporter.source,
      reporter.userId,
      ev((e) => e.subscriptionId),
      ev((e) => e.date),
      ev((e) => e.revision),
      ev((e) => e.status),
      ev((e) => e.reason),
      ev((e) => e.note),
      ev((e) => new Date(e.atMs).toISOString()),
      ev((e) => e.result),
    ],
  );
  const journalIds = new Map<string, number | null>(
    rows.map((r: { subscription_id: string; delivery_date: string; credit_journal_id: number | null }) => [
      key(r.subscription_id, r.delivery_date),
      r.credit_journal_id,
    ]),
  );
  for (const w of touched) credits.get(w)!.journalId = journalIds.get(key(w.row.subscription_id, w.row.delivery_date)) ?? null;
}

function viewOf(w: Working, credit: CreditState | undefined): DeliveryOutcomeView {
  const c = credit ?? { journalId: w.row.credit_journal_id, amount: w.row.credited_amount };
  return {
    deliveryId: w.id,
    subscriptionId: w.row.subscription_id,
    date: w.row.delivery_date,
    areaId: w.row.region,
    status: w.state.status,
    failureReason: w.state.reason,
    outcomeAt: w.state.atMs === null ? null : new Date(w.state.atMs).toISOString(),
    outcomeBy: w.by,
    source: w.state.source,
    corrected: w.state.source === 'ops',
    revision: w.revision,
    credit: c.journalId === null ? null : { amount: c.amount, journalId: c.journalId },
  };
}

/** Records reports (see the module comment); one answer per input, in input order. */
export async function recordOutcomes(db: Db, reporter: Reporter, inputs: OutcomeInput[], nowMs: number): Promise<OutcomeAnswer[]> {
  const keys = new Map<string, { subscriptionId: string; date: string }>();
  for (const i of inputs) {
    const p = parseDeliveryId(i.deliveryId);
    if (p) keys.set(key(p.subscriptionId, p.date), p);
  }
  const sorted = [...keys.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, k]) => k);
  return db.transaction(async (trx) => {
    const locked = sorted.length > 0 ? await lockDeliveries(trx, sorted, reporter.userId) : [];
    const byKey = new Map(locked.map((r) => [key(r.subscription_id, r.delivery_date), working(r)]));
    const { answers, events } = decideAll(inputs, byKey, reporter, nowMs);
    const touched = [...byKey.values()].filter((w) => w.touched);
    let credits = new Map<Working, CreditState>();
    if (touched.length > 0) {
      credits = await settleCredits(trx, touched, reporter);
      await storeDeliveries(trx, touched, credits, events, reporter);
      // Its own statement, after the locks: it sees a close that committed while this call waited for them.
      await refreshClosedDays(
        trx,
        touched.map((w) => ({ areaId: w.row.region, date: w.row.delivery_date })),
      );
    }
    return answers.map(({ answer, w }) => (w ? { ...answer, delivery: viewOf(w, credits.get(w)) } : answer));
  });
}
