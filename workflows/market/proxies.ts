/** The market workflow's activities: lifecycle steps (each safe to repeat) and the matching engine. */
import { ActivityCancellationType, proxyActivities, workflowInfo, type ActivityOptions } from '@temporalio/workflow';
import { marketEngineTaskQueue } from '../../contracts/market';
import type { MarketActivities } from '../../activities/markets';
import type { MarketEngineActivities } from '../../activities/market-engine';

export const steps = proxyActivities<MarketActivities>({
  startToCloseTimeout: '2m',
  heartbeatTimeout: '30s',
  retry: { initialInterval: '200ms', backoffCoefficient: 2, maximumInterval: '10s' },
});

// The engine runs for the whole trading window; a missed heartbeat means its worker died, and
// Temporal starts it again elsewhere within seconds. The engine heartbeats on a timer of half this
// timeout (the SDK sends at most one every 0.8 × timeout), never through Postgres.
const ENGINE_OPTIONS: ActivityOptions = {
  startToCloseTimeout: '7 days',
  heartbeatTimeout: '4s',
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  retry: { initialInterval: '300ms', backoffCoefficient: 2, maximumInterval: '5s' },
};

/** The engine on the workflow's own task queue: how markets started before engines had their own queue run it. */
export const engine = proxyActivities<MarketEngineActivities>(ENGINE_OPTIONS);

/** The engine on the engines' task queue, with its own slot budget (contracts/market.ts#marketEngineTaskQueue). */
export function engineOnItsOwnQueue() {
  return proxyActivities<MarketEngineActivities>({ ...ENGINE_OPTIONS, taskQueue: marketEngineTaskQueue(workflowInfo().taskQueue) });
}
