/**
 * Milliseconds since the epoch, to within `RESOLUTION_MS`: read from a variable a timer keeps up
 * to date, because on some machines (VMs with a slow clock source) Date.now() costs ~100 ns —
 * as much as the whole remembered-token check it would serve on every request.
 */
const RESOLUTION_MS = 20;

let now = Date.now();
let timer: NodeJS.Timeout | null = null;

export function coarseNow(): number {
  if (!timer) {
    now = Date.now();
    timer = setInterval(() => {
      now = Date.now();
    }, RESOLUTION_MS);
    // It must never keep a process (a test, a script) alive on its own.
    timer.unref();
  }
  return now;
}
