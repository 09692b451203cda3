/**
 * The OpenAPI operationId of every route, keyed by `"<method> <express path>"`. Generated clients
 * name their functions after these (`client.placeMarketOrder(…)`), so an id is a public name:
 * verb + noun, and never renamed once shipped. A route without an entry stops the API at start-up
 * (api/router.ts) and fails test/unit/operation-ids.test.ts.
 */
export const OPERATION_IDS: Readonly<Record<string, string>> = {
  // health (api/health.ts, documented in api/openapi.ts)
  'get /healthz': 'getHealth',
  'get /readyz': 'getReadiness',

  // wallet
  'get /v1/wallet': 'getWallet',
  'get /v1/wallet/ledger': 'listWalletLedger',
  'post /v1/wallet/topups': 'createTopup',
  'get /v1/wallet/topups/:topupId': 'getTopup',

  // checkout
  'post /v1/checkout': 'checkoutCart',
  'get /v1/orders': 'listOrders',
  'get /v1/orders/:orderId': 'getOrder',
  'post /v1/orders/:orderId/cancel': 'cancelOrder',
  'post /v1/orders/:orderId/return': 'returnOrder',
  'post /v1/orders/:orderId/dispatch': 'dispatchOrder',
  'post /v1/orders/:orderId/delivered': 'markOrderDelivered',
  'post /v1/orders/:orderId/refund': 'refundOrder',
  'post /v1/orders/:orderId/retry': 'retryOrderStep',

  // sellers
  'post /v1/sellers': 'registerSeller',
  'post /v1/referrals': 'createReferral',
  'post /v1/sellers/:sellerId/products': 'createSellerProduct',
  'get /v1/sellers/:sellerId/products': 'listSellerProducts',
  'patch /v1/products/:productId': 'updateProduct',
  'get /v1/sellers/:sellerId/balance': 'getSellerBalance',
  'post /v1/sellers/:sellerId/payouts': 'createPayout',
  'get /v1/sellers/:sellerId/payouts': 'listSellerPayouts',
  'get /v1/payouts/:payoutId': 'getPayout',

  // markets
  'post /v1/markets': 'createMarket',
  'get /v1/markets': 'listMarkets',
  'get /v1/markets/:marketId': 'getMarket',
  'post /v1/markets/:marketId/orders': 'placeMarketOrder',
  'get /v1/markets/:marketId/orders': 'listMarketOrders',
  'post /v1/markets/:marketId/orders/:orderId/cancel': 'cancelMarketOrder',
  'get /v1/markets/:marketId/orders/:orderId': 'getMarketOrder',
  'get /v1/markets/:marketId/positions': 'getMarketPositions',
  'post /v1/markets/:marketId/close': 'closeMarket',
  'post /v1/markets/:marketId/resolve': 'resolveMarket',
  'post /v1/markets/:marketId/void': 'voidMarket',
  'post /v1/markets/:marketId/suspend': 'suspendMarket',
  'post /v1/markets/:marketId/resume': 'resumeMarket',
  'post /v1/markets/:marketId/orders/batch': 'placeMarketOrders',
  'post /v1/markets/:marketId/orders/batch-cancel': 'cancelMarketOrders',
  'post /v1/markets/:marketId/orders/cancel-all': 'cancelAllMarketOrders',
  'post /v1/markets/orders/cancel-all': 'cancelAllMyMarketOrders',
  'post /v1/markets/:marketId/orders/:orderId/amend': 'amendMarketOrder',
  'get /v1/markets/:marketId/candles': 'getMarketCandles',
  'get /v1/markets/:marketId/trades': 'listMarketTrades',

  // webhooks
  'post /v1/webhooks/psp': 'receivePaymentWebhook',
  'post /v1/webhooks/razorpay': 'receiveRazorpayWebhook',

  // subscriptions
  'post /v1/subscriptions': 'createSubscription',
  'get /v1/subscriptions': 'listSubscriptions',
  'get /v1/subscriptions/:subscriptionId': 'getSubscription',
  'post /v1/subscriptions/:subscriptionId/pause': 'pauseSubscription',
  'post /v1/subscriptions/:subscriptionId/resume': 'resumeSubscription',
  'post /v1/subscriptions/:subscriptionId/skip': 'skipSubscriptionDeliveries',
  'post /v1/subscriptions/:subscriptionId/extra': 'addExtraDelivery',
  'post /v1/subscriptions/:subscriptionId/quantity': 'changeSubscriptionQuantity',
  'post /v1/subscriptions/:subscriptionId/cancel': 'cancelSubscription',
  'post /v1/subscriptions/:subscriptionId/mandate/authorisation': 'startSubscriptionMandate',
  'post /v1/subscriptions/:subscriptionId/mandate': 'attachSubscriptionMandate',
  'post /v1/subscriptions/:subscriptionId/payment-method': 'updateSubscriptionPaymentMethod',
  'get /v1/subscriptions/:subscriptionId/deliveries': 'listSubscriptionDeliveries',
  'get /v1/subscriptions/:subscriptionId/explain': 'explainSubscriptionDelivery',
  'get /v1/subscriptions/:subscriptionId/renewals': 'listSubscriptionRenewals',
  'post /v1/admin/products': 'createSubscribableProduct',
  'post /v1/admin/subscriptions/holidays': 'declareRegionHoliday',

  // auctions
  'post /v1/shows': 'createShow',
  'get /v1/shows/:showId': 'getShow',
  'post /v1/shows/:showId/start': 'startAuctionShow',
  'post /v1/shows/:showId/pause': 'pauseAuctionShow',
  'post /v1/shows/:showId/resume': 'resumeAuctionShow',
  'post /v1/shows/:showId/end': 'endAuctionShow',
  'post /v1/shows/:showId/lots/:lotId/start': 'startShowLot',
  'post /v1/auctions': 'createLot',
  'get /v1/auctions/:lotId': 'getLot',
  'get /v1/auctions/:lotId/bids': 'listLotBids',
  'post /v1/auctions/:lotId/bids': 'placeBid',
  'post /v1/auctions/:lotId/buy-now': 'buyLotNow',
  'post /v1/auctions/:lotId/cancel': 'cancelLot',
  'post /v1/auctions/:lotId/second-chance': 'offerLotSecondChance',
  'get /v1/auctions/:lotId/state': 'getLotState',
  'post /v1/auctions/offers/:offerId/accept': 'acceptSecondChanceOffer',
  'post /v1/auctions/offers/:offerId/decline': 'declineSecondChanceOffer',
  'get /v1/me/bids': 'listMyBids',
  'get /v1/me/wins': 'listMyWins',
  'get /v1/me/offers': 'listMyOffers',

  // auth
  'post /v1/auth/otp': 'sendLoginCode',
  'post /v1/auth/otp/verify': 'verifyLoginCode',
  'post /v1/auth/refresh': 'refreshTokens',
  'post /v1/auth/logout': 'endCurrentSession',
  'get /v1/auth/sessions': 'listSessions',
  'delete /v1/auth/sessions/:sessionId': 'endSession',
  'post /v1/auth/logout-all': 'endAllSessions',
  'get /v1/dev/otp-outbox': 'listSandboxOtpMessages',

  // account
  'get /v1/me': 'getMyAccount',
  'put /v1/me/phone': 'changeMyPhone',
  'post /v1/me/deletion': 'requestAccountDeletion',
  'get /v1/me/deletion': 'getAccountDeletion',
  'delete /v1/me/deletion': 'cancelAccountDeletion',
  'get /v1/admin/users': 'findUserByPhone',
  'get /v1/admin/users/:userId': 'getUser',
  'post /v1/admin/users/:userId/roles': 'changeUserRoles',
  'put /v1/admin/users/:userId/sellers/:sellerId': 'linkUserToSeller',
  'delete /v1/admin/users/:userId/sellers/:sellerId': 'unlinkUserFromSeller',
  'get /v1/admin/users/:userId/deletion': 'getUserDeletion',
  'post /v1/admin/users/:userId/deletion/cancel': 'cancelUserDeletion',

  // delivery (fulfilment)
  'get /v1/delivery/areas': 'listDeliveryAreas',
  'get /v1/delivery/route': 'getDeliveryRouteSheet',
  'post /v1/delivery/deliveries/:deliveryId/delivered': 'reportDeliveryDelivered',
  'post /v1/delivery/deliveries/:deliveryId/failed': 'reportDeliveryFailed',
  'post /v1/delivery/sync': 'syncDeliveryOutcomes',
  'put /v1/delivery/subscriptions/:subscriptionId/address': 'setSubscriptionDeliveryAddress',
  'post /v1/ops/deliveries/:deliveryId/correct': 'correctDeliveryOutcome',
  'get /v1/ops/deliveries/summary': 'getDeliveryDaySummary',
  'put /v1/ops/delivery/areas/:areaId/sequence': 'setDeliveryAreaSequence',
  'put /v1/admin/delivery/areas/:areaId': 'upsertDeliveryArea',
  'put /v1/admin/delivery/areas/:areaId/staff/:userId': 'assignDeliveryStaff',
  'delete /v1/admin/delivery/areas/:areaId/staff/:userId': 'unassignDeliveryStaff',

  // ops
  'get /v1/ops/alerts': 'listOpsAlerts',
  'post /v1/ops/flows/:workflowId/retry': 'retryFlowStep',
  'post /v1/ops/flows/:workflowId/abandon': 'abandonFlowStep',
  'get /v1/ops/reconciliation': 'listReconciliationItems',
  'post /v1/ops/reconciliation/:kind/:ref/:action': 'resolveReconciliationItem',
  'get /v1/ops/customers': 'getCustomerOverview',
};

export const operationKey = (method: string, path: string) => `${method} ${path}`;

/** The route's operationId; a route nobody named is a programming error, caught before serving. */
export function operationIdFor(method: string, path: string): string {
  const id = OPERATION_IDS[operationKey(method, path)];
  if (!id) {
    throw new Error(`No operationId for "${operationKey(method, path)}": add it to api/operation-ids.ts (verb + noun, e.g. 'getWallet')`);
  }
  return id;
}
