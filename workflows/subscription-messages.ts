/** The subscription workflow's message names. Stable: support sends them from the CLI and UI too. */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { Decision, ScheduleException } from '../domain/schedule';
import type {
  CancelRequest,
  ExceptionAccepted,
  ExtraRequest,
  PauseRequest,
  PaymentMethodRequest,
  QuantityRequest,
  ResumeRequest,
  SkipRequest,
  SubscriptionStateView,
} from '../domain/subscription';
import type { StuckFields } from '../contracts/stuck';

/**
 * The `state` query: the subscription's view, with the step it is stuck on (FlowStatus `stuck`) and
 * what the current period costs (paise; null before the first renewal).
 */
export type SubscriptionFlowView = Omit<SubscriptionStateView, 'flowStatus'> & {
  flowStatus: SubscriptionStateView['flowStatus'] | 'stuck';
  periodAmount: number | null;
} & StuckFields;

// Signals: fire-and-forget (CLI, UI, support tools). An invalid one is ignored and noted in the state.
export const pauseSignal = defineSignal<[PauseRequest]>('pause');
export const resumeSignal = defineSignal<[ResumeRequest?]>('resume');
export const skipSignal = defineSignal<[SkipRequest]>('skip');
export const deliverExtraSignal = defineSignal<[ExtraRequest]>('deliverExtra');
export const changeQuantitySignal = defineSignal<[QuantityRequest]>('changeQuantity');
export const cancelSignal = defineSignal<[CancelRequest?]>('cancel');
export const paymentMethodUpdatedSignal = defineSignal<[PaymentMethodRequest]>('paymentMethodUpdated');
/** An exception already recorded in Postgres by a bulk job (e.g. a regional holiday). */
export const exceptionAddedSignal = defineSignal<[ScheduleException]>('exceptionAdded');
/** The provider webhook: a renewal payment settled (saves a poll). */
export const subscriptionPaymentConfirmedSignal = defineSignal<[{ paymentId: string }]>('paymentConfirmed');

// Updates: the API's path, so a bad request is rejected by the validator and nothing is written.
export const pauseUpdate = defineUpdate<ExceptionAccepted, [PauseRequest]>('requestPause');
export const resumeUpdate = defineUpdate<{ ended: string[] }, [ResumeRequest]>('requestResume');
export const skipUpdate = defineUpdate<ExceptionAccepted, [SkipRequest]>('requestSkip');
export const deliverExtraUpdate = defineUpdate<ExceptionAccepted, [ExtraRequest]>('requestDeliverExtra');
export const changeQuantityUpdate = defineUpdate<ExceptionAccepted, [QuantityRequest]>('requestChangeQuantity');
export const cancelUpdate = defineUpdate<{ cancelledFrom: string }, [CancelRequest]>('requestCancel');
export const paymentMethodUpdate = defineUpdate<{ retried: boolean }, [PaymentMethodRequest]>('requestPaymentMethodUpdate');

export const stateQuery = defineQuery<SubscriptionFlowView>('state');
export const nextDeliveriesQuery = defineQuery<Decision[], [number?, string?]>('nextDeliveries');
