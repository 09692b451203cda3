import type { ActivityDeps } from './deps';
import { createIdempotencyKeyActivities } from './idempotency-keys';
import { createLedgerActivities } from './ledger';
import { createTopupActivities } from './topup';
import { createCheckoutActivities } from './checkout';
import { createPayoutActivities } from './payout';
import { createMarketActivities } from './markets';
import { createMarketEngineActivities } from './market-engine';
import { createSubscriptionActivities } from './subscriptions';
import { createSubscriptionGenerationActivities } from './subscription-generation';

/** Every activity the Mandi worker registers, bound to its dependencies. */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createLedgerActivities(deps),
    ...createIdempotencyKeyActivities(deps),
    ...createTopupActivities(deps),
    ...createCheckoutActivities(deps),
    ...createPayoutActivities(deps),
    ...createMarketActivities(deps),
    ...createMarketEngineActivities(deps),
    ...createSubscriptionActivities(deps),
    ...createSubscriptionGenerationActivities(deps),
  };
}
