/**
 * The subscription's messages (contracts/subscription.ts): each action as a signal (CLI, UI; an
 * invalid one is noted in `lastRejected`) and as an update (the API; the validator rejects it),
 * plus the bulk job's `exceptionAdded` and the queries.
 */
import type { SignalDefinition, UpdateDefinition } from '@temporalio/common';
import { currentUpdateInfo, log, setHandler } from '@temporalio/workflow';
import { nextDeliveries, type LocalDate } from '../../domain/schedule';
import * as contract from '../../contracts/subscription';
import type { FlowControl } from '../stuck';
import type { SubscriptionChanges } from './changes';
import { isNotSaved } from './changes';
import type { SubscriptionEntity } from './entity';
import { rejectionCodes, type SubscriptionValidators } from './validation';

interface Action<T, R> {
  signal: SignalDefinition<[T]> | SignalDefinition<[T?]>;
  update: UpdateDefinition<R, [T]>;
  legacyUpdate: UpdateDefinition<R, [T]>;
  validate: (r: T) => void;
  run: (r: T) => Promise<R>;
}

/** Enough to cover any retry: a client retries a change for minutes, and a run sees a handful of changes. */
export const ANSWERED_UPDATES_KEPT = 50;

export function registerHandlers(e: SubscriptionEntity, flow: FlowControl, validate: SubscriptionValidators, change: SubscriptionChanges) {
  /** Notes an ignored signal for support (the `state` query's `lastRejected`). */
  const reject = (name: string, codes: string[]) => {
    e.lastRejected = { request: name, codes, at: new Date(e.now()).toISOString() };
    log.warn('signal rejected', { name, codes });
  };

  /** The first answer to this update id, when an earlier run gave one (see `answeredUpdates`). */
  const earlierAnswer = (): { result: unknown } | undefined => {
    const id = currentUpdateInfo()?.id;
    return id === undefined ? undefined : e.st.answeredUpdates?.find((a) => a.id === id);
  };
  /** An update's handler: a retry of an answered update gets the first answer, anything else runs and is remembered. */
  const answerOnce =
    <T, R>(run: (r: T) => Promise<R>) =>
    async (r: T): Promise<R> => {
      const earlier = earlierAnswer();
      if (earlier) return earlier.result as R;
      const result = await run(r);
      const id = currentUpdateInfo()?.id;
      if (id !== undefined) e.st.answeredUpdates = [...(e.st.answeredUpdates ?? []), { id, result }].slice(-ANSWERED_UPDATES_KEPT);
      return result;
    };
  /** The validator lets an answered retry through: it may no longer be valid now that it was applied (nothing left to resume). */
  const validateOnce =
    <T>(validate: (r: T) => void) =>
    (r: T) => {
      if (!earlierAnswer()) validate(r);
    };

  /** Signals run the same validation; an invalid signal changes nothing and is noted for support. */
  function register<T, R>(a: Action<T, R>) {
    const name = a.signal.name;
    setHandler(a.signal as SignalDefinition<[T?]>, async (r?: T) => {
      try {
        a.validate(r ?? ({} as T));
      } catch (err) {
        return reject(name, rejectionCodes(err));
      }
      try {
        await a.run(r ?? ({} as T));
      } catch (err) {
        if (!isNotSaved(err)) throw err;
        e.lastRejected = { request: name, codes: ['not_saved'], at: new Date(e.now()).toISOString() };
      }
    });
    const options = { validator: validateOnce(a.validate) };
    setHandler(a.update, answerOnce(a.run), options);
    setHandler(a.legacyUpdate, answerOnce(a.run), options);
  }

  const c = contract;
  const legacy = c.legacyUpdates;
  register({ signal: c.pauseSignal, update: c.pauseUpdate, legacyUpdate: legacy.pause, validate: validate.pause, run: change.pause });
  register({ signal: c.resumeSignal, update: c.resumeUpdate, legacyUpdate: legacy.resume, validate: validate.resume, run: change.resume });
  register({ signal: c.skipSignal, update: c.skipUpdate, legacyUpdate: legacy.skip, validate: validate.skip, run: change.skip });
  register({
    signal: c.deliverExtraSignal,
    update: c.deliverExtraUpdate,
    legacyUpdate: legacy.deliverExtra,
    validate: validate.extra,
    run: change.extra,
  });
  register({
    signal: c.changeQuantitySignal,
    update: c.changeQuantityUpdate,
    legacyUpdate: legacy.changeQuantity,
    validate: validate.quantity,
    run: change.quantity,
  });
  register({ signal: c.cancelSignal, update: c.cancelUpdate, legacyUpdate: legacy.cancel, validate: validate.cancel, run: change.cancel });
  register({
    signal: c.paymentMethodUpdatedSignal,
    update: c.paymentMethodUpdate,
    legacyUpdate: legacy.paymentMethod,
    validate: validate.paymentMethod,
    run: change.paymentMethod,
  });

  setHandler(c.exceptionAddedSignal, (ex) => {
    if (!ex?.id || e.st.exceptions.some((x) => x.id === ex.id)) return;
    // The row the job wrote stays in Postgres; the API refuses such holidays, so only a hand-sent signal gets here.
    const codes = validate.recordedExceptionErrors(ex);
    if (codes.length) return reject(c.exceptionAddedSignal.name, codes);
    e.st.exceptions.push(ex);
    e.changed = true;
  });

  // Stuck beats the status the schedule gives: support reads the step and the reason first.
  setHandler(c.stateQuery, () => {
    const v = { ...e.view(), periodAmount: e.st.period === 0 ? null : e.periodAmount() };
    const stuck = flow.stuck;
    if (!stuck) return { ...v, stuckStep: null, stuckReason: null };
    return {
      ...v,
      flowStatus: 'stuck' as const,
      why: `Stuck on step ${stuck.step}: ${stuck.reason}`,
      stuckStep: stuck.step,
      stuckReason: stuck.reason,
    };
  });
  setHandler(c.nextDeliveriesQuery, (n = 10, from?: LocalDate) =>
    nextDeliveries(e.scheduleSub(), e.st.exceptions, from ?? e.earliest(), Math.min(Math.max(1, n), 100)),
  );
}
