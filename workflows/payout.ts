import {
  ActivityFailure,
  ApplicationFailure,
  condition,
  defineQuery,
  defineSignal,
  proxyActivities,
  setHandler,
  sleep,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type { PayoutActivities } from '../activities/payout';
import type { ProviderPayout } from '../infra/payout-provider';
import { FlowStatus, SellerId } from './search-attributes';

export interface PayoutInput {
  payoutId: string;
  sellerId: string;
  /** First poll interval while the bank says pending or cannot be reached (doubles, capped). */
  pollMs?: number;
  maxPollMs?: number;
}

export type PayoutFlowStatus = 'pending' | 'in_flight' | 'unknown' | 'awaiting_bank' | 'paid' | 'failed' | 'skipped';

export interface PayoutState {
  payoutId: string;
  status: PayoutFlowStatus;
  amount: number;
  providerPayoutId: string | null;
  /** How many times the bank call was retried with the SAME key while the outcome was unknown. */
  unknownRetries: number;
  failureCode: string | null;
}

export const payoutStateQuery = defineQuery<PayoutState>('state');
/** Support: poll the bank now instead of waiting for the next poll. */
export const payoutPollNowSignal = defineSignal('pollNow');

const bank = proxyActivities<PayoutActivities>({
  startToCloseTimeout: '20s',
  retry: { initialInterval: '200ms', backoffCoefficient: 2, maximumInterval: '5s', maximumAttempts: 3 },
});
const books = proxyActivities<PayoutActivities>({
  startToCloseTimeout: '20s',
  retry: { initialInterval: '200ms', backoffCoefficient: 2, maximumInterval: '30s' },
});

/**
 * `payout-<payoutId>`: payable → payout_in_flight → the bank, with ONE idempotency key for the
 * payout's whole life. While the outcome is unknown (timeouts, pending) it keeps asking with that key
 * and never releases the money; only the bank's confirmation finalises (in flight → external:bank),
 * and only its rejection returns the money to the payable, where the seller sees the failure.
 */
export async function payoutWorkflow(input: PayoutInput): Promise<PayoutState> {
  const state: PayoutState = { payoutId: input.payoutId, status: 'pending', amount: 0, providerPayoutId: null, unknownRetries: 0, failureCode: null };
  let pollNow = false;
  setHandler(payoutStateQuery, () => state);
  setHandler(payoutPollNowSignal, () => {
    pollNow = true;
  });
  const setStatus = (s: PayoutFlowStatus) => {
    state.status = s;
    upsertSearchAttributes([{ key: FlowStatus, value: s }]);
  };
  upsertSearchAttributes([
    { key: SellerId, value: input.sellerId },
    { key: FlowStatus, value: 'pending' },
  ]);
  const firstPoll = input.pollMs ?? 5_000;
  const maxPoll = input.maxPollMs ?? 30 * 60_000;
  let wait = firstPoll;
  const pause = async () => {
    await condition(() => pollNow, wait);
    pollNow = false;
    wait = Math.min(wait * 2, maxPoll);
  };

  const reserved = await books.reservePayout({ payoutId: input.payoutId });
  if (reserved.amount <= 0) {
    setStatus('skipped');
    return state;
  }
  state.amount = reserved.amount;
  setStatus('in_flight');

  // Send (or re-send with the same key) until the bank gives us an answer.
  let result: ProviderPayout | null = null;
  while (!result) {
    try {
      result = await bank.sendPayout({ payoutId: input.payoutId, amount: reserved.amount, bankAccount: reserved.bankAccount });
    } catch (err) {
      if (!(err instanceof ActivityFailure)) throw err;
      const cause = err.cause instanceof ApplicationFailure ? err.cause : null;
      if (cause?.type === 'PayoutProviderMissing') throw cause;
      state.unknownRetries++;
      setStatus('unknown');
      await books.recordPayoutState({ payoutId: input.payoutId, providerState: 'unknown' });
      await pause();
    }
  }
  state.providerPayoutId = result.id;
  wait = firstPoll;
  while (result.status === 'pending') {
    setStatus('awaiting_bank');
    await pause();
    try {
      result = await bank.getPayout({ payoutId: input.payoutId, providerPayoutId: state.providerPayoutId });
    } catch (err) {
      if (!(err instanceof ActivityFailure)) throw err;
      state.unknownRetries++;
    }
  }

  if (result.status === 'succeeded') {
    await books.finalisePayout({ payoutId: input.payoutId, sellerId: reserved.sellerId, amount: reserved.amount, providerPayoutId: result.id });
    setStatus('paid');
  } else {
    state.failureCode = result.failureCode ?? 'failed';
    await books.failPayout({
      payoutId: input.payoutId,
      sellerId: reserved.sellerId,
      amount: reserved.amount,
      failureCode: state.failureCode,
      message: `The bank rejected the payout (${state.failureCode}); the money is back in your payable balance`,
    });
    setStatus('failed');
  }
  return state;
}

/** The weekly schedule's job: a payout for every seller with a positive payable and none active. */
export async function payoutSweepWorkflow(input: { limit?: number } = {}): Promise<{ started: number }> {
  const payouts = await books.createSweepPayouts({ limit: input.limit ?? 1_000, requestedBy: 'schedule:weekly-payouts' });
  if (payouts.length === 0) return { started: 0 };
  const started = await books.startPayoutWorkflows({ payouts });
  return { started };
}

// Keep `sleep` referenced for replays of histories recorded before `condition` polling.
void sleep;
