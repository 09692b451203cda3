import type { Client } from '@temporalio/client';
import type Redis from 'ioredis';
import type { Logger } from '../app/logger';
import type { Db } from '../db/knex';
import type { PaymentProvider } from '../infra/payment-provider';
import type { PayoutProvider } from '../infra/payout-provider';
import type { PubSub } from '../infra/pubsub';

/** What activities may touch: the outside world and our stores. Tests pass real ones (and fake providers). */
export interface ActivityDeps {
  db: Db;
  pubsub: PubSub;
  payments: PaymentProvider;
  /** The bank-payout provider (seller payouts); flows that pay sellers need it. */
  payouts?: PayoutProvider;
  logger: Logger;
  /** For activities that start or signal other workflows (e.g. nightly jobs). */
  temporal?: Client;
  /** Shared state of the API instances (token revocations); absent in a single process. */
  redis?: Redis;
}
