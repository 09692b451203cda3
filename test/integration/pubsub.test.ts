import { randomUUID } from 'node:crypto';
import { RedisPubSub } from '../../infra/pubsub';
import { testEnv } from '../support/env';

/** Fan-out through real Redis: what a subscriber is promised once its subscribe resolves. */

let bus: RedisPubSub;
let publisher: RedisPubSub;
beforeAll(() => {
  bus = new RedisPubSub(testEnv.redisUrl);
  publisher = new RedisPubSub(testEnv.redisUrl);
});
afterAll(async () => {
  await bus.close();
  await publisher.close();
});

const received = (into: unknown[]) => (m: unknown) => into.push(m);
const eventually = async (check: () => boolean) => {
  for (let i = 0; i < 100 && !check(); i++) await new Promise((r) => setTimeout(r, 20));
};

test('subscribers that join a channel together each get every message published after they joined', async () => {
  const channel = `test:${randomUUID()}`;
  const first: unknown[] = [];
  const second: unknown[] = [];
  // The second subscribe starts while the first one's SUBSCRIBE is still in flight, and its
  // caller publishes as soon as it resolves.
  const joiningFirst = bus.subscribe(channel, received(first));
  const unsubSecond = await bus.subscribe(channel, received(second));
  await publisher.publish(channel, { n: 1 });
  const unsubFirst = await joiningFirst;
  await eventually(() => first.length === 1 && second.length === 1);
  expect(first).toEqual([{ n: 1 }]);
  expect(second).toEqual([{ n: 1 }]);

  // One leaving does not unsubscribe the other.
  await unsubFirst();
  await publisher.publish(channel, { n: 2 });
  await eventually(() => second.length === 2);
  expect(second).toEqual([{ n: 1 }, { n: 2 }]);
  expect(first).toEqual([{ n: 1 }]);
  await unsubSecond();
});

test('after the last subscriber leaves, a new one subscribes afresh', async () => {
  const channel = `test:${randomUUID()}`;
  const before: unknown[] = [];
  const unsub = await bus.subscribe(channel, received(before));
  await unsub();
  const after: unknown[] = [];
  const unsubAfter = await bus.subscribe(channel, received(after));
  await publisher.publish(channel, { n: 3 });
  await eventually(() => after.length === 1);
  expect(after).toEqual([{ n: 3 }]);
  expect(before).toEqual([]);
  await unsubAfter();
});
