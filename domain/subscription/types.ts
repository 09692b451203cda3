/**
 * The subscription's domain types: the record, its settings, billing and dunning state. Pure: no
 * side effects. The workflow's input, state view and messages are its contract (contracts/subscription.ts).
 */
import { DEFAULT_CUTOFF, type LocalDate, type Recurrence, type ScheduleException } from '../schedule';

export interface SubscriptionRecord {
  id: string;
  customerId: string;
  productId: string;
  /** Base quantity per rule delivery. */
  quantity: number;
  /**
   * The charge per billing period, paise: computed from the catalog when the customer subscribes
   * (quotePlan in pricing.ts), never sent by the client. The workflow charges it every period.
   */
  pricePerPeriod: number;
  /** The catalog's price per unit per delivery when the customer subscribed (absent on older subscriptions). */
  unitPrice?: number;
  recurrence: Recurrence;
  startDate: LocalDate;
  endDate: LocalDate | null;
  timezone: string;
  region: string;
  paymentMethod: string;
}

/** A billing period length: calendar months (production: 1) or days (tests, weekly plans). */
export type BillingPeriod = { unit: 'month' | 'day'; count: number };

export interface SubscriptionSettings {
  billingPeriod: BillingPeriod;
  /** Dunning: retry a declined renewal this many days after the first decline (default 1, 3, 5, 7). */
  dunningRetryDays: number[];
  /** Nightly order cutoff, local 'HH:mm'. Tomorrow cannot be changed after it. */
  cutoff: string;
  /** Local wall time on the day before a period starts at which it is charged (before that night's cutoff). */
  renewalTime: string;
  /** A continuous pause this long (days) sends the customer a reminder — never a cancel. */
  pauseReminderDays: number;
  /**
   * Length of one subscription day in real milliseconds. 86,400,000 in production; tests run a
   * whole billing cycle in seconds by shortening it (every date rule stays the same).
   */
  dayMs: number;
  /** Tests only: the subscription clock's instant (epoch ms) when the workflow first started. */
  simStartMs: number | null;
  /** Continue-as-new once the run's history has this many events, even mid-period. */
  maxHistoryEvents: number;
}

export const DEFAULT_SUBSCRIPTION_SETTINGS: SubscriptionSettings = {
  billingPeriod: { unit: 'month', count: 1 },
  dunningRetryDays: [1, 3, 5, 7],
  cutoff: DEFAULT_CUTOFF,
  renewalTime: '00:00',
  pauseReminderDays: 90,
  dayMs: 86_400_000,
  simStartMs: null,
  maxHistoryEvents: 5_000,
};

export type BillingState = 'pending' | 'paid' | 'retrying' | 'payment_failed' | 'ended';

export interface DunningState {
  period: number;
  /** Attempts made so far for this period (the first charge is attempt 1). */
  attempts: number;
  /** Scheduled retries already made (attempts after a payment-method update are extra). */
  retriesDone: number;
  /** Subscription-clock instant of the first decline. */
  firstFailedAtMs: number;
  /** Subscription-clock instant of the next automatic retry; null when retries are exhausted. */
  nextRetryAtMs: number | null;
  lastError: string;
  /** Id of the open-ended payment_failure skip added when retries ran out. */
  pauseExceptionId: string | null;
}

/** Everything the workflow carries from one run to the next (continue-as-new). */
export interface SubscriptionCarriedState {
  /** Real and subscription-clock instants pinned when the workflow first started. */
  clockAnchor: { realMs: number; simMs: number };
  quantity: number;
  paymentMethod: string;
  exceptions: ScheduleException[];
  nextExceptionSeq: number;
  cancelledFrom: LocalDate | null;
  /** The current billing period (1-based; 0 before the first renewal). */
  period: number;
  /** First day of the current period. */
  periodStart: LocalDate | null;
  /** Whether the current period has been paid (false while dunning). */
  periodPaid: boolean;
  creditedDaysTotal: number;
  billing: BillingState;
  billingReason: string | null;
  dunning: DunningState | null;
  /** Keys of notifications already sent (pruned to recent ones). */
  notified: string[];
  runs: number;
}

export type SubscriptionFlowStatus = 'active' | 'paused' | 'retrying_payment' | 'payment_failed' | 'cancelled' | 'ended';
