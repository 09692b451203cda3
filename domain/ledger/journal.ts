import { assertPaise } from '../money';
import { isValidAccountName } from './accounts';

export interface LedgerLine {
  account: string;
  /** Signed paise added to the account's balance. */
  amount: number;
}

export interface JournalEntry {
  /** Derived from the flow and step, e.g. `checkout-123:charge`; a repeat is a no-op. */
  idempotencyKey: string;
  reason: string;
  refType?: string;
  refId?: string;
  actor?: string;
  metadata?: Record<string, unknown>;
  lines: LedgerLine[];
}

export class UnbalancedJournalError extends Error {}

/** A transfer of `amount` from one account to another, as two lines. */
export function transfer(from: string, to: string, amount: number): LedgerLine[] {
  assertPaise(amount);
  if (amount <= 0) throw new RangeError(`transfer amount must be positive, got ${amount}`);
  return [
    { account: from, amount: -amount },
    { account: to, amount },
  ];
}

/** Throws unless the entry is well-formed: at least two non-zero integer lines summing to zero. */
export function validateJournal(entry: JournalEntry): void {
  if (!entry.idempotencyKey) throw new UnbalancedJournalError('journal needs an idempotency key');
  if (entry.lines.length < 2) throw new UnbalancedJournalError(`journal ${entry.idempotencyKey} needs two lines`);
  let sum = 0;
  for (const line of entry.lines) {
    assertPaise(line.amount, `line amount in ${entry.idempotencyKey}`);
    if (line.amount === 0) throw new UnbalancedJournalError(`zero line in ${entry.idempotencyKey}`);
    if (!isValidAccountName(line.account)) throw new UnbalancedJournalError(`bad account name ${line.account}`);
    sum += line.amount;
  }
  if (sum !== 0) throw new UnbalancedJournalError(`journal ${entry.idempotencyKey} sums to ${sum}, not 0`);
}

/** The lines that undo a journal. */
export function reversalLines(lines: LedgerLine[]): LedgerLine[] {
  return lines.map((line) => ({ account: line.account, amount: -line.amount }));
}
