/**
 * The subscription flow's contract: what the API, activities, support tools, tests and benches may
 * know about the `subscription-<id>` workflow — its id, input, state, messages (one name per
 * action: the signal and the update of an action share it), FlowStatus values and the keys its
 * steps write under. The renewal payment's webhook confirmation is the shared
 * `paymentConfirmedSignal` (contracts/provider-payment.ts).
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { Decision, LocalDate, ScheduleException } from '../domain/schedule';
import type {
  BillingState,
  DunningState,
  SubscriptionCarriedState,
  SubscriptionFlowStatus,
  SubscriptionRecord,
  SubscriptionSettings,
} from '../domain/subscription';
import type { StuckFields } from './stuck';

export type { SubscriptionFlowStatus, SubscriptionRecord, SubscriptionSettings } from '../domain/subscription';

export const subscriptionWorkflowId = (subscriptionId: string) => `subscription-${subscriptionId}`;

/** Every FlowStatus a subscription shows (search attribute and `state.flowStatus`); `stuck` while a step is parked. */
export const SUBSCRIPTION_FLOW_STATUSES = [
  'active',
  'paused',
  'retrying_payment',
  'payment_failed',
  'cancelled',
  'ended',
  'stuck',
] as const satisfies readonly (SubscriptionFlowStatus | 'stuck')[];

/** The FlowStatus a new subscription is started with (its first run shows the real one at once). */
export const INITIAL_FLOW_STATUS: SubscriptionFlowStatus = 'active';

// ---- input and carried state ----

/** What a run carries on top of the domain's state: the current period's charge, once re-priced. */
export interface SubscriptionRunState extends SubscriptionCarriedState {
  /** Paise charged (or being charged) for the current period; absent: the quoted `pricePerPeriod`. */
  periodAmount?: number;
  /** Units the current period's charge paid for (its own, without the previous period's adjustment). */
  periodUnits?: number;
  /** The mandate the customer paused or revoked (token.paused / token.cancelled): it is not debited again. */
  mandateBlocked?: MandateStatusChange | null;
  /**
   * The latest updates this subscription answered, newest last. Temporal recognises a repeated
   * update id only within one run, and a subscription hands over to a new run after each paid
   * period: a retry that lands in the next run is answered from here instead of applied again.
   */
  answeredUpdates?: AnsweredUpdate[];
}

/** An update's id and the result it was answered with. */
export interface AnsweredUpdate {
  id: string;
  result: unknown;
}

export interface SubscriptionWorkflowInput {
  subscription: SubscriptionRecord;
  settings?: Partial<SubscriptionSettings>;
  /** Set by continue-as-new only. */
  carried?: SubscriptionRunState;
}

/** Kept for callers of the earlier name: a run's input is the workflow's input. */
export type SubscriptionRunInput = SubscriptionWorkflowInput;

// ---- requests (a signal and its update share them; `createdBy` defaults to the customer) ----

export interface PauseRequest {
  from: LocalDate;
  /** Last paused day (inclusive); null = until resumed. */
  to: LocalDate | null;
  reason?: string;
  createdBy?: string;
}
export interface ResumeRequest {
  /** First delivery day again; default the earliest changeable date. */
  from?: LocalDate;
  createdBy?: string;
}
export interface SkipRequest {
  from: LocalDate;
  to: LocalDate;
  reason?: string;
  createdBy?: string;
}
export interface ExtraRequest {
  date: LocalDate;
  quantity: number;
  reason?: string;
  createdBy?: string;
}
export interface QuantityRequest {
  from: LocalDate;
  /** Last day (inclusive) of the change. */
  to: LocalDate;
  quantity: number;
  reason?: string;
  createdBy?: string;
}
export interface CancelRequest {
  /** First day without delivery; default the earliest changeable date. */
  from?: LocalDate;
  reason?: string;
  createdBy?: string;
}
export interface PaymentMethodRequest {
  paymentMethod: string;
  createdBy?: string;
}

// ---- results ----

export interface ExceptionAccepted {
  exceptionId: string;
}
export interface ResumeResult {
  ended: string[];
}
export interface CancelResult {
  cancelledFrom: string;
}
export interface PaymentMethodResult {
  retried: boolean;
}

/** The workflow's result, and the body of its `state` query without the stuck step. */
export interface SubscriptionStateView {
  subscriptionId: string;
  customerId: string;
  flowStatus: SubscriptionFlowStatus;
  /** Why it is in that state, in words support can read out. */
  why: string;
  today: LocalDate;
  earliestChangeableDate: LocalDate;
  quantity: number;
  paymentMethod: string;
  cancelledFrom: LocalDate | null;
  period: number;
  periodStart: LocalDate | null;
  periodPaid: boolean;
  nextPeriodStart: LocalDate;
  nextRenewalDate: LocalDate | null;
  creditedDaysTotal: number;
  billing: BillingState;
  billingReason: string | null;
  dunning: DunningState | null;
  exceptions: ScheduleException[];
  /** The last signal that was ignored as invalid, for support. */
  lastRejected: { request: string; codes: string[]; at: string } | null;
  runs: number;
}

/**
 * The `state` query: the subscription's view, with the step it is stuck on (FlowStatus `stuck`) and
 * what the current period costs (paise; null before the first renewal).
 */
export type SubscriptionFlowView = Omit<SubscriptionStateView, 'flowStatus'> & {
  flowStatus: SubscriptionFlowStatus | 'stuck';
  periodAmount: number | null;
} & StuckFields;

/**
 * The subscriptions row is a projection of the workflow's state: the workflow writes all of it,
 * through one activity, after every change. The API reads it and never merges the two.
 */
export interface SubscriptionProjection {
  status: 'active' | 'cancelled';
  cancelledFrom: LocalDate | null;
  paymentMethod: string;
  billingState: BillingState;
  billingReason: string | null;
  nextRenewalDate: LocalDate | null;
  paidThrough: LocalDate | null;
  pausedDaysCredited: number;
  /**
   * Where this write stands among the row's writes: the workflow time it was made at, then its place
   * in the run. The row keeps the newest, whatever order the activities land in. (A task scheduled
   * before writes were ordered has none; it lands only on a row never written in order.)
   */
  order?: { atMs: number; seq: number };
}

// ---- messages ----
// Signals are fire-and-forget (CLI, UI, support tools): an invalid one changes nothing and is
// noted in the state. Updates are the API's path: the validator rejects a bad request (a
// `rejection('invalid', …)`, domain/rejection.ts) and nothing is written.

export const pauseSignal = defineSignal<[PauseRequest]>('pause');
export const resumeSignal = defineSignal<[ResumeRequest?]>('resume');
export const skipSignal = defineSignal<[SkipRequest]>('skip');
export const deliverExtraSignal = defineSignal<[ExtraRequest]>('deliverExtra');
export const changeQuantitySignal = defineSignal<[QuantityRequest]>('changeQuantity');
export const cancelSignal = defineSignal<[CancelRequest?]>('cancel');
export const paymentMethodUpdatedSignal = defineSignal<[PaymentMethodRequest]>('paymentMethodUpdated');
/** An exception a bulk job already recorded in Postgres (a regional holiday). Signal only. */
export const exceptionAddedSignal = defineSignal<[ScheduleException]>('exceptionAdded');

export const pauseUpdate = defineUpdate<ExceptionAccepted, [PauseRequest]>('pause');
export const resumeUpdate = defineUpdate<ResumeResult, [ResumeRequest]>('resume');
export const skipUpdate = defineUpdate<ExceptionAccepted, [SkipRequest]>('skip');
export const deliverExtraUpdate = defineUpdate<ExceptionAccepted, [ExtraRequest]>('deliverExtra');
export const changeQuantityUpdate = defineUpdate<ExceptionAccepted, [QuantityRequest]>('changeQuantity');
export const cancelUpdate = defineUpdate<CancelResult, [CancelRequest]>('cancel');
export const paymentMethodUpdate = defineUpdate<PaymentMethodResult, [PaymentMethodRequest]>('paymentMethodUpdated');

/**
 * The updates' names before each action had one name. Workflows started before (and their
 * recorded histories) carry updates under these names, so the workflow answers them as well;
 * nothing sends them any more.
 */
export const legacyUpdates = {
  pause: defineUpdate<ExceptionAccepted, [PauseRequest]>('requestPause'),
  resume: defineUpdate<ResumeResult, [ResumeRequest]>('requestResume'),
  skip: defineUpdate<ExceptionAccepted, [SkipRequest]>('requestSkip'),
  deliverExtra: defineUpdate<ExceptionAccepted, [ExtraRequest]>('requestDeliverExtra'),
  changeQuantity: defineUpdate<ExceptionAccepted, [QuantityRequest]>('requestChangeQuantity'),
  cancel: defineUpdate<CancelResult, [CancelRequest]>('requestCancel'),
  paymentMethod: defineUpdate<PaymentMethodResult, [PaymentMethodRequest]>('requestPaymentMethodUpdate'),
};

export const stateQuery = defineQuery<SubscriptionFlowView>('state');
/** The next `n` deliveries (default 10, at most 100) from a date (default the earliest changeable one). */
export const nextDeliveriesQuery = defineQuery<Decision[], [number?, string?]>('nextDeliveries');

// ---- keys ----

/** Deterministic key of one charge attempt: provider idempotency key and ledger key alike. */
export const renewalAttemptKey = (subscriptionId: string, period: number, attempt: number) =>
  `subscription-${subscriptionId}:renewal-${period}:attempt-${attempt}`;

/** The key of one method of one attempt in subscription_renewal_attempts. */
export const renewalAttemptMethodKey = (subscriptionId: string, period: number, attempt: number, method: string) =>
  `${renewalAttemptKey(subscriptionId, period, attempt)}:${method}`;

/** Notification keys: each notice is sent at most once per key. */
export const noticeKeys = {
  paymentRecovered: (subscriptionId: string, period: number) => `subscription-${subscriptionId}:payment-recovered-${period}`,
  paymentDeclined: (subscriptionId: string, period: number) => `subscription-${subscriptionId}:payment-declined-${period}`,
  paymentMethodRequired: (subscriptionId: string, period: number) => `subscription-${subscriptionId}:payment-method-required-${period}`,
  pauseEnds: (subscriptionId: string, lastPausedDay: LocalDate) => `subscription-${subscriptionId}:pause-ends-${lastPausedDay}`,
  pauseReminder: (subscriptionId: string, pausedSince: LocalDate) => `subscription-${subscriptionId}:pause-reminder-${pausedSince}`,
};

/** The pre-debit notice of a mandate's charge attempt (and its provider order's key). */
export const mandateNoticeKey = (subscriptionId: string, period: number, attempt: number) =>
  `${renewalAttemptKey(subscriptionId, period, attempt)}:pre-debit`;

/** Notices of recurring debits: the pre-debit notification, and "your mandate stopped, add a payment method". */
export const mandateNoticeKeys = {
  preDebit: (subscriptionId: string, period: number, attempt: number) => `subscription-${subscriptionId}:pre-debit-${period}-${attempt}`,
  mandateStopped: (subscriptionId: string, paymentMethod: string) => `subscription-${subscriptionId}:mandate-stopped-${paymentMethod}`,
};

// ---- recurring debits (mandates) ----

/**
 * A mandate is charged through its payment-method token `pm_mandate_<id>` (db/mandates.ts), so
 * attaching one is the ordinary payment-method update.
 */
export const MANDATE_PAYMENT_METHOD = /^pm_mandate_[a-z0-9]{1,29}$/;
export const isMandatePaymentMethod = (paymentMethod: string | null | undefined): boolean =>
  typeof paymentMethod === 'string' && MANDATE_PAYMENT_METHOD.test(paymentMethod);

/** The mandate rule: the pre-debit notification goes out at least this long (subscription clock) before the debit. */
export const PRE_DEBIT_NOTICE_MS = 24 * 60 * 60 * 1000;

/** Decline codes after which no retry of the same mandate can succeed: the subscription asks for a new payment method at once. */
export const MANDATE_FINAL_ERRORS = ['mandate_paused', 'mandate_cancelled', 'mandate_inactive', 'amount_above_mandate_limit'] as const;

export interface MandateStatusChange {
  /** The mandate's payment-method token. */
  paymentMethod: string;
  status: 'paused' | 'cancelled';
}

/** The provider said the customer paused or revoked the mandate (token.paused / token.cancelled webhooks). Signal only. */
export const mandateStatusSignal = defineSignal<[MandateStatusChange]>('mandateStatusChanged');

/** Exception ids the workflow hands out: E1, E2, … */
export const exceptionId = (seq: number) => `E${seq}`;
