/** Workflow IDs are readable business keys; starting one twice never starts a second flow. */
export const topupWorkflowId = (topupId: string) => `topup-${topupId}`;
export const subscriptionWorkflowId = (subscriptionId: string) => `subscription-${subscriptionId}`;
export const checkoutWorkflowId = (orderId: string) => `checkout-${orderId}`;
export const payoutWorkflowId = (payoutId: string) => `payout-${payoutId}`;
export const marketWorkflowId = (marketId: string) => `market-${marketId}`;
