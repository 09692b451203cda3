import {
  ActivityFailure,
  ApplicationFailure,
  allHandlersFinished,
  condition,
  patched,
  proxyActivities,
  setHandler,
  sleep,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type { PayoutActivities } from '../activities/payout';
import type { ProviderPayout } from '../infra/payout-provider';
import { formatRupees } from '../domain/money';
import { rejection } from '../domain/rejection';
import { FlowStatus, SellerId } from './search-attributes';
import { flowControl } from './stuck';
import {
  PAYOUT_FAILURE_CODE_PATTERN,
  PAYOUT_MARKABLE_STATUSES,
  PAYOUT_MARK_OUTCOMES,
  SWEEP_REQUESTER,
  UTR_PATTERN,
  payoutMarkSettledUpdate,
  payoutPollNowSignal,
  payoutStateQuery,
  type PayoutFlowStatus,
  type PayoutMarkSettled,
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

const FINAL: readonly PayoutFlowStatus[] = ['paid', 'failed', 'skipped'];

/** A mark must fit the payout's moment (still waiting on the bank, not marked yet) and carry what its outcome needs. */
function checkMark(state: PayoutState, mark: PayoutMarkSettled, taken: boolean): void {
  if (taken)
    throw rejection('conflict', 'payout_already_settling', `Payout ${state.payoutId} is already being settled`, { status: state.status });
  if (!(PAYOUT_MARKABLE_STATUSES as readonly string[]).includes(state.status))
    throw rejection('conflict', 'payout_not_awaiting_bank', `Payout ${state.payoutId} is ${state.status}, not waiting on the bank`, {
      status: state.status,
    });
  const bad = (field: string, message: string) => rejection('invalid', 'invalid_mark', message, { fields: [field] });
  if (!(PAYOUT_MARK_OUTCOMES as readonly string[]).includes(mark?.outcome)) throw bad('outcome', 'The outcome is paid or failed');
  if (mark.outcome === 'paid') {
    if (typeof mark.utr !== 'string' || !UTR_PATTERN.test(mark.utr)) throw bad('utr', 'A paid payout needs the UTR from the statement');
    if (mark.failureCode !== undefined) throw bad('failureCode', 'A paid payout has no failure code');
  } else {
    if (typeof mark.failureCode !== 'string' || !PAYOUT_FAILURE_CODE_PATTERN.test(mark.failureCode))
      throw bad('failureCode', 'A failed payout needs the failure code from the statement');
    if (mark.utr !== undefined) throw bad('utr', 'A failed payout has no UTR');
  }
  if (typeof mark.reason !== 'string' || mark.reason.trim().length < 3 || mark.reason.length > 500)
    throw bad('reason', 'The reason is 3 to 500 characters');
  if (typeof mark.by !== 'string' || mark.by.length < 1 || mark.by.length > 200) throw bad('by', 'Who marked it is required');
}

/**
 * Staff's reading of the bank statement (the markSettled update), and whether the outcome is being
 * booked already (the bank answered, or a mark was taken): from then on a mark is too late. The
 * caller is answered once the outcome is booked (or the booking step is parked).
 */
function acceptMarks(state: PayoutState): { taken: PayoutMarkSettled | null; deciding: boolean } {
  const marks: { taken: PayoutMarkSettled | null; deciding: boolean } = { taken: null, deciding: false };
  setHandler(
    payoutMarkSettledUpdate,
    async (mark) => {
      marks.taken = mark;
      state.markedBy = { by: mark.by, reason: mark.reason.trim(), outcome: mark.outcome };
      await condition(() => FINAL.includes(state.status) || state.stuckStep !== null);
      return state;
    },
    { validator: (mark) => checkMark(state, mark, marks.taken !== null || marks.deciding) },
  );
  return marks;
}

/**
 * `payout-<payoutId>`: payable → payout_in_flight → the bank, with ONE idempotency key for the
 * payout's whole life. While the outcome is unknown (timeouts, pending) it keeps asking with that key
 * and never releases the money; only the bank's confirmation finalises (in flight → external:bank),
 * and only its rejection returns the money to the payable, where the seller sees the failure. Staff
 * who read the outcome on the bank statement mark it (markSettled), and it is booked the same way.
 */
export async function payoutWorkflow(input: PayoutInput): Promise<PayoutState> {
  const state: PayoutState = {
    payoutId: input.payoutId,
    status: 'pending',
    amount: 0,
    providerPayoutId: null,
    unknownRetries: 0,
    failureCode: null,
    utr: null,
    markedBy: null,
    stuckStep: null,
    stuckReason: null,
  };
  let pollNow = false;
  setHandler(payoutStateQuery, () => state);
  setHandler(payoutPollNowSignal, () => {
    pollNow = true;
  });
  const marks = acceptMarks(state);
  // A mark decides in place of the bank's answer; recorded histories never had one.
  const marked = () => marks.taken !== null && patched('payout-mark-settled');
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
    await condition(() => pollNow || marks.taken !== null, wait);
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

  // Send (or re-send with the same key) until the bank gives us an answer, or staff mark it.
  let result: ProviderPayout | null = null;
  while (!result && !marked()) {
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
  if (result) {
    state.providerPayoutId = result.id;
    wait = firstPoll;
  }
  while (result?.status === 'pending' && !marked()) {
    setStatus('awaiting_bank');
    await pause();
    if (marked()) break;
    try {
      result = await flow.step('poll', () => bank.getPayout({ payoutId: input.payoutId, providerPayoutId: state.providerPayoutId! }));
    } catch (err) {
      if (!(err instanceof ActivityFailure)) throw err;
      state.unknownRetries++;
    }
  }

  // Booked exactly as the bank's answer would be, with the same journal keys: whichever answer comes
  // second (a late bank reply, a second mark) finds the payout settled and moves nothing.
  marks.deciding = true;
  const mark = marked() ? marks.taken : null;
  const bankSays = mark ? (mark.outcome === 'paid' ? 'succeeded' : 'failed') : result!.status;
  const markedBy = mark ? { by: mark.by, reason: mark.reason.trim() } : undefined;
  if (bankSays === 'succeeded') {
    const utr = mark ? mark.utr! : (result!.utr ?? null);
    state.utr = utr;
    const providerPayoutId = state.providerPayoutId;
    await flow.step('finalise', () =>
      books.finalisePayout({
        payoutId: input.payoutId,
        sellerId: reserved.sellerId,
        amount: reserved.amount,
        providerPayoutId,
        utr,
        ...(markedBy ? { markedBy } : {}),
      }),
    );
    setStatus('paid');
  } else {
    state.failureCode = mark ? mark.failureCode! : (result!.failureCode ?? 'failed');
    const failureCode = state.failureCode;
    const source = mark ? 'The bank statement shows the payout failed' : 'The bank rejected the payout';
    await flow.step('give_back', () =>
      books.failPayout({
        payoutId: input.payoutId,
        sellerId: reserved.sellerId,
        amount: reserved.amount,
        failureCode,
        message: `${source} (${failureCode}); the money is back in your payable balance`,
        ...(markedBy ? { markedBy } : {}),
      }),
    );
    setStatus('failed');
  }
  // The mark's caller is answered with the booked outcome before the flow closes.
  if (mark) await condition(allHandlersFinished);
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
