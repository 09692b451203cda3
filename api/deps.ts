import type { Client } from '@temporalio/client';
import type Redis from 'ioredis';
import type { Config } from '../app/config';
import type { Logger } from '../app/logger';
import type { Db } from '../db/knex';
import type { PubSub } from '../infra/pubsub';

/** What the API needs: it starts/signals/queries workflows and reads Postgres. */
export interface ApiDeps {
  config: Config;
  db: Db;
  temporal: Client;
  pubsub: PubSub;
  logger: Logger;
  /** Shared rate-limit counters across API instances; in-memory counters without it. */
  redis?: Redis;
}
