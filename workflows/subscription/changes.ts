/**
 * The changes a customer, support or the system makes to a subscription. Each is saved before it
 * counts: the state changes, the step saves it, and a save support abandons (while it is stuck)
 * puts the state back and refuses the change with `not_saved`.
 */
import { DEFAULT_REASON, type ExceptionType, type LocalDate, type ScheduleException } from '../../domain/schedule';
import { resumablePauses } from '../../domain/subscription';
import {
  exceptionId,
  type CancelRequest,
  type ExtraRequest,
  type PauseRequest,
  type PaymentMethodRequest,
  type QuantityRequest,
  type ResumeRequest,
  type SkipRequest,
} from '../../contracts/subscription';
import type { FlowControl, StepOptions } from '../stuck';
import { acts } from './steps';
import type { SubscriptionEntity } from './entity';
import { invalid, rejectionCodes } from './validation';

/** A change support abandoned while saving it was stuck: nothing changed. */
const notSaved = () => invalid(['not_saved'], 'the change could not be saved and support abandoned it; nothing changed');
export const isNotSaved = (err: unknown) => rejectionCodes(err).includes('not_saved');

/** What abandoning a stuck save means: the change is dropped and the subscription stays as it was. */
const dropChange: StepOptions<boolean> = {
  abandon: { meaning: 'drops the change; the subscription stays as it was', run: () => false },
};

export function createChanges(e: SubscriptionEntity, flow: FlowControl) {
  const { st, sub } = e;
  /** Runs a save step; false when support abandoned it. */
  const save = (step: string, run: () => Promise<void>) =>
    flow.step(
      step,
      async () => {
        await run();
        return true;
      },
      dropChange,
    );

  const addException = async (
    type: ExceptionType,
    from: LocalDate,
    to: LocalDate | null,
    quantity: number | undefined,
    reason: string,
    createdBy: string,
  ): Promise<ScheduleException> => {
    const ex: ScheduleException = {
      id: exceptionId(st.nextExceptionSeq++),
      type,
      from,
      to,
      ...(type === 'skip' ? {} : { quantity }),
      reason,
      createdBy,
      createdAt: new Date(e.now()).toISOString(),
      endedAt: null,
    };
    st.exceptions.push(ex);
    e.changed = true;
    if (!(await save('save_exception', () => acts.saveException(sub.id, ex)))) {
      st.exceptions.splice(st.exceptions.indexOf(ex), 1);
      throw notSaved();
    }
    return ex;
  };

  const endExceptions = async (targets: ScheduleException[], from: LocalDate) => {
    const before = targets.map((x) => x.endedAt);
    const ends = targets.map((x) => {
      const endedAt = x.from > from ? x.from : from;
      if (!x.endedAt || x.endedAt > endedAt) x.endedAt = endedAt;
      return { id: x.id, endedAt: x.endedAt };
    });
    e.changed = true;
    const saved = ends.length === 0 || (await save('end_exceptions', () => acts.endExceptions(sub.id, ends)));
    if (!saved) {
      targets.forEach((x, i) => (x.endedAt = before[i]));
      throw notSaved();
    }
    return ends;
  };

  /** A change of the row's own columns: applied to the state, then the projection is written. */
  const changeRow = async <T>(step: string, apply: () => T, revert: () => void): Promise<T> => {
    const result = apply();
    e.changed = true;
    if (!(await save(step, () => acts.syncSubscription(sub.id, e.projection())))) {
      revert();
      throw notSaved();
    }
    return result;
  };

  const accepted = async (ex: Promise<ScheduleException>) => ({ exceptionId: (await ex).id });

  return {
    addException,
    endExceptions,
    pause: (r: PauseRequest) =>
      accepted(addException('skip', r.from, r.to ?? null, undefined, r.reason ?? DEFAULT_REASON.pause, e.who(r.createdBy))),
    skip: (r: SkipRequest) => accepted(addException('skip', r.from, r.to, undefined, r.reason ?? DEFAULT_REASON.skip, e.who(r.createdBy))),
    extra: (r: ExtraRequest) =>
      accepted(addException('deliver_extra', r.date, r.date, r.quantity, r.reason ?? DEFAULT_REASON.change, e.who(r.createdBy))),
    quantity: (r: QuantityRequest) =>
      accepted(addException('change_quantity', r.from, r.to, r.quantity, r.reason ?? DEFAULT_REASON.change, e.who(r.createdBy))),
    async resume(r: ResumeRequest) {
      const from = r.from ?? e.earliest();
      const ends = await endExceptions(resumablePauses(st.exceptions, from), from);
      return { ended: ends.map((x) => x.id) };
    },
    cancel(r: CancelRequest) {
      const before = { cancelledFrom: st.cancelledFrom, dunning: st.dunning, billing: st.billing, billingReason: st.billingReason };
      return changeRow(
        'save_cancel',
        () => {
          const cancelledFrom = r.from ?? e.earliest();
          Object.assign(st, {
            cancelledFrom,
            dunning: null,
            billing: 'ended',
            billingReason: `cancelled by ${e.who(r.createdBy)} from ${cancelledFrom}${r.reason ? ` (${r.reason})` : ''}`,
          });
          return { cancelledFrom };
        },
        () => Object.assign(st, before),
      );
    },
    paymentMethod(r: PaymentMethodRequest) {
      const previous = st.paymentMethod;
      return changeRow(
        'save_payment_method',
        () => {
          st.paymentMethod = r.paymentMethod;
          const retried = st.dunning !== null;
          if (retried) e.retryNow = true;
          return { retried };
        },
        () => {
          st.paymentMethod = previous;
        },
      );
    },
  };
}

export type SubscriptionChanges = ReturnType<typeof createChanges>;
