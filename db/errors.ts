/** Errors the repositories raise for business outcomes; activities turn them into ApplicationFailures. */
export class InsufficientFundsError extends Error {
  readonly type = 'InsufficientFunds';
  constructor(
    readonly account: string,
    message = `insufficient funds in ${account}`,
  ) {
    super(message);
  }
}

export class NotFoundError extends Error {
  readonly type = 'NotFound';
}

const PG_CHECK_VIOLATION = '23514';
const PG_UNIQUE_VIOLATION = '23505';

export function isCheckViolation(err: unknown, constraint?: string): boolean {
  const e = err as { code?: string; constraint?: string };
  return e?.code === PG_CHECK_VIOLATION && (!constraint || e.constraint === constraint);
}

export function isUniqueViolation(err: unknown, constraint?: string): boolean {
  const e = err as { code?: string; constraint?: string };
  return e?.code === PG_UNIQUE_VIOLATION && (!constraint || e.constraint === constraint);
}
