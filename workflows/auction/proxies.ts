/** The auction workflows' activities: each one transaction, safe to repeat (activities/auctions.ts). */
import { proxyActivities } from '@temporalio/workflow';
import type { AuctionActivities } from '../../activities/auctions';

// Short timeouts and quick retries: a lot must close on time even when a worker dies mid-step.
export const steps = proxyActivities<AuctionActivities>({
  startToCloseTimeout: '10s',
  retry: { initialInterval: '100ms', backoffCoefficient: 2, maximumInterval: '5s' },
});
