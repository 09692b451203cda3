/**
 * `subscription-<id>`: owns one subscription. Each run charges the period that is due, sleeps until
 * the next renewal, a dunning retry or a notice (waking for any change), and continues as new once
 * the period is paid. The pieces are in workflows/subscription/: the entity (state, time, views),
 * its validators and changes, billing, notices, the timeline and the message handlers.
 */
import type { SubscriptionStateView, SubscriptionWorkflowInput } from '../contracts/subscription';
import { listenForPaymentConfirmations } from './provider-payment';
import { flowControl } from './stuck';
import { createBilling } from './subscription/billing';
import { createChanges } from './subscription/changes';
import { SubscriptionEntity } from './subscription/entity';
import { registerHandlers } from './subscription/handlers';
import { createNotices } from './subscription/notices';
import { createTimeline } from './subscription/timeline';
import { createValidators } from './subscription/validation';

export async function subscriptionWorkflow(input: SubscriptionWorkflowInput): Promise<SubscriptionStateView> {
  const sub = new SubscriptionEntity(input);
  // What abandoning a stuck step means is said where each step runs (changes, billing, notices).
  const flow = flowControl({ flowType: 'subscription' });
  const changes = createChanges(sub, flow);
  const notices = createNotices(sub, flow);
  registerHandlers(sub, flow, createValidators(sub), changes);
  const confirmed = listenForPaymentConfirmations();
  const billing = createBilling(sub, { flow, changes, notices, confirmed });
  const timeline = createTimeline(sub, flow);

  timeline.publishStatus();
  if (sub.st.runs === 1) await billing.syncRow();
  while (!sub.finished()) {
    // Charge the period (or the dunning retry) that is due; a decline moved the state on: look again.
    const charged = await billing.chargeDue();
    if (charged.outcome === 'declined') continue;
    const wakeAt = Math.min(charged.nextAt, await notices.sendDuePauseNotices(), timeline.nextDayBoundary());
    timeline.publishStatus();

    if (timeline.dueToContinue(charged.outcome === 'paid')) {
      const next = await timeline.handOver();
      if (next) return timeline.continueAsNew(next);
      continue;
    }
    await billing.keepRowInStep();
    // Sleep until the renewal, a retry or a notice is due — or a change arrives.
    await timeline.sleepUntil(wakeAt);
  }

  await timeline.handOver();
  if (sub.st.cancelledFrom === null) {
    timeline.markEnded();
    await billing.syncRow();
  }
  timeline.publishStatus();
  return sub.view();
}
