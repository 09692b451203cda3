/**
 * Milliseconds since the epoch, to within `RESOLUTION_MS`: a field a timer keeps up to date,
 * because on some machines (VMs with a slow clock source) Date.now() costs ~100 ns — as much as
 * the whole remembered-token check it would serve on every request. Call `startCoarseClock()`
 * before reading `coarseClock.now`.
 */
const RESOLUTION_MS = 20;

export const coarseClock = { now: Date.now() };

let timer: NodeJS.Timeout | null = null;

export function startCoarseClock(): void {
  if (timer) return;
  coarseClock.now = Date.now();
  timer = setInterval(() => {
    coarseClock.now = Date.now();
  }, RESOLUTION_MS);
  // It must never keep a process (a test, a script) alive on its own.
  timer.unref();
}
