/** The market workflow's activities: lifecycle steps (each safe to repeat) and the matching engine. */
import { ActivityCancellationType, proxyActivities } from '@temporalio/workflow';
import type { MarketActivities } from '../../activities/markets';
import type { MarketEngineActivities } from '../../activities/market-engine';

export const steps = proxyActivities<MarketActivities>({
  startToCloseTimeout: '2m',
  heartbeatTimeout: '30s',
  retry: { initialInterval: '200ms', backoffCoefficient: 2, maximumInterval: '10s' },
});

// The engine runs for the whole trading window; a missed heartbeat means its worker died, and
// Temporal starts it again elsewhere within seconds.
export const engine = proxyActivities<MarketEngineActivities>({
  startToCloseTimeout: '7 days',
  heartbeatTimeout: '4s',
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  retry: { initialInterval: '300ms', backoffCoefficient: 2, maximumInterval: '5s' },
});
