import WebSocket from 'ws';

/**
 * Many WebSocket clients watching one auction lot, recording for every version of the lot when the
 * last of them first saw it (or a newer one: the gateway never sends a view older than what a
 * watcher has, so a view that overtakes another stands for both).
 */
export interface LotWatchers {
  /** When every watcher had seen `version` or newer (performance.now()), or undefined while some have not. */
  seenByAllAt(version: number): number | undefined;
  /** How many watchers have seen `version` or newer. */
  seenBy(version: number): number;
  /** Watchers that closed or failed after subscribing. */
  lost(): number;
  /** Frames received so far, by all watchers together. */
  frames(): number;
  close(): void;
}

// The version is the only number the bench needs from a frame: read it from the text rather than
// parsing every frame (500 watchers × hundreds of updates a second on a shared 2-core machine,
// where the watchers' CPU is taken from the system under test).
const VERSION_KEY = Buffer.from('"version":');
function versionIn(frame: Buffer): number | null {
  const at = frame.indexOf(VERSION_KEY);
  if (at < 0) return null;
  let v = 0;
  let i = at + VERSION_KEY.length;
  for (; i < frame.length && frame[i] >= 48 && frame[i] <= 57; i++) v = v * 10 + (frame[i] - 48);
  return i === at + VERSION_KEY.length ? null : v;
}

export async function watchLot(wsUrl: string, lotId: string, watchers: number, connectBatch = 50): Promise<LotWatchers> {
  // Per version: how many watchers have seen it (or newer), and when the latest of them did.
  const count: number[] = [];
  const latestAt: number[] = [];
  const sockets: WebSocket[] = [];
  let lost = 0;
  let frames = 0;
  let closing = false;

  const open = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const ws = new WebSocket(wsUrl);
      sockets.push(ws);
      let last = -1;
      ws.on('message', (data: Buffer) => {
        const at = performance.now();
        frames++;
        const v = versionIn(data);
        if (v === null) {
          if (last < 0) reject(new Error(`watcher got ${data.toString()} instead of the lot's snapshot`));
          return;
        }
        if (last < 0) {
          // The snapshot: what the watcher already has when it starts.
          last = v;
          resolve();
          return;
        }
        for (let k = last + 1; k <= v; k++) {
          count[k] = (count[k] ?? 0) + 1;
          if (!(latestAt[k] >= at)) latestAt[k] = at;
        }
        if (v > last) last = v;
      });
      ws.once('open', () => ws.send(JSON.stringify({ op: 'subscribe', lot: lotId })));
      ws.once('error', reject);
      ws.once('close', () => {
        if (!closing) lost++;
      });
    });

  for (let i = 0; i < watchers; i += connectBatch) await Promise.all(Array.from({ length: Math.min(connectBatch, watchers - i) }, open));
  return {
    seenByAllAt: (version) => ((count[version] ?? 0) >= watchers ? latestAt[version] : undefined),
    seenBy: (version) => count[version] ?? 0,
    lost: () => lost,
    frames: () => frames,
    close: () => {
      closing = true;
      for (const ws of sockets) ws.terminate();
    },
  };
}
