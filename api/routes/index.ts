import type { ApiRouter } from '../router';
import { registerWalletRoutes } from './wallet';
import { registerCheckoutRoutes } from './checkout';
import { registerSellerRoutes } from './sellers';
import { registerMarketRoutes } from './markets';
import { registerWebhookRoutes } from './webhooks';
import { registerSubscriptionRoutes } from './subscriptions';
import { registerOpsRoutes } from './ops';
import { registerAuthRoutes } from './auth';
import { registerMeRoutes } from './me';
import { registerAdminUserRoutes } from './admin-users';
import { registerAuctionRoutes } from './auctions';
import { registerDeliveryRoutes } from './delivery';
import { registerReconciliationRoutes } from './reconciliation';
import { registerCustomerRoutes } from './customers';
import { registerMandateRoutes } from './mandates';

/** Every flow's routes. One module per flow. */
export function registerRoutes(api: ApiRouter): void {
  registerWalletRoutes(api);
  registerCheckoutRoutes(api);
  registerSellerRoutes(api);
  registerMarketRoutes(api);
  registerWebhookRoutes(api);
  registerSubscriptionRoutes(api);
  registerOpsRoutes(api);
  registerAuthRoutes(api);
  registerMeRoutes(api);
  registerAdminUserRoutes(api);
  registerAuctionRoutes(api);
  registerDeliveryRoutes(api);
  registerReconciliationRoutes(api);
  registerCustomerRoutes(api);
  registerMandateRoutes(api);
}
