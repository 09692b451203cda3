import type { ActivityDeps } from './deps';
import { withFailureRules } from './failures';
import { createFlowAlertActivities } from './flow-alerts';
import { createIdempotencyKeyActivities } from './idempotency-keys';
import { createLedgerActivities } from './ledger';
import { createTopupActivities } from './topup';
import { createCheckoutActivities } from './checkout';
import { createPayoutActivities } from './payout';
import { createMarketActivities } from './markets';
import { createMarketEngineActivities } from './market-engine';
import { createSubscriptionActivities } from './subscriptions';
import { createSubscriptionGenerationActivities } from './subscription-generation';
import { createAccountDeletionActivities } from './account-deletion';
import { createAuctionActivities } from './auctions';
import { createFulfilmentActivities } from './fulfilment';

/**
 * Every activity the Mandi worker registers, bound to its dependencies. All of them go through one
 * failure rule (activities/failures.ts): a failure no retry can fix comes back to the workflow as a
 * non-retryable `UnfixableData`, on which the flow parks as `stuck` instead of retrying for ever.
 */
export function createActivities(deps: ActivityDeps) {
  return withFailureRules({
    ...createLedgerActivities(deps),
    ...createIdempotencyKeyActivities(deps),
    ...createFlowAlertActivities(deps),
    ...createTopupActivities(deps),
    ...createCheckoutActivities(deps),
    ...createPayoutActivities(deps),
    ...createMarketActivities(deps),
    ...createMarketEngineActivities(deps),
    ...createSubscriptionActivities(deps),
    ...createSubscriptionGenerationActivities(deps),
    ...createAccountDeletionActivities(deps),
    ...createAuctionActivities(deps),
    ...createFulfilmentActivities(deps),
  });
}
