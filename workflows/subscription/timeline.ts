/**
 * The subscription's clock between charges: its FlowStatus as days pass, the next day something
 * changes (a pause begins or ends, the last delivery day passes), sleeping until then or until a
 * change arrives, and when a run hands over to the next (continue-as-new).
 */
import { allHandlersFinished, condition, makeContinueAsNewFunc, patched, workflowInfo } from '@temporalio/workflow';
import { addDays } from '../../domain/schedule';
import { exceptionsToCarry, nextSkipBoundary } from '../../domain/subscription';
import type { SubscriptionWorkflowInput } from '../../contracts/subscription';
import { CustomerId } from '../search-attributes';
import type { FlowControl } from '../stuck';
import type { SubscriptionEntity } from './entity';
import { startOfDay } from './notices';

/** The next run starts with the summary in its memo, so it is never seen without one. */
const CARRY_SUMMARY_PATCH = 'subscription-carry-summary-memo';

export function createTimeline(e: SubscriptionEntity, flow: FlowControl) {
  let lastFlowStatus: string | null = null;

  return {
    /** Shows the FlowStatus (and the summary in the memo) when it changed. */
    publishStatus() {
      const status = e.flowStatus();
      if (status === lastFlowStatus) return;
      lastFlowStatus = status;
      flow.status(status, e.summary(), [{ key: CustomerId, value: e.sub.customerId }]);
    },

    /** Start of the next day on which a skip begins or stops applying (paused ↔ active), or the day after the last. */
    nextDayBoundary(): number {
      const boundary = nextSkipBoundary(e.st.exceptions, e.today());
      const last = e.lastDay();
      return Math.min(boundary === null ? Infinity : startOfDay(e, boundary), last === null ? Infinity : startOfDay(e, addDays(last, 1)));
    },

    /** A paid period, or a long history: this run hands over to the next. */
    dueToContinue(paid: boolean): boolean {
      const info = workflowInfo();
      return paid || info.historyLength >= e.settings.maxHistoryEvents || info.continueAsNewSuggested;
    },

    /** Once every handler is done: the next run's input, or null when the subscription was cancelled meanwhile. */
    async handOver(): Promise<SubscriptionWorkflowInput | null> {
      await condition(allHandlersFinished);
      if (e.st.cancelledFrom !== null) return null;
      e.st.exceptions = exceptionsToCarry(e.st.exceptions, e.today());
      return { subscription: e.sub, settings: e.settings, carried: e.st };
    },

    continueAsNew(next: SubscriptionWorkflowInput): Promise<never> {
      const options = patched(CARRY_SUMMARY_PATCH) ? { memo: { summary: e.summary() } } : {};
      return makeContinueAsNewFunc(options)(next);
    },

    /** Sleeps until `at` on the subscription clock (Infinity: until a change), or a change arrives. */
    async sleepUntil(at: number): Promise<void> {
      e.changed = false;
      const wait = at === Infinity ? undefined : e.delayUntil(at);
      if (wait === 0) return;
      const woken = () => e.changed || e.retryNow;
      if (wait === undefined) await condition(woken);
      else await condition(woken, wait);
    },

    /** The subscription ended by itself (past its end date): the row says so. */
    markEnded() {
      e.st.billing = 'ended';
      e.st.billingReason = `ended after the last delivery day ${e.lastDay()}`;
    },
  };
}
