import { MockActivityEnvironment } from '@temporalio/testing';
import { createMarketEngineActivities } from '../../activities/market-engine';
import { createMarketActivities } from '../../activities/markets';
import type { ActivityDeps } from '../../activities/deps';
import { insertMarket, openMarket } from '../../db/market-lifecycle';
import { InMemoryPubSub } from '../../infra/pubsub';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { eventually, testLogger, uniqueId } from '../support/temporal';

/**
 * A close stops the engine at once: the close step wakes it to look at the market, so it drains
 * and returns without waiting for its fallback watch (set to a minute here, so only the wake-up
 * can be what stops it).
 */

let tdb: TestDatabase;
beforeAll(async () => {
  tdb = await createTestDatabase();
});
afterAll(async () => {
  await tdb?.drop();
});

test('the engine stops within moments of the close, not at its fallback look', async () => {
  const deps = { db: tdb.db, pubsub: new InMemoryPubSub(), logger: testLogger } as unknown as ActivityDeps;
  const marketId = `mk_${uniqueId('').toLowerCase().slice(-20)}`;
  await insertMarket(tdb.db, {
    id: marketId,
    question: 'Will the toss be called right?',
    opensAt: new Date(Date.now() - 1_000),
    closesAt: new Date(Date.now() + 3_600_000),
    feeBps: 0,
    disputeWindowSeconds: 0,
    resolutionDeadlineSeconds: 3600,
    createdBy: 'test',
  });
  await openMarket(tdb.db, marketId);
  const engine = createMarketEngineActivities(deps, { fallbackPollMs: 60_000 });
  const env = new MockActivityEnvironment({ heartbeatTimeoutMs: 4_000 });
  const run = env.run(engine.runMarketEngine, { marketId });
  let stoppedAt = 0;
  void run.then(() => (stoppedAt = Date.now()));
  await eventually(async () => (await tdb.db('market_engines').where({ market_id: marketId }).first()).epoch >= 1, 5_000, 10);
  await new Promise((r) => setTimeout(r, 200)); // idle, waiting for orders

  const closedAt = Date.now();
  await new MockActivityEnvironment().run(createMarketActivities(deps).closeMarket, marketId);
  await run;
  expect(stoppedAt - closedAt).toBeLessThan(500);
});
