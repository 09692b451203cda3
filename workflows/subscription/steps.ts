import { proxyActivities } from '@temporalio/workflow';
import type { SubscriptionActivities } from '../../activities/subscriptions';

/**
 * The subscription's steps. Each is one database transaction or one provider call; a worker that
 * dies mid-step is noticed when this runs out, so it is kept short.
 */
export const acts = proxyActivities<SubscriptionActivities>({
  startToCloseTimeout: '10s',
  retry: { initialInterval: '200ms', backoffCoefficient: 2, maximumInterval: '30s', nonRetryableErrorTypes: ['PaymentDeclined'] },
});

/** What abandoning a stuck bookkeeping step means: it is skipped (the next write catches up). */
export const skipStep = (what: string) => ({ abandon: { meaning: `skips ${what}; the subscription carries on`, run: () => undefined } });
