import { GroupCommit, type GroupCommitOptions, type Outcome } from '../../db/group-commit';

/** The group-commit batcher shared by order intake and the market engines' store. */

interface Run {
  reqs: number[];
  answer(results?: Array<Outcome<string>>): void;
  fail(err: unknown): void;
}

/** A batcher whose groups are answered by the test; `runs` lists the groups it sent, in order. */
function batcher(options: Partial<GroupCommitOptions<number, string>> = {}) {
  const runs: Run[] = [];
  const g = new GroupCommit<number, string>({
    maxGroup: 3,
    maxInFlight: 1,
    ...options,
    run: (reqs) =>
      new Promise((resolve, reject) =>
        runs.push({ reqs, answer: (results) => resolve(results ?? reqs.map((r) => ({ ok: `r${r}` }))), fail: reject }),
      ),
  });
  return { g, runs };
}

const tick = () => new Promise((r) => setImmediate(r));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('calls made together go in groups of at most maxGroup, in arrival order, on the next turn of the event loop', async () => {
  const { g, runs } = batcher({ maxInFlight: 2 });
  const answers = [1, 2, 3, 4, 5].map((n) => g.call(n));
  expect(runs).toHaveLength(0); // nothing is sent synchronously: more may arrive in this turn
  await tick();
  expect(runs.map((r) => r.reqs)).toEqual([
    [1, 2, 3],
    [4, 5],
  ]);
  // Answered out of order: each caller still gets its own answer.
  runs[1].answer();
  runs[0].answer();
  expect(await Promise.all(answers)).toEqual(['r1', 'r2', 'r3', 'r4', 'r5']);
});

test('while groups are running, calls wait and go together in the next group', async () => {
  const { g, runs } = batcher({ maxGroup: 10 });
  const first = g.call(1);
  await tick();
  expect(runs).toHaveLength(1);
  const later = [2, 3, 4].map((n) => g.call(n));
  await tick();
  expect(runs).toHaveLength(1); // no place free
  runs[0].answer();
  expect(await first).toBe('r1');
  await sleep(5); // the next group goes on the turn after the first one ended
  expect(runs.map((r) => r.reqs)).toEqual([[1], [2, 3, 4]]);
  runs[1].answer();
  expect(await Promise.all(later)).toEqual(['r2', 'r3', 'r4']);
});

test('a short queue is not sent alongside a running group when minGroupAlongside asks for more', async () => {
  const { g, runs } = batcher({ maxGroup: 10, maxInFlight: 2, minGroupAlongside: 3 });
  const a = g.call(1);
  await tick();
  const b = [2, 3].map((n) => g.call(n));
  await tick();
  expect(runs).toHaveLength(1); // two calls would only queue behind the first group
  const c = g.call(4);
  await tick();
  expect(runs.map((r) => r.reqs)).toEqual([[1], [2, 3, 4]]); // three may run alongside
  runs.forEach((r) => r.answer());
  expect(await Promise.all([a, ...b, c])).toEqual(['r1', 'r2', 'r3', 'r4']);
});

test('with a delay, a group gathers calls for that long, and a full one goes at once', async () => {
  jest.useFakeTimers();
  try {
    const { g, runs } = batcher({ maxGroup: 3, maxInFlight: 2, delayMs: 40 });
    const early = g.call(1);
    await jest.advanceTimersByTimeAsync(10);
    const more = g.call(2);
    await jest.advanceTimersByTimeAsync(29);
    expect(runs).toHaveLength(0);
    await jest.advanceTimersByTimeAsync(1);
    expect(runs.map((r) => r.reqs)).toEqual([[1, 2]]);
    const full = [3, 4, 5].map((n) => g.call(n));
    await jest.advanceTimersByTimeAsync(1);
    expect(runs.map((r) => r.reqs)).toEqual([
      [1, 2],
      [3, 4, 5],
    ]);
    runs.forEach((r) => r.answer());
    expect(await Promise.all([early, more, ...full])).toEqual(['r1', 'r2', 'r3', 'r4', 'r5']);
  } finally {
    jest.useRealTimers();
  }
});

test('a group that fails as a whole rejects each of its callers; a call answered with an error fails alone', async () => {
  const { g, runs } = batcher({ maxInFlight: 2 });
  const failing = [1, 2, 3].map((n) => g.call(n));
  const mixed = [4, 5].map((n) => g.call(n));
  await tick();
  const boom = new Error('deadlock');
  runs[0].fail(boom);
  for (const p of failing) await expect(p).rejects.toBe(boom);
  const refused = new Error('refused');
  runs[1].answer([{ ok: 'r4' }, { err: refused }]);
  await expect(mixed[0]).resolves.toBe('r4');
  await expect(mixed[1]).rejects.toBe(refused);

  // The batcher goes on after a failure.
  const next = g.call(6);
  await tick();
  runs[2].answer();
  expect(await next).toBe('r6');
});

test('an answer missing for a call rejects that call rather than leaving it waiting', async () => {
  const { g, runs } = batcher();
  const calls = [1, 2].map((n) => g.call(n));
  await tick();
  runs[0].answer([{ ok: 'r1' }]);
  await expect(calls[0]).resolves.toBe('r1');
  await expect(calls[1]).rejects.toThrow('answered 1 of 2 calls');
});
