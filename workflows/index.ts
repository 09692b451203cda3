// Every workflow the Mandi worker runs. One file per flow.
export * from './ledger-maintenance';
export * from './idempotency-keys';
export * from './topup';
export * from './checkout';
export * from './payout';
export * from './noop';
export * from './market';
export * from './subscription';
export * from './subscription-generation';
export * from './account-deletion';
export * from './auction';
export * from './fulfilment';
