import { ApplicationFailure, CancelledFailure } from '@temporalio/common';
import { KnexTimeoutError } from 'knex';
import { DatabaseError } from 'pg-protocol';
import { businessFailures, classifyFailure, safeReason, toActivityFailure, withFailureRules } from '../../activities/failures';
import { InsufficientFundsError } from '../../db/errors';
import { DateOutOfRangeError } from '../../domain/schedule/local-date';
import { UNFIXABLE_FAILURE } from '../../domain/flow-ids';
import { PaymentDeclinedError } from '../../infra/payment-provider';

/** A Postgres error as node-postgres builds it from the server's ErrorResponse, with knex's prefix. */
function pgError(
  code: string,
  message: string,
  fields: Record<string, string> = {},
  sql = `insert into "t" ("note") values ('x')`,
): DatabaseError {
  const err = new DatabaseError(message, 100, 'error');
  Object.assign(err, { severity: 'ERROR', code, ...fields });
  err.message = `${sql} - ${message}`;
  return err;
}

describe('classifyFailure', () => {
  test.each([
    ['22021', 'invalid byte sequence for encoding "UTF8": 0x00'],
    ['22P05', 'unsupported Unicode escape sequence'],
    ['22008', 'date/time field value out of range: "2026-02-30"'],
    ['22003', 'numeric field overflow'],
    ['23502', 'null value in column "amount" violates not-null constraint'],
    ['23514', 'new row violates check constraint "amount_positive"'],
    ['42703', 'column "ammount" does not exist'],
    ['P0001', 'hold draw-down touched 1 of 2 holds'],
    ['MJ002', 'journal k does not balance'],
  ])('Postgres %s is unfixable, with its own message', (code, message) => {
    expect(classifyFailure(pgError(code, message))).toEqual({ kind: 'unfixable', details: { code, message } });
  });

  test.each([
    ['40001', 'could not serialize access due to concurrent update'],
    ['40P01', 'deadlock detected'],
    ['55P03', 'canceling statement due to lock timeout'],
    ['57P01', 'terminating connection due to administrator command'],
    ['57014', 'canceling statement due to statement timeout'],
    ['08006', 'connection failure'],
    ['53300', 'sorry, too many clients already'],
    ['25006', 'cannot execute UPDATE in a read-only transaction'],
  ])('Postgres %s is transient: the retry policy keeps it', (code, message) => {
    expect(classifyFailure(pgError(code, message))).toEqual({ kind: 'transient' });
  });

  test('a unique violation gets a few attempts (a race with a concurrent attempt) before it counts as a bug', () => {
    const dup = pgError('23505', 'duplicate key value violates unique constraint "journal_idempotency_key_key"', {
      constraint: 'journal_idempotency_key_key',
      table: 'journal',
    });
    expect(classifyFailure(dup, 1).kind).toBe('transient');
    expect(classifyFailure(dup, 2).kind).toBe('transient');
    expect(classifyFailure(dup, 3)).toEqual({
      kind: 'unfixable',
      details: {
        code: '23505',
        message: 'duplicate key value violates unique constraint "journal_idempotency_key_key"',
        table: 'journal',
        constraint: 'journal_idempotency_key_key',
      },
    });
  });

  test('a Postgres error wrapped as the cause of another is still found', () => {
    const wrapped = new Error('transaction failed', { cause: pgError('22003', 'value out of range for type integer') });
    expect(classifyFailure(wrapped)).toMatchObject({ kind: 'unfixable', details: { code: '22003' } });
  });

  test('JS bugs: a RangeError (and its subclasses) and a TypeError without a cause are unfixable', () => {
    expect(classifyFailure(new RangeError('Invalid time value'))).toEqual({
      kind: 'unfixable',
      details: { code: 'RangeError', message: 'Invalid time value' },
    });
    expect(classifyFailure(new DateOutOfRangeError(2200))).toMatchObject({ kind: 'unfixable', details: { code: 'DateOutOfRangeError' } });
    expect(classifyFailure(new TypeError("Cannot read properties of undefined (reading 'id')"))).toMatchObject({
      kind: 'unfixable',
      details: { code: 'TypeError' },
    });
  });

  test('outages stay transient: connection refused, fetch failed, pool timeout, anything unknown', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), {
      code: 'ECONNREFUSED',
      errno: -111,
      syscall: 'connect',
    });
    expect(classifyFailure(refused).kind).toBe('transient');
    expect(classifyFailure(new TypeError('fetch failed', { cause: refused })).kind).toBe('transient');
    expect(classifyFailure(new KnexTimeoutError('Knex: Timeout acquiring a connection. The pool is probably full.')).kind).toBe(
      'transient',
    );
    // A string code that merely looks like a SQLSTATE, without Postgres' severity, is not one.
    expect(classifyFailure(Object.assign(new Error('broken pipe'), { code: 'EPIPE' })).kind).toBe('transient');
    expect(classifyFailure(Object.assign(new Error('not pg'), { code: '22021' })).kind).toBe('transient');
    expect(classifyFailure(new Error('provider unavailable')).kind).toBe('transient');
  });

  test('business outcomes are business', () => {
    expect(classifyFailure(new InsufficientFundsError('user:u:wallet')).kind).toBe('business');
    expect(classifyFailure(new PaymentDeclinedError('card_declined', 'declined')).kind).toBe('business');
  });
});

describe('safeReason', () => {
  test("keeps Postgres' own message, not knex's SQL with its bindings, and never a control character", () => {
    expect(safeReason(`insert into "t" ("note") values ('a\u0000b') - invalid byte sequence for encoding "UTF8": 0x00`)).toBe(
      'invalid byte sequence for encoding "UTF8": 0x00',
    );
    expect(safeReason('bad\u0000text\u0007here')).toBe('bad text here');
    expect(safeReason('x'.repeat(2_000))).toHaveLength(500);
    expect(safeReason('')).toBe('no message');
  });
});

describe('the failure rule every activity is wrapped in', () => {
  const rejecting = (err: unknown) => withFailureRules({ recordThing: async (_x: number) => Promise.reject(err) });

  test('an unfixable failure becomes a non-retryable UnfixableData carrying the code, message and activity', async () => {
    const failure = await rejecting(pgError('22021', 'invalid byte sequence for encoding "UTF8": 0x00', { table: 'topups' }))
      .recordThing(1)
      .catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({
      type: UNFIXABLE_FAILURE,
      nonRetryable: true,
      message: 'recordThing: 22021 invalid byte sequence for encoding "UTF8": 0x00',
    });
    expect((failure as ApplicationFailure).details).toEqual([
      { code: '22021', message: 'invalid byte sequence for encoding "UTF8": 0x00', table: 'topups', activity: 'recordThing' },
    ]);
  });

  test('transient errors are rethrown as they are, for the retry policy', async () => {
    const deadlock = pgError('40P01', 'deadlock detected');
    await expect(rejecting(deadlock).recordThing(1)).rejects.toBe(deadlock);
  });

  test("failures the activity already typed pass untouched; business errors stay the activity's business", async () => {
    const typed = ApplicationFailure.nonRetryable('no stock', 'OutOfStock');
    await expect(rejecting(typed).recordThing(1)).rejects.toBe(typed);
    const cancelled = new CancelledFailure('cancelled');
    await expect(rejecting(cancelled).recordThing(1)).rejects.toBe(cancelled);
    // Only an activity that opts in (businessFailures) turns an overdraft into an answer.
    const short = new InsufficientFundsError('user:u:wallet');
    expect(toActivityFailure(short, 'commitBatch', 1)).toBe(short);
    const answered = await withFailureRules({ chargeWallet: () => businessFailures(async () => Promise.reject(short)) })
      .chargeWallet()
      .catch((e: unknown) => e);
    expect(answered).toMatchObject({ type: 'InsufficientFunds', nonRetryable: true, details: [{ account: 'user:u:wallet' }] });
  });

  test('results and arguments go through unchanged', async () => {
    const acts = withFailureRules({ double: async (x: number) => x * 2 });
    await expect(acts.double(21)).resolves.toBe(42);
  });
});
