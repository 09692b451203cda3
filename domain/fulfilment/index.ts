/**
 * Fulfilment rules (pure, deterministic; safe inside workflows): delivery ids, the outcome rules
 * for late and repeated reports, the missed-delivery credit policy, the delivery day in an area's
 * time zone, the route sheet's version token and the loyalty streak.
 */
export * from './types';
export * from './delivery-id';
export * from './credit-policy';
export * from './day';
export * from './outcome';
export * from './route-version';
export * from './streak';
