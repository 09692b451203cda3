import { ApplicationFailure } from '@temporalio/activity';
import { InsufficientFundsError } from '../db/errors';
import { PaymentDeclinedError } from '../infra/payment-provider';

/**
 * Business outcomes become non-retryable ApplicationFailures with a type the workflow can branch
 * on; anything else is rethrown so the activity's retry policy handles it.
 */
export async function businessFailures<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof InsufficientFundsError) {
      throw ApplicationFailure.nonRetryable(err.message, 'InsufficientFunds', { account: err.account });
    }
    if (err instanceof PaymentDeclinedError) {
      throw ApplicationFailure.nonRetryable(err.message, 'PaymentDeclined', { code: err.code });
    }
    throw err;
  }
}
