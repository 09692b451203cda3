/**
 * What a subscription accepts: the same checks for an update's validator (the API's path, which
 * answers with the rejection) and a signal (the CLI's, which notes it in `lastRejected`). A refusal
 * is `rejection('invalid', <first code>, …, { codes })`: the API answers 422 with that code.
 */
import {
  CHANGE_REASONS,
  PAUSE_REASONS,
  SKIP_REASONS,
  dateBoundsErrors,
  isAllowedReason,
  isSupportedLocalDate,
  isValidLocalDate,
  validateExceptionRequest,
  type ExceptionType,
  type LocalDate,
  type ScheduleException,
} from '../../domain/schedule';
import { resumablePauses } from '../../domain/subscription';
import { isPaymentMethodToken } from '../../domain/rules';
import { readRejection, rejection } from '../../domain/rejection';
import type {
  CancelRequest,
  ExtraRequest,
  PauseRequest,
  PaymentMethodRequest,
  QuantityRequest,
  ResumeRequest,
  SkipRequest,
} from '../../contracts/subscription';
import type { SubscriptionEntity } from './entity';

export function invalid(codes: string[], message?: string) {
  return rejection('invalid', codes[0], message ?? `invalid request: ${codes.join(', ')}`, { codes });
}

/** The codes of a refusal raised by `invalid` (or ['invalid'] for anything else). */
export const rejectionCodes = (err: unknown): string[] => (readRejection(err)?.details.codes as string[] | undefined) ?? ['invalid'];

type Bounds = { startDate?: LocalDate; endDate: LocalDate | null };

export function createValidators(e: SubscriptionEntity) {
  const { sub } = e;
  /** The subscription's life: a change may not begin before its start nor reach past its end. */
  const life: Bounds = { startDate: sub.startDate, endDate: sub.endDate };
  /** A cancel or a resume is bounded by the end only: cancelling before the first delivery is allowed. */
  const endOnly: Bounds = { endDate: sub.endDate };
  const context = (bounds: Bounds) => ({ today: e.today(), nowMs: e.now(), timezone: e.tz, cutoff: e.settings.cutoff, ...bounds });

  const assertOpen = () => {
    if (e.st.cancelledFrom !== null) throw invalid(['subscription_cancelled'], `subscription cancelled from ${e.st.cancelledFrom}`);
  };
  const range = (type: ExceptionType, from: LocalDate, to: LocalDate | null, bounds: Bounds, quantity?: number | null) => {
    assertOpen();
    const codes: string[] = validateExceptionRequest({ type, from, to, quantity: type === 'skip' ? undefined : quantity }, context(bounds));
    const last = e.lastDay();
    if (codes.length === 0 && last !== null && from > last) codes.push('after_subscription_end');
    if (codes.length) throw invalid(codes);
  };
  // The reason lists are the API's (domain/schedule/reasons.ts), so both accept the same requests.
  const reason = (value: unknown, allowed: readonly string[]) => {
    if (value !== undefined && !isAllowedReason(allowed, value))
      throw invalid(['invalid_reason'], `reason must be one of ${allowed.join(', ')}`);
  };

  return {
    pause(r: PauseRequest) {
      reason(r.reason, PAUSE_REASONS);
      range('skip', r.from, r.to ?? null, life);
    },
    skip(r: SkipRequest) {
      reason(r.reason, SKIP_REASONS);
      range('skip', r.from, r.to, life);
    },
    extra(r: ExtraRequest) {
      reason(r.reason, CHANGE_REASONS);
      range('deliver_extra', r.date, r.date, life, r.quantity);
    },
    quantity(r: QuantityRequest) {
      reason(r.reason, CHANGE_REASONS);
      range('change_quantity', r.from, r.to, life, r.quantity);
    },
    resume(r: ResumeRequest) {
      assertOpen();
      const from = r.from ?? e.earliest();
      const codes: string[] = validateExceptionRequest({ type: 'skip', from, to: null }, context(endOnly));
      if (codes.length) throw invalid(codes);
      if (resumablePauses(e.st.exceptions, from).length === 0)
        throw invalid(['nothing_to_resume'], `no pause of yours covers ${from} or later`);
    },
    cancel(r: CancelRequest) {
      assertOpen();
      if (r.from !== undefined) range('skip', r.from, null, endOnly);
    },
    paymentMethod(r: PaymentMethodRequest) {
      if (!isPaymentMethodToken(r?.paymentMethod)) throw invalid(['invalid_payment_method']);
      assertOpen();
    },
    /**
     * An exception a bulk job already wrote to Postgres (a regional holiday) is not a request, but a
     * hand-sent one may carry any dates: one the timeline cannot compute with would wedge the flow.
     */
    recordedExceptionErrors(ex: ScheduleException): string[] {
      const codes: string[] = [];
      if (ex.type !== 'skip' && ex.type !== 'deliver_extra' && ex.type !== 'change_quantity') codes.push('invalid_type');
      if (!isValidLocalDate(ex.from)) codes.push('invalid_from');
      if (ex.to !== null && !isValidLocalDate(ex.to)) codes.push('invalid_to');
      if (codes.length) return codes;
      if (ex.to !== null && ex.to < ex.from) return ['to_before_from'];
      const far = dateBoundsErrors(ex.from, ex.to, { today: e.today() });
      if (far.length) return far;
      // Left: a date far in the past, outside the calendar the timeline computes in.
      return isSupportedLocalDate(ex.from) ? [] : ['date_out_of_range'];
    },
  };
}

export type SubscriptionValidators = ReturnType<typeof createValidators>;
