/**
 * A subscription's deliveries as the customer and support read them: each one's outcome and
 * credit, the reports behind it, and what the streak is computed from.
 */
import { deliveryIdOf, type DeliveryStatus, type FailureReason, type OutcomeSource } from '../domain/fulfilment';
import type { Queryable } from './knex';

export interface DeliveryRecord {
  deliveryId: string;
  date: string;
  quantity: number;
  status: DeliveryStatus;
  failureReason: FailureReason | null;
  outcomeAt: string | null;
  source: OutcomeSource | null;
  corrected: boolean;
  customerCaused: boolean | null;
  /** The missed-delivery credit it carries now (journal entry in the wallet, refType `delivery`). */
  credit: { amount: number; journalId: number } | null;
}

interface RecordRow {
  delivery_date: string;
  quantity: number;
  status: DeliveryStatus;
  failure_reason: FailureReason | null;
  outcome_at: Date | null;
  outcome_source: OutcomeSource | null;
  customer_caused: boolean | null;
  credit_journal_id: number | null;
  credited_amount: number;
}

/** The generated deliveries of a subscription between two dates (inclusive; open ends allowed), by date. */
export async function deliveryRecords(
  q: Queryable,
  subscriptionId: string,
  range: { from?: string; to?: string } = {},
): Promise<DeliveryRecord[]> {
  const { rows } = await q.raw(
    `SELECT delivery_date::text AS delivery_date, quantity, status, failure_reason, outcome_at, outcome_source, customer_caused,
            credit_journal_id, credited_amount
       FROM deliveries
      WHERE subscription_id = ? AND (?::date IS NULL OR delivery_date >= ?::date) AND (?::date IS NULL OR delivery_date <= ?::date)
      ORDER BY delivery_date`,
    [subscriptionId, range.from ?? null, range.from ?? null, range.to ?? null, range.to ?? null],
  );
  return (rows as RecordRow[]).map((r) => ({
    deliveryId: deliveryIdOf(subscriptionId, r.delivery_date),
    date: r.delivery_date,
    quantity: r.quantity,
    status: r.status,
    failureReason: r.failure_reason,
    outcomeAt: r.outcome_at ? new Date(r.outcome_at).toISOString() : null,
    source: r.outcome_source,
    corrected: r.outcome_source === 'ops',
    customerCaused: r.customer_caused,
    credit: r.credit_journal_id === null ? null : { amount: Number(r.credited_amount), journalId: r.credit_journal_id },
  }));
}

export interface OutcomeHistoryEntry {
  revision: number;
  status: 'delivered' | 'failed' | 'unconfirmed';
  failureReason: FailureReason | null;
  note: string | null;
  occurredAt: string | null;
  source: OutcomeSource;
  reportedBy: string;
  result: 'applied' | 'superseded';
  receivedAt: string;
}

/** Every report applied to (or superseded on) one delivery, oldest first. */
export async function outcomeHistory(q: Queryable, subscriptionId: string, date: string): Promise<OutcomeHistoryEntry[]> {
  const rows = await q('delivery_outcomes')
    .where({ subscription_id: subscriptionId, delivery_date: date })
    .orderBy('id')
    .select('revision', 'status', 'failure_reason', 'note', 'occurred_at', 'source', 'reported_by', 'result', 'received_at');
  return rows.map(
    (r: {
      revision: number;
      status: OutcomeHistoryEntry['status'];
      failure_reason: FailureReason | null;
      note: string | null;
      occurred_at: Date | null;
      source: OutcomeSource;
      reported_by: string;
      result: OutcomeHistoryEntry['result'];
      received_at: Date;
    }) => ({
      revision: r.revision,
      status: r.status,
      failureReason: r.failure_reason,
      note: r.note,
      occurredAt: r.occurred_at ? new Date(r.occurred_at).toISOString() : null,
      source: r.source,
      reportedBy: r.reported_by,
      result: r.result,
      receivedAt: new Date(r.received_at).toISOString(),
    }),
  );
}

/** The credit journals of one delivery (issued and reversed), oldest first: what "why" shows for that date. */
export async function deliveryCreditJournals(
  q: Queryable,
  deliveryId: string,
): Promise<
  { journalId: number; idempotencyKey: string; reason: string; amount: number; reversesJournalId: number | null; createdAt: string }[]
> {
  const { rows } = await q.raw(
    `SELECT j.id, j.idempotency_key, j.reason, j.reverses_journal_id, j.created_at,
            (SELECT sum(l.amount) FROM journal_lines l WHERE l.journal_id = j.id AND l.account_id LIKE 'user:%')::bigint AS wallet_amount
       FROM journal j
      WHERE j.ref_type = 'delivery' AND j.ref_id = ?
      ORDER BY j.id`,
    [deliveryId],
  );
  return rows.map(
    (r: {
      id: number;
      idempotency_key: string;
      reason: string;
      reverses_journal_id: number | null;
      created_at: Date;
      wallet_amount: number;
    }) => ({
      journalId: r.id,
      idempotencyKey: r.idempotency_key,
      reason: r.reason,
      amount: Number(r.wallet_amount),
      reversesJournalId: r.reverses_journal_id,
      createdAt: new Date(r.created_at).toISOString(),
    }),
  );
}

/** Credits a subscription's deliveries carry now: how many, and their paise. */
export async function subscriptionCredits(q: Queryable, subscriptionId: string): Promise<{ count: number; amount: number }> {
  const { rows } = await q.raw(
    `SELECT count(*)::int AS count, COALESCE(sum(credited_amount), 0)::bigint AS amount
       FROM deliveries WHERE subscription_id = ? AND credit_journal_id IS NOT NULL`,
    [subscriptionId],
  );
  return { count: rows[0].count, amount: Number(rows[0].amount) };
}
