/**
 * What support sees first: the subscription's FlowStatus and one sentence saying why, from the
 * workflow's state. Pure, so every wording can be tested without a workflow.
 */
import type { LocalDate } from '../schedule';
import type { BillingState, DunningState, SubscriptionFlowStatus } from './types';

export interface StatusFacts {
  today: LocalDate;
  cancelledFrom: LocalDate | null;
  /** Last delivery day (end date or the day before cancellation), if any. */
  lastDay: LocalDate | null;
  billing: BillingState;
  billingReason: string | null;
  dunning: DunningState | null;
  /** Scheduled retries in the dunning plan. */
  dunningRetries: number;
  /** Why today is paused (the schedule's explanation), or null when it is not. */
  pausedToday: string | null;
  period: number;
  /** The next renewal date; a function because working it out (vacation credit) is not free. */
  renewalDate: () => LocalDate;
}

export function flowStatusOf(f: StatusFacts): SubscriptionFlowStatus {
  if (f.cancelledFrom !== null) return 'cancelled';
  if (f.lastDay !== null && f.today > f.lastDay) return 'ended';
  if (f.billing === 'payment_failed') return 'payment_failed';
  if (f.billing === 'retrying') return 'retrying_payment';
  return f.pausedToday !== null ? 'paused' : 'active';
}

export function explainStatus(f: StatusFacts): string {
  const d = f.dunning;
  switch (flowStatusOf(f)) {
    case 'cancelled':
      return f.billingReason ?? `cancelled from ${f.cancelledFrom}`;
    case 'ended':
      return `ended: the last delivery day was ${f.lastDay}`;
    case 'payment_failed':
      return `renewal of period ${d?.period} was declined ${d?.attempts} times (last: ${d?.lastError}); deliveries are paused (payment_failure) until the payment method is updated`;
    case 'retrying_payment':
      return `renewal of period ${d?.period} was declined (${d?.lastError}); retry ${(d?.retriesDone ?? 0) + 1} of ${f.dunningRetries} at ${d?.nextRetryAtMs ? new Date(d.nextRetryAtMs).toISOString() : 'once the payment method is updated'}; deliveries continue meanwhile`;
    case 'paused':
      return f.pausedToday!;
    default:
      return f.period === 0
        ? `waiting for the first renewal on ${f.renewalDate()}`
        : `active; period ${f.period} paid, next renewal on ${f.renewalDate()}`;
  }
}
