import {
  ActivityFailure,
  ApplicationFailure,
  condition,
  proxyActivities,
  setHandler,
  sleep,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type { PayoutActivities } from '../activities/payout';
import type { ProviderPayout } from '../infra/payout-provider';
import { formatRupees } from '../domain/money';
import { FlowStatus, SellerId } from './search-attributes';
import { flowControl } from './stuck';
import {
  SWEEP_REQUESTER,
  payoutPollNowSignal,
  payoutStateQuery,
  type PayoutFlowStatus,
  type PayoutInput,
  type PayoutState,
  type PayoutSweepInput,
  type PayoutSweepResult,
} from '../contracts/payout';

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
  const state: PayoutState = {
    payoutId: input.payoutId,
    status: 'pending',
    amount: 0,
    providerPayoutId: null,
    unknownRetries: 0,
    failureCode: null,
    stuckStep: null,
    stuckReason: null,
  };
  let pollNow = false;
  setHandler(payoutStateQuery, () => state);
  setHandler(payoutPollNowSignal, () => {
    pollNow = true;
  });
  // Every money step of a payout is keyed and safe to repeat, and abandoning one would strand the
  // money in flight or leave the bank's answer unknown: a stuck payout is fixed and retried, never
  // dropped. Only the bookkeeping of an unknown outcome may be skipped.
  const flow = flowControl({ flowType: 'payout', state });
  const setStatus = (s: PayoutFlowStatus) => {
    state.status = s;
    const amount = state.amount > 0 ? ` of ${formatRupees(state.amount)}` : '';
    flow.status(
      s,
      `Payout ${input.payoutId}${amount} to seller ${input.sellerId}: ${s.replace('_', ' ')}${state.failureCode ? ` (${state.failureCode})` : ''}`,
    );
  };
  upsertSearchAttributes([
    { key: SellerId, value: input.sellerId },
    { key: FlowStatus, value: 'pending' },
  ]);
  flow.summary(`Payout ${input.payoutId} to seller ${input.sellerId}: pending`);
  const firstPoll = input.pollMs ?? 5_000;
  const maxPoll = input.maxPollMs ?? 30 * 60_000;
  let wait = firstPoll;
  const pause = async () => {
    await condition(() => pollNow, wait);
    pollNow = false;
    wait = Math.min(wait * 2, maxPoll);
  };

  const reserved = await flow.step('reserve', () => books.reservePayout({ payoutId: input.payoutId }));
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
      result = await flow.step('send', () =>
        bank.sendPayout({ payoutId: input.payoutId, amount: reserved.amount, bankAccount: reserved.bankAccount }),
      );
    } catch (err) {
      if (!(err instanceof ActivityFailure)) throw err;
      const cause = err.cause instanceof ApplicationFailure ? err.cause : null;
      if (cause?.type === 'PayoutProviderMissing') throw cause;
      state.unknownRetries++;
      setStatus('unknown');
      await flow.step('record_unknown', () => books.recordPayoutState({ payoutId: input.payoutId, providerState: 'unknown' }), {
        abandon: { meaning: 'skips noting the unknown outcome on the payout row; the payout keeps asking the bank', run: () => undefined },
      });
      await pause();
    }
  }
  state.providerPayoutId = result.id;
  wait = firstPoll;
  while (result.status === 'pending') {
    setStatus('awaiting_bank');
    await pause();
    try {
      result = await flow.step('poll', () => bank.getPayout({ payoutId: input.payoutId, providerPayoutId: state.providerPayoutId! }));
    } catch (err) {
      if (!(err instanceof ActivityFailure)) throw err;
      state.unknownRetries++;
    }
  }

  if (result.status === 'succeeded') {
    const paid = result;
    await flow.step('finalise', () =>
      books.finalisePayout({ payoutId: input.payoutId, sellerId: reserved.sellerId, amount: reserved.amount, providerPayoutId: paid.id }),
    );
    setStatus('paid');
  } else {
    state.failureCode = result.failureCode ?? 'failed';
    const failureCode = state.failureCode;
    await flow.step('give_back', () =>
      books.failPayout({
        payoutId: input.payoutId,
        sellerId: reserved.sellerId,
        amount: reserved.amount,
        failureCode,
        message: `The bank rejected the payout (${failureCode}); the money is back in your payable balance`,
      }),
    );
    setStatus('failed');
  }
  return state;
}

/** The weekly schedule's job: a payout for every seller with a positive payable and none active. */
export async function payoutSweepWorkflow(input: PayoutSweepInput = {}): Promise<PayoutSweepResult> {
  const payouts = await books.createSweepPayouts({ limit: input.limit ?? 1_000, requestedBy: SWEEP_REQUESTER });
  if (payouts.length === 0) return { started: 0 };
  const started = await books.startPayoutWorkflows({ payouts });
  return { started };
}

// Keep `sleep` referenced for replays of histories recorded before `condition` polling.
void sleep;
