import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/** Keyword search attributes ops use to find flows in the Temporal UI. The launchers register these. */
export const CustomerId = defineSearchAttributeKey('CustomerId', SearchAttributeType.KEYWORD);
export const SellerId = defineSearchAttributeKey('SellerId', SearchAttributeType.KEYWORD);
export const MarketId = defineSearchAttributeKey('MarketId', SearchAttributeType.KEYWORD);
export const OrderId = defineSearchAttributeKey('OrderId', SearchAttributeType.KEYWORD);
/** A lot's id on its own workflow, and on the checkout of the order its sale created. */
export const AuctionId = defineSearchAttributeKey('AuctionId', SearchAttributeType.KEYWORD);
export const FlowStatus = defineSearchAttributeKey('FlowStatus', SearchAttributeType.KEYWORD);

export const SEARCH_ATTRIBUTES = [CustomerId, SellerId, MarketId, OrderId, AuctionId, FlowStatus] as const;
