import {
  ActivityFailure,
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  log,
  patched,
  proxyActivities,
  setHandler,
  sleep,
  workflowInfo,
} from '@temporalio/workflow';
import type { SubscriptionActivities } from '../activities/subscriptions';
import {
  addDays,
  CHANGE_REASONS,
  cutoffInstant,
  dateBoundsErrors,
  DEFAULT_REASON,
  isAllowedReason,
  isSupportedLocalDate,
  isValidLocalDate,
  localDateOf,
  nextDeliveries,
  PAUSE_REASONS,
  SKIP_REASONS,
  validateExceptionRequest,
  wouldDeliver,
  type ExceptionType,
  type LocalDate,
  type ScheduleException,
  type ScheduleSubscription,
} from '../domain/schedule';
import {
  DEFAULT_SUBSCRIPTION_SETTINGS,
  dunningRetryAt,
  earliestChangeableDate,
  exceptionsToCarry,
  explainStatus,
  flowStatusOf,
  nextSkipBoundary,
  periodEndWithCredit,
  realDelayUntil,
  renewalCharge,
  renewalInstant,
  resumablePauses,
  simNow,
  upcomingPauseEvents,
  type CancelRequest,
  type ExtraRequest,
  type PauseRequest,
  type PaymentMethodRequest,
  type QuantityRequest,
  type ResumeRequest,
  type SkipRequest,
  type StatusFacts,
  type SubscriptionCarriedState,
  type SubscriptionSettings,
  type SubscriptionStateView,
  type SubscriptionWorkflowInput,
} from '../domain/subscription';
import { CustomerId } from './search-attributes';
import { flowControl, isAbandoned, type StepOptions } from './stuck';
import * as msg from './subscription-messages';

export * from './subscription-messages';

// Each step is one database transaction or one provider call; a worker that dies mid-step is
// noticed when this runs out, so it is kept short.
const acts = proxyActivities<SubscriptionActivities>({
  startToCloseTimeout: '10s',
  retry: { initialInterval: '200ms', backoffCoefficient: 2, maximumInterval: '30s', nonRetryableErrorTypes: ['PaymentDeclined'] },
});

const PAYMENT_POLL_MS = 1_000;
const MAX_NOTIFIED_KEYS = 200;

/**
 * Renewals priced from the catalog (domain/subscription/pricing.ts#renewalCharge) instead of the
 * quoted `pricePerPeriod`. Gated: a run that opened its renewal before this charges what it opened.
 */
const REPRICING_PATCH = 'renewal-repricing';

/** What a run carries on top of the domain's state: the current period's charge, once re-priced. */
export interface SubscriptionRunState extends SubscriptionCarriedState {
  /** Paise charged (or being charged) for the current period; absent: the quoted `pricePerPeriod`. */
  periodAmount?: number;
  /** Units the current period's charge paid for (its own, without the previous period's adjustment). */
  periodUnits?: number;
}

export interface SubscriptionRunInput extends SubscriptionWorkflowInput {
  carried?: SubscriptionRunState;
}

function invalid(codes: string[], message?: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(message ?? `invalid request: ${codes.join(', ')}`, 'InvalidRequest', { codes });
}

/** A change support abandoned while saving it was stuck: nothing changed. */
const notSaved = () => invalid(['not_saved'], 'the change could not be saved and support abandoned it; nothing changed');
const isNotSaved = (err: unknown) =>
  err instanceof ApplicationFailure && ((err.details?.[0] as { codes?: string[] })?.codes ?? []).includes('not_saved');
const ABANDONED_ATTEMPT = 'abandoned_by_support';

/**
 * `subscription-<id>`: owns one subscription's timeline. Sleeps until the next renewal, dunning retry
 * or pause notification; takes pause/resume/skip/extra/quantity/cancel/payment-method changes as
 * signals (CLI, UI) or validated updates (API); charges each billing period from the wallet or the
 * payment method; continues-as-new after every paid renewal (or when history grows).
 */
export async function subscriptionWorkflow(input: SubscriptionRunInput): Promise<SubscriptionStateView> {
  const sub = input.subscription;
  const settings: SubscriptionSettings = { ...DEFAULT_SUBSCRIPTION_SETTINGS, ...input.settings };
  const tz = sub.timezone;
  const st: SubscriptionRunState = input.carried ?? {
    clockAnchor: { realMs: Date.now(), simMs: settings.simStartMs ?? Date.now() },
    quantity: sub.quantity,
    paymentMethod: sub.paymentMethod,
    exceptions: [],
    nextExceptionSeq: 1,
    cancelledFrom: null,
    period: 0,
    periodStart: null,
    periodPaid: false,
    creditedDaysTotal: 0,
    billing: 'pending',
    billingReason: null,
    dunning: null,
    notified: [],
    runs: 0,
  };
  st.runs += 1;

  // ---- time ----
  const now = () => simNow(st.clockAnchor, settings.dayMs, Date.now());
  const today = () => localDateOf(now(), tz);
  const earliest = () => earliestChangeableDate(now(), tz, settings.cutoff);
  const sleepUntil = (simTargetMs: number) => realDelayUntil(st.clockAnchor, settings.dayMs, Date.now(), simTargetMs);

  const scheduleSub = (): ScheduleSubscription => ({
    id: sub.id,
    startDate: sub.startDate,
    endDate: sub.endDate,
    recurrence: sub.recurrence,
    quantity: st.quantity,
    timezone: tz,
    status: 'active',
    cancelledFrom: st.cancelledFrom,
  });
  /** Start of the next period to charge (period 1 starts on the start date). */
  const nextPeriod = (): { start: LocalDate; creditedDays: number } =>
    st.period === 0 || st.periodStart === null
      ? { start: sub.startDate, creditedDays: 0 }
      : (({ end, creditedDays }) => ({ start: end, creditedDays }))(
          periodEndWithCredit(scheduleSub(), st.exceptions, st.periodStart, settings.billingPeriod),
        );
  /** Last delivery day of the subscription (end date or the day before cancellation), if any. */
  const lastDay = (): LocalDate | null => {
    const cancelEnd = st.cancelledFrom ? addDays(st.cancelledFrom, -1) : null;
    if (sub.endDate && cancelEnd) return sub.endDate < cancelEnd ? sub.endDate : cancelEnd;
    return sub.endDate ?? cancelEnd;
  };

  // ---- stuck steps ----
  // Every step parks on data no retry can fix (workflows/stuck.ts). What abandoning one means:
  // - a change from a signal or update (save/end exceptions, cancel, payment method) is dropped:
  //   the subscription stays as it was; a signal is noted in `lastRejected`, an update fails;
  // - a charge step counts as a failed attempt (`abandoned_by_support`) and dunning takes over
  //   (no money moved on our side; a payment the provider took is refunded by hand);
  // - a row sync, renewal record or notification is skipped (the next sync catches up).
  const flow = flowControl({ flowType: 'subscription' });
  const dropChange = <T>(fallback: T): StepOptions<T> => ({
    abandon: { meaning: 'drops the change; the subscription stays as it was', run: () => fallback },
  });
  const skip = (what: string): StepOptions<unknown> => ({
    abandon: { meaning: `skips ${what}; the subscription carries on`, run: () => undefined },
  });
  const failsAttempt = flow.giveUp<never>('counts this charge attempt as failed; dunning takes over');

  // ---- wake-ups from handlers ----
  let changed = false;
  let retryNow = false;
  const confirmedPayments = new Set<string>();
  let lastRejected: { request: string; codes: string[]; at: string } | null = null;

  // ---- validation (shared by update validators and signal handlers) ----
  const assertOpen = () => {
    if (st.cancelledFrom !== null) throw invalid(['subscription_cancelled'], `subscription cancelled from ${st.cancelledFrom}`);
  };
  /** The subscription's life: a change may not begin before its start nor reach past its end. */
  const life = { startDate: sub.startDate, endDate: sub.endDate };
  /** A cancel or a resume is bounded by the end only: cancelling before the first delivery is allowed. */
  const endOnly = { endDate: sub.endDate };
  const validateRange = (
    type: ExceptionType,
    from: LocalDate,
    to: LocalDate | null,
    bounds: { startDate?: LocalDate; endDate: LocalDate | null },
    quantity?: number | null,
  ) => {
    assertOpen();
    const codes: string[] = validateExceptionRequest(
      { type, from, to, quantity: type === 'skip' ? undefined : quantity },
      { today: today(), nowMs: now(), timezone: tz, cutoff: settings.cutoff, ...bounds },
    );
    const last = lastDay();
    if (codes.length === 0 && last !== null && from > last) codes.push('after_subscription_end');
    if (codes.length) throw invalid(codes);
  };
  // The reason lists are the API's (domain/schedule/reasons.ts), so both accept the same requests.
  const validateReason = (reason: unknown, allowed: readonly string[]) => {
    if (reason !== undefined && !isAllowedReason(allowed, reason))
      throw invalid(['invalid_reason'], `reason must be one of ${allowed.join(', ')}`);
  };
  const validatePause = (r: PauseRequest) => {
    validateReason(r.reason, PAUSE_REASONS);
    validateRange('skip', r.from, r.to ?? null, life);
  };
  const validateSkip = (r: SkipRequest) => {
    validateReason(r.reason, SKIP_REASONS);
    validateRange('skip', r.from, r.to, life);
  };
  const validateExtra = (r: ExtraRequest) => {
    validateReason(r.reason, CHANGE_REASONS);
    validateRange('deliver_extra', r.date, r.date, life, r.quantity);
  };
  const validateQuantity = (r: QuantityRequest) => {
    validateReason(r.reason, CHANGE_REASONS);
    validateRange('change_quantity', r.from, r.to, life, r.quantity);
  };
  const validateResume = (r: ResumeRequest) => {
    assertOpen();
    const from = r.from ?? earliest();
    const codes: string[] = validateExceptionRequest(
      { type: 'skip', from, to: null },
      { today: today(), nowMs: now(), timezone: tz, cutoff: settings.cutoff, ...endOnly },
    );
    if (codes.length) throw invalid(codes);
    if (resumablePauses(st.exceptions, from).length === 0)
      throw invalid(['nothing_to_resume'], `no pause of yours covers ${from} or later`);
  };
  const validateCancel = (r: CancelRequest) => {
    assertOpen();
    if (r.from !== undefined) validateRange('skip', r.from, null, endOnly);
  };
  /**
   * An exception a bulk job already wrote to Postgres (a regional holiday) is not a request, but a
   * hand-sent one may carry any dates: one the timeline cannot compute with would wedge the flow.
   */
  const recordedExceptionErrors = (ex: ScheduleException): string[] => {
    const codes: string[] = [];
    if (ex.type !== 'skip' && ex.type !== 'deliver_extra' && ex.type !== 'change_quantity') codes.push('invalid_type');
    if (!isValidLocalDate(ex.from)) codes.push('invalid_from');
    if (ex.to !== null && !isValidLocalDate(ex.to)) codes.push('invalid_to');
    if (codes.length) return codes;
    if (ex.to !== null && ex.to < ex.from) return ['to_before_from'];
    const far = dateBoundsErrors(ex.from, ex.to, { today: today() });
    if (far.length) return far;
    // Left: a date far in the past, outside the calendar the timeline computes in.
    return isSupportedLocalDate(ex.from) ? [] : ['date_out_of_range'];
  };
  const validatePaymentMethod = (r: PaymentMethodRequest) => {
    if (typeof r?.paymentMethod !== 'string' || !/^pm_[a-z0-9_]{1,40}$/.test(r.paymentMethod)) throw invalid(['invalid_payment_method']);
    assertOpen();
  };

  // ---- changes ----
  const addException = async (
    type: ExceptionType,
    from: LocalDate,
    to: LocalDate | null,
    quantity: number | undefined,
    reason: string,
    createdBy: string,
  ): Promise<ScheduleException> => {
    const ex: ScheduleException = {
      id: `E${st.nextExceptionSeq++}`,
      type,
      from,
      to,
      ...(type === 'skip' ? {} : { quantity }),
      reason,
      createdBy,
      createdAt: new Date(now()).toISOString(),
      endedAt: null,
    };
    st.exceptions.push(ex);
    changed = true;
    const saved = await flow.step(
      'save_exception',
      async () => {
        await acts.saveException(sub.id, ex);
        return true;
      },
      dropChange(false),
    );
    if (!saved) {
      st.exceptions.splice(st.exceptions.indexOf(ex), 1);
      throw notSaved();
    }
    return ex;
  };
  const endExceptions = async (targets: ScheduleException[], from: LocalDate) => {
    const before = targets.map((e) => e.endedAt);
    const ends = targets.map((e) => {
      const endedAt = e.from > from ? e.from : from;
      if (!e.endedAt || e.endedAt > endedAt) e.endedAt = endedAt;
      return { id: e.id, endedAt: e.endedAt };
    });
    changed = true;
    const saved =
      ends.length === 0 ||
      (await flow.step(
        'end_exceptions',
        async () => {
          await acts.endExceptions(sub.id, ends);
          return true;
        },
        dropChange(false),
      ));
    if (!saved) {
      targets.forEach((e, i) => (e.endedAt = before[i]));
      throw notSaved();
    }
    return ends;
  };
  const who = (createdBy: string | undefined) => createdBy ?? `customer:${sub.customerId}`;

  const doPause = async (r: PauseRequest) => ({
    exceptionId: (await addException('skip', r.from, r.to ?? null, undefined, r.reason ?? DEFAULT_REASON.pause, who(r.createdBy))).id,
  });
  const doSkip = async (r: SkipRequest) => ({
    exceptionId: (await addException('skip', r.from, r.to, undefined, r.reason ?? DEFAULT_REASON.skip, who(r.createdBy))).id,
  });
  const doExtra = async (r: ExtraRequest) => ({
    exceptionId: (await addException('deliver_extra', r.date, r.date, r.quantity, r.reason ?? DEFAULT_REASON.change, who(r.createdBy))).id,
  });
  const doQuantity = async (r: QuantityRequest) => ({
    exceptionId: (await addException('change_quantity', r.from, r.to, r.quantity, r.reason ?? DEFAULT_REASON.change, who(r.createdBy))).id,
  });
  const doResume = async (r: ResumeRequest) => {
    const from = r.from ?? earliest();
    const ends = await endExceptions(resumablePauses(st.exceptions, from), from);
    return { ended: ends.map((e) => e.id) };
  };
  const doCancel = async (r: CancelRequest) => {
    const before = { cancelledFrom: st.cancelledFrom, dunning: st.dunning };
    st.cancelledFrom = r.from ?? earliest();
    st.dunning = null;
    changed = true;
    const cancelledFrom = st.cancelledFrom;
    const saved = await flow.step(
      'save_cancel',
      async () => {
        await acts.syncSubscription(sub.id, {
          status: 'cancelled',
          cancelledFrom,
          billingState: 'ended',
          billingReason: `cancelled by ${who(r.createdBy)} from ${cancelledFrom}${r.reason ? ` (${r.reason})` : ''}`,
          nextRenewalDate: null,
        });
        return true;
      },
      dropChange(false),
    );
    if (!saved) {
      Object.assign(st, before);
      throw notSaved();
    }
    st.billing = 'ended';
    st.billingReason = `cancelled by ${who(r.createdBy)} from ${st.cancelledFrom}`;
    return { cancelledFrom: st.cancelledFrom };
  };
  const doPaymentMethod = async (r: PaymentMethodRequest) => {
    const previous = st.paymentMethod;
    st.paymentMethod = r.paymentMethod;
    const retried = st.dunning !== null;
    if (retried) retryNow = true;
    changed = true;
    const saved = await flow.step(
      'save_payment_method',
      async () => {
        await acts.syncSubscription(sub.id, { paymentMethod: r.paymentMethod });
        return true;
      },
      dropChange(false),
    );
    if (!saved) {
      st.paymentMethod = previous;
      throw notSaved();
    }
    return { retried };
  };

  /** Notes an ignored signal for support (the `state` query's `lastRejected`). */
  const reject = (name: string, codes: string[]) => {
    lastRejected = { request: name, codes, at: new Date(now()).toISOString() };
    log.warn('signal rejected', { name, codes });
  };
  /** Signals run the same validation; an invalid signal changes nothing and is noted for support. */
  const viaSignal =
    <T>(name: string, validate: (r: T) => void, run: (r: T) => Promise<unknown>) =>
    async (r?: T) => {
      try {
        validate(r ?? ({} as T));
      } catch (err) {
        reject(name, ((err as ApplicationFailure).details?.[0] as { codes?: string[] })?.codes ?? ['invalid']);
        return;
      }
      try {
        await run(r ?? ({} as T));
      } catch (err) {
        if (!isNotSaved(err)) throw err;
        lastRejected = { request: name, codes: ['not_saved'], at: new Date(now()).toISOString() };
      }
    };

  setHandler(msg.pauseSignal, viaSignal('pause', validatePause, doPause));
  setHandler(msg.resumeSignal, viaSignal('resume', validateResume, doResume));
  setHandler(msg.skipSignal, viaSignal('skip', validateSkip, doSkip));
  setHandler(msg.deliverExtraSignal, viaSignal('deliverExtra', validateExtra, doExtra));
  setHandler(msg.changeQuantitySignal, viaSignal('changeQuantity', validateQuantity, doQuantity));
  setHandler(msg.cancelSignal, viaSignal('cancel', validateCancel, doCancel));
  setHandler(msg.paymentMethodUpdatedSignal, viaSignal('paymentMethodUpdated', validatePaymentMethod, doPaymentMethod));
  setHandler(msg.exceptionAddedSignal, (ex) => {
    if (!ex?.id || st.exceptions.some((e) => e.id === ex.id)) return;
    // The row the job wrote stays in Postgres; the API refuses such holidays, so only a hand-sent signal gets here.
    const codes = recordedExceptionErrors(ex);
    if (codes.length) return reject('exceptionAdded', codes);
    st.exceptions.push(ex);
    changed = true;
  });
  setHandler(msg.subscriptionPaymentConfirmedSignal, ({ paymentId }) => {
    confirmedPayments.add(paymentId);
  });

  setHandler(msg.pauseUpdate, doPause, { validator: validatePause });
  setHandler(msg.resumeUpdate, doResume, { validator: validateResume });
  setHandler(msg.skipUpdate, doSkip, { validator: validateSkip });
  setHandler(msg.deliverExtraUpdate, doExtra, { validator: validateExtra });
  setHandler(msg.changeQuantityUpdate, doQuantity, { validator: validateQuantity });
  setHandler(msg.cancelUpdate, doCancel, { validator: validateCancel });
  setHandler(msg.paymentMethodUpdate, doPaymentMethod, { validator: validatePaymentMethod });

  // ---- state for support ----
  const statusFacts = (): StatusFacts => {
    const d = wouldDeliver(scheduleSub(), st.exceptions, today());
    const paused = d.reason === 'skipped' || d.reason === 'extra_on_skipped_day';
    return {
      today: today(),
      cancelledFrom: st.cancelledFrom,
      lastDay: lastDay(),
      billing: st.billing,
      billingReason: st.billingReason,
      dunning: st.dunning,
      dunningRetries: settings.dunningRetryDays.length,
      pausedToday: paused ? d.explanation : null,
      period: st.period,
      renewalDate,
    };
  };
  const flowStatus = () => flowStatusOf(statusFacts());
  const renewalDate = () => addDays(nextPeriod().start, -1);
  const view = (): SubscriptionStateView => {
    const next = nextPeriod();
    const facts = statusFacts();
    return {
      subscriptionId: sub.id,
      customerId: sub.customerId,
      flowStatus: flowStatusOf(facts),
      why: explainStatus(facts),
      today: today(),
      earliestChangeableDate: earliest(),
      quantity: st.quantity,
      paymentMethod: st.paymentMethod,
      cancelledFrom: st.cancelledFrom,
      period: st.period,
      periodStart: st.periodStart,
      periodPaid: st.periodPaid,
      nextPeriodStart: next.start,
      nextRenewalDate: st.cancelledFrom ? null : addDays(next.start, -1),
      creditedDaysTotal: st.creditedDaysTotal,
      billing: st.billing,
      billingReason: st.billingReason,
      dunning: st.dunning,
      exceptions: st.exceptions,
      lastRejected,
      runs: st.runs,
    };
  };
  // Stuck beats the status the schedule gives: support reads the step and the reason first.
  setHandler(msg.stateQuery, () => {
    const v = { ...view(), periodAmount: st.period === 0 ? null : periodAmount() };
    const stuck = flow.stuck;
    return stuck
      ? {
          ...v,
          flowStatus: 'stuck' as const,
          why: `Stuck on step ${stuck.step}: ${stuck.reason}`,
          stuckStep: stuck.step,
          stuckReason: stuck.reason,
        }
      : { ...v, stuckStep: null, stuckReason: null };
  });
  setHandler(msg.nextDeliveriesQuery, (n = 10, from?: LocalDate) =>
    nextDeliveries(scheduleSub(), st.exceptions, from ?? earliest(), Math.min(Math.max(1, n), 100)),
  );

  let lastFlowStatus: string | null = null;
  const publishStatus = () => {
    const status = flowStatus();
    if (status === lastFlowStatus) return;
    lastFlowStatus = status;
    flow.status(status, `Subscription ${sub.id}: ${status.replace('_', ' ')}. ${explainStatus(statusFacts())}`, [
      { key: CustomerId, value: sub.customerId },
    ]);
  };

  const notify = async (key: string, kind: string, message: string, data: Record<string, unknown> = {}) => {
    if (st.notified.includes(key)) return;
    await flow.step(
      'notify',
      () => acts.notifyCustomer({ key, customerId: sub.customerId, subscriptionId: sub.id, kind, message, data }),
      skip('this notification'),
    );
    st.notified.push(key);
    if (st.notified.length > MAX_NOTIFIED_KEYS) st.notified.splice(0, st.notified.length - MAX_NOTIFIED_KEYS);
  };

  // ---- billing ----
  let syncedRenewalDate: LocalDate | null | undefined;
  const syncBilling = async () => {
    const next = nextPeriod();
    const nextRenewalDate = st.cancelledFrom ? null : addDays(next.start, -1);
    const patch = {
      billingState: st.billing,
      billingReason: st.billingReason,
      nextRenewalDate,
      paidThrough: st.periodPaid && st.periodStart ? addDays(next.start, -1) : null,
      pausedDaysCredited: st.creditedDaysTotal,
    };
    await flow.step('sync_subscription', () => acts.syncSubscription(sub.id, patch), skip('this update of the subscription row'));
    syncedRenewalDate = nextRenewalDate;
  };

  /** One charge attempt for the current period: wallet first, then the payment method. */
  const attemptCharge = async (attempt: number): Promise<{ paid: true } | { paid: false; error: string }> => {
    const charge = { subscriptionId: sub.id, customerId: sub.customerId, period: st.period, attempt, amount: periodAmount() };
    let wallet;
    try {
      wallet = await flow.step('charge_wallet', () => acts.chargeRenewalFromWallet(charge), failsAttempt);
    } catch (err) {
      if (isAbandoned(err)) return { paid: false, error: ABANDONED_ATTEMPT };
      throw err;
    }
    if (wallet.outcome === 'paid') return { paid: true };
    const paymentMethod = st.paymentMethod;
    try {
      let payment = await flow.step('charge_provider', () => acts.chargeRenewalViaProvider({ ...charge, paymentMethod }), failsAttempt);
      let polledSinceConfirmation = false;
      while (payment.status === 'processing') {
        const id = payment.id;
        // A webhook can confirm a payment the provider still reports as processing: poll at once
        // the first time, then at the usual pace rather than in a tight loop.
        if (polledSinceConfirmation && patched('paced-poll-after-confirmation')) await sleep(PAYMENT_POLL_MS);
        else await condition(() => confirmedPayments.has(id), PAYMENT_POLL_MS);
        polledSinceConfirmation = confirmedPayments.has(id);
        payment = await flow.step('poll_payment', () => acts.getRenewalPayment(id), failsAttempt);
      }
      if (payment.status === 'failed') return { paid: false, error: 'payment_failed' };
      const paymentId = payment.id;
      await flow.step('settle_payment', () => acts.settleRenewalViaProvider({ ...charge, paymentId }), failsAttempt);
      return { paid: true };
    } catch (err) {
      if (isAbandoned(err)) return { paid: false, error: ABANDONED_ATTEMPT };
      const failure = err instanceof ActivityFailure && err.cause instanceof ApplicationFailure ? err.cause : null;
      if (failure?.type === 'PaymentDeclined') {
        return { paid: false, error: String((failure.details?.[0] as { code?: string })?.code ?? 'declined') };
      }
      throw err;
    }
  };

  const onPaid = async () => {
    const wasPaymentFailed = st.dunning?.pauseExceptionId ?? null;
    st.periodPaid = true;
    st.billing = 'paid';
    st.billingReason = null;
    st.dunning = null;
    if (wasPaymentFailed) {
      // Payment succeeded: the payment-failure pause ends by itself, nothing for support to do.
      const from = earliest();
      const pause = st.exceptions.filter(
        (e) => e.type === 'skip' && e.reason === 'payment_failure' && (e.endedAt == null || e.endedAt > from),
      );
      // Abandoned while stuck: the pause stays and support resumes it by hand.
      const ended = await endExceptions(pause, from).catch((err) => {
        if (isNotSaved(err)) return null;
        throw err;
      });
      if (ended)
        await notify(
          `subscription-${sub.id}:payment-recovered-${st.period}`,
          'payment_recovered',
          `Payment received. Deliveries resume on ${from}.`,
          { from },
        );
    }
    await syncBilling();
  };

  const onDeclined = async (error: string) => {
    const d = st.dunning!;
    d.lastError = error;
    const nextRetry = dunningRetryAt(d.firstFailedAtMs, settings.dunningRetryDays, d.retriesDone + 1);
    d.nextRetryAtMs = nextRetry;
    if (nextRetry !== null) {
      st.billing = 'retrying';
      st.billingReason = `renewal declined (${error}); retrying`;
      const retrying = {
        subscriptionId: sub.id,
        period: st.period,
        status: 'retrying' as const,
        attempts: d.attempts,
        lastError: error,
        nextRetryAt: new Date(nextRetry).toISOString(),
      };
      await flow.step('record_renewal', () => acts.recordRenewalState(retrying), skip('recording the retry on the renewal row'));
      if (d.attempts === 1) {
        await notify(
          `subscription-${sub.id}:payment-declined-${st.period}`,
          'payment_declined',
          `Your renewal payment was declined (${error}). We will retry; you can update your payment method.`,
        );
      }
    } else {
      // Abandoned while stuck, the payment-failure pause is not added (deliveries go on unpaid until support acts).
      const pausing =
        d.pauseExceptionId === null
          ? addException('skip', earliest(), null, undefined, 'payment_failure', 'system:dunning').catch((err) => {
              if (isNotSaved(err)) return null;
              throw err;
            })
          : null;
      st.billing = 'payment_failed';
      st.billingReason = `renewal declined ${d.attempts} times (${error}); paused until the payment method is updated`;
      const ex = pausing ? await pausing : null;
      if (ex) {
        d.pauseExceptionId = ex.id;
        await notify(
          `subscription-${sub.id}:payment-method-required-${st.period}`,
          'payment_method_required',
          `We could not collect your renewal payment. Deliveries are paused from ${ex.from}; update your payment method to resume.`,
          { pausedFrom: ex.from },
        );
      }
      const failed = {
        subscriptionId: sub.id,
        period: st.period,
        status: 'payment_failed' as const,
        attempts: d.attempts,
        lastError: error,
        nextRetryAt: null,
      };
      await flow.step('record_renewal', () => acts.recordRenewalState(failed), skip('recording the failure on the renewal row'));
    }
    await syncBilling();
  };

  /** What the current period costs: its re-priced charge, or the quote for a period opened before re-pricing. */
  const periodAmount = () => st.periodAmount ?? sub.pricePerPeriod;

  /**
   * The next period's charge under the re-pricing rule (pricing.ts): the units the schedule
   * delivers in it now, plus what the period before delivers beyond (or short of) what it was
   * charged for, so a quantity change or an extra made after a charge is billed with the next one.
   * Null: the quote is charged (a subscription priced before the catalog, or a run that renewed
   * before re-pricing existed).
   */
  const repricedCharge = (start: LocalDate) => {
    const unitPrice = sub.unitPrice;
    if (typeof unitPrice !== 'number' || unitPrice <= 0 || !patched(REPRICING_PATCH)) return null;
    // A period charged before re-pricing paid for the quote: quantity × deliveries per period units.
    const chargedUnits = st.periodUnits ?? Math.round(sub.pricePerPeriod / unitPrice);
    const previous = st.period > 0 && st.periodStart !== null ? { start: st.periodStart, chargedUnits } : null;
    return renewalCharge({
      sub: scheduleSub(),
      exceptions: st.exceptions,
      unitPrice,
      billingPeriod: settings.billingPeriod,
      start,
      previous,
    });
  };

  /** Starts the next period and makes its first charge attempt. */
  const renew = async () => {
    const next = nextPeriod();
    const priced = repricedCharge(next.start);
    st.creditedDaysTotal += next.creditedDays;
    st.period += 1;
    st.periodStart = next.start;
    st.periodPaid = false;
    st.periodAmount = priced ? priced.amount : sub.pricePerPeriod;
    st.periodUnits = priced ? priced.units : undefined;
    if (st.periodAmount === 0) {
      // Nothing to deliver in this period beyond what was already paid for (a skipped period, or a
      // credit for the last one at least as large): nothing is owed, so there is no renewal row
      // (its amount must be positive), no charge and no journal; the period counts as paid and the
      // next renewal prices from it (its units: none, or what this one delivers). A credit larger
      // than this period's units is not carried further (pricing.ts).
      return onPaid();
    }
    const renewal = { subscriptionId: sub.id, period: st.period, periodStart: next.start, amount: st.periodAmount };
    const opened = await flow.step(
      'open_renewal',
      async () => {
        await acts.openRenewal(renewal);
        return true;
      },
      { abandon: { meaning: 'counts this charge attempt as failed; dunning takes over', run: () => false } },
    );
    const result = opened ? await attemptCharge(1) : { paid: false as const, error: ABANDONED_ATTEMPT };
    if (result.paid) return onPaid();
    st.dunning = {
      period: st.period,
      attempts: 1,
      retriesDone: 0,
      firstFailedAtMs: now(),
      nextRetryAtMs: null,
      lastError: result.error,
      pauseExceptionId: null,
    };
    await onDeclined(result.error);
  };

  const retry = async (scheduled: boolean) => {
    const d = st.dunning!;
    d.attempts += 1;
    if (scheduled) d.retriesDone += 1;
    const result = await attemptCharge(d.attempts);
    if (result.paid) return onPaid();
    await onDeclined(result.error);
  };

  const startOfDay = (date: LocalDate) => cutoffInstant(date, tz, '00:00');

  const pauseNotifications = async (): Promise<number> => {
    const events = upcomingPauseEvents(st.exceptions, today(), settings.pauseReminderDays, lastDay());
    for (const e of events) {
      const at = startOfDay(e.date);
      const key =
        e.kind === 'pause_ending' ? `subscription-${sub.id}:pause-ends-${e.date}` : `subscription-${sub.id}:pause-reminder-${e.runStart}`;
      if (st.notified.includes(key)) continue;
      if (at > now()) return at;
      if (e.kind === 'pause_ending') {
        const resumesOn = nextDeliveries(scheduleSub(), st.exceptions, addDays(e.date, 1), 1)[0]?.date ?? null;
        await notify(
          key,
          'pause_ending',
          resumesOn === addDays(e.date, 1)
            ? 'Your pause ends today: deliveries resume tomorrow.'
            : `Your pause ends today; next delivery on ${resumesOn ?? 'no date scheduled'}.`,
          { lastPausedDay: e.date, resumesOn },
        );
      } else {
        await notify(key, 'pause_reminder', `Your deliveries have been paused since ${e.runStart}. Resume any time from the app.`, {
          pausedSince: e.runStart,
        });
      }
    }
    return Infinity;
  };

  /** Start of the next day on which a skip begins or stops applying (FlowStatus paused ↔ active). */
  const nextPauseBoundary = (): number => {
    const boundary = nextSkipBoundary(st.exceptions, today());
    return boundary === null ? Infinity : startOfDay(boundary);
  };

  // ---- the timeline ----
  publishStatus();
  if (st.runs === 1) await syncBilling();
  for (;;) {
    if (st.cancelledFrom !== null) break;
    const last = lastDay();
    if (last !== null && today() > last) break;

    const t = now();
    let paidThisRound = false;
    let next = Infinity;
    if (st.dunning) {
      const due = st.dunning.nextRetryAtMs;
      if (retryNow || (due !== null && t >= due)) {
        const scheduled = !retryNow && due !== null;
        retryNow = false;
        await retry(scheduled);
        if (st.dunning !== null) continue;
        paidThisRound = true;
      } else if (due !== null) next = Math.min(next, due);
    } else {
      const np = nextPeriod();
      const billable = sub.endDate === null || np.start <= sub.endDate;
      if (billable) {
        // The first period is charged when the customer subscribes; later ones the day before they start.
        const at = st.period === 0 ? t : renewalInstant(np.start, tz, settings.renewalTime);
        if (t >= at) {
          await renew();
          paidThisRound = st.periodPaid;
          if (!paidThisRound) continue;
        } else next = Math.min(next, at);
      }
    }

    next = Math.min(next, await pauseNotifications(), nextPauseBoundary());
    if (last !== null) next = Math.min(next, startOfDay(addDays(last, 1)));
    publishStatus();

    const info = workflowInfo();
    if (paidThisRound || info.historyLength >= settings.maxHistoryEvents || info.continueAsNewSuggested) {
      await condition(allHandlersFinished);
      if (st.cancelledFrom === null) {
        st.exceptions = exceptionsToCarry(st.exceptions, today());
        return continueAsNew<typeof subscriptionWorkflow>({ subscription: sub, settings, carried: st });
      }
      continue;
    }

    // A pause or an early resume moves the next renewal: keep the row in step with it.
    if (patched('sync-renewal-date-on-change') && syncedRenewalDate !== renewalDate()) await syncBilling();

    changed = false;
    const wait = next === Infinity ? undefined : sleepUntil(next);
    if (wait === 0) continue;
    if (wait === undefined) await condition(() => changed || retryNow);
    else await condition(() => changed || retryNow, wait);
  }

  await condition(allHandlersFinished);
  if (st.cancelledFrom === null) {
    st.billing = 'ended';
    st.billingReason = `ended after the last delivery day ${lastDay()}`;
    await syncBilling();
  }
  publishStatus();
  return view();
}
