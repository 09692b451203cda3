import { ApplicationFailure, Context } from '@temporalio/activity';
import { TemporalFailure } from '@temporalio/common';
import { InsufficientFundsError } from '../db/errors';
import { PaymentDeclinedError } from '../infra/payment-provider';
import { UNFIXABLE_FAILURE, type UnfixableDetails } from '../domain/flow-ids';

/**
 * Business outcomes become non-retryable ApplicationFailures with a type the workflow can branch
 * on; anything else is rethrown so the activity's retry policy handles it.
 */
export async function businessFailures<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    throw businessFailure(err) ?? err;
  }
}

function businessFailure(err: unknown): ApplicationFailure | null {
  if (err instanceof InsufficientFundsError) {
    return ApplicationFailure.nonRetryable(err.message, 'InsufficientFunds', { account: err.account });
  }
  if (err instanceof PaymentDeclinedError) {
    return ApplicationFailure.nonRetryable(err.message, 'PaymentDeclined', { code: err.code });
  }
  return null;
}

/**
 * Postgres errors (SQLSTATE) that no retry can fix: the data or the code is wrong, and it will be
 * just as wrong on the next attempt. Everything else — connection loss (08), serialization
 * failures and deadlocks (40), lock timeouts (55P03), shutdowns and cancels (57), lack of
 * resources (53), a read-only replica after a failover (25006) — is left to the retry policy.
 */
const UNFIXABLE_CLASSES = ['22', '23', '42'];
const UNFIXABLE_CODES = [
  'P0001', // RAISE EXCEPTION without a code: an assertion in one of our functions
  'P0004', // ASSERT failed
  'MJ001', // the ledger's own checks: a journal with one line, one that does not balance,
  'MJ002', // an edit of an append-only table
  'MJ003',
];
/**
 * A unique or exclusion violation can be a race with a concurrent attempt of the same step (an
 * attempt that timed out but still ran): the next attempt finds the row. Only when it persists is
 * it a bug.
 */
const RACE_CODES = ['23505', '23P01'];
const RACE_ATTEMPTS = 3;

const MAX_REASON = 500;

export type FailureKind = 'business' | 'unfixable' | 'transient';

export interface Classified {
  kind: FailureKind;
  /** For unfixable ones: what the failure carries (code, message, table…). */
  details?: UnfixableDetails;
}

interface PgLike {
  code?: unknown;
  severity?: unknown;
  message?: unknown;
  table?: unknown;
  constraint?: unknown;
  cause?: unknown;
}

/** A Postgres error as node-postgres raises it (knex passes the same object on). */
function pgError(err: unknown): (PgLike & { code: string }) | null {
  for (let e = err as PgLike | undefined, depth = 0; e && depth < 4; e = e.cause as PgLike | undefined, depth++) {
    if (typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code) && typeof e.severity === 'string') return e as PgLike & { code: string };
  }
  return null;
}

/**
 * Text fit to store and show: knex prefixes the SQL with its bindings (which may hold the very
 * character that broke it), so only Postgres' own message is kept, without control characters.
 */
export function safeReason(message: string): string {
  const own = message.includes(' - ') ? message.slice(message.lastIndexOf(' - ') + 3) : message;

  const clean = own
    .replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ')
    .replace(/[\ud800-\udfff]/g, '\ufffd')
    .trim();
  return clean.length > MAX_REASON ? `${clean.slice(0, MAX_REASON - 1)}…` : clean || 'no message';
}

/** Decides what a thrown error means; `attempt` is the activity attempt it was thrown in. */
export function classifyFailure(err: unknown, attempt = 1): Classified {
  if (err instanceof InsufficientFundsError || err instanceof PaymentDeclinedError) return { kind: 'business' };
  const pg = pgError(err);
  if (pg) {
    const unfixable = UNFIXABLE_CLASSES.includes(pg.code.slice(0, 2)) || UNFIXABLE_CODES.includes(pg.code);
    if (!unfixable || (RACE_CODES.includes(pg.code) && attempt < RACE_ATTEMPTS)) return { kind: 'transient' };
    return {
      kind: 'unfixable',
      details: {
        code: pg.code,
        message: safeReason(String(pg.message ?? '')),
        ...(typeof pg.table === 'string' ? { table: pg.table } : {}),
        ...(typeof pg.constraint === 'string' ? { constraint: pg.constraint } : {}),
      },
    };
  }
  // A RangeError (invalid date, a number out of range) is a bug in code or data, never an outage.
  // A TypeError is too, except fetch's network failure, which carries its cause.
  if (err instanceof RangeError || (err instanceof TypeError && (err as { cause?: unknown }).cause === undefined)) {
    return { kind: 'unfixable', details: { code: err.name, message: safeReason(err.message) } };
  }
  return { kind: 'transient' };
}

/**
 * The one failure rule for every activity: failures the activity already typed (ApplicationFailure,
 * cancellation) pass as they are, unfixable ones become a non-retryable `UnfixableData` failure (the
 * flow parks as `stuck` on it), and everything else is rethrown for the retry policy — business
 * errors included: an activity that means them as answers says so with `businessFailures`.
 */
export function toActivityFailure(err: unknown, activity: string, attempt: number): unknown {
  if (err instanceof TemporalFailure) return err;
  const classified = classifyFailure(err, attempt);
  if (classified.kind !== 'unfixable') return err;
  const details = { ...classified.details!, activity };
  return ApplicationFailure.create({
    message: `${activity}: ${details.code} ${details.message}`,
    type: UNFIXABLE_FAILURE,
    nonRetryable: true,
    // No `cause`: knex's message repeats the SQL with its bindings, the very text that broke it.
    details: [details],
  });
}

// `never[]`: any activity's parameters are assignable to it, so every registry fits the constraint.
type AnyActivity = (...args: never[]) => Promise<unknown>;

/** Wraps each activity of a registry in the failure rule above (activities/index.ts, one place). */
export function withFailureRules<T extends Record<string, AnyActivity>>(activities: T): T {
  const wrapped: Record<string, AnyActivity> = {};
  for (const [name, run] of Object.entries(activities)) {
    wrapped[name] = async (...args: unknown[]) => {
      try {
        return await (run as (...a: unknown[]) => Promise<unknown>)(...args);
      } catch (err) {
        throw toActivityFailure(err, name, currentAttempt());
      }
    };
  }
  return wrapped as T;
}

function currentAttempt(): number {
  try {
    return Context.current().info.attempt;
  } catch {
    return 1; // called outside an activity (a test calling the function directly)
  }
}
