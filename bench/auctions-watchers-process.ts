/**
 * The 500 WebSocket watchers of bench/auctions.ts in a process of their own, so the moment a
 * watcher sees an update is not delayed by the bidders' HTTP work in the bench's event loop (nor
 * the bidders' answers by the watchers' frames). Args: <ws url> <lot id> <watchers>. Over IPC it
 * answers "ready" once every watcher has its snapshot, then each {op: 'report'} with, per version,
 * how many watchers have seen it and when the last of them did (epoch ms, from
 * performance.timeOrigin, comparable across processes), the frames received and the watchers lost.
 */
import { watchLot } from './support/lot-watchers';

export interface WatchersReport {
  seenBy: number[];
  seenByAllAt: Array<number | null>;
  frames: number;
  lost: number;
}

async function main(): Promise<void> {
  const [url, lotId, n] = process.argv.slice(2);
  const watchers = await watchLot(url, lotId, Number(n));
  let highest = 0;
  process.on('message', (m: { op: string; upTo?: number }) => {
    if (m.op === 'close') {
      watchers.close();
      process.exit(0);
    }
    if (m.op !== 'report') return;
    highest = Math.max(highest, m.upTo ?? 0);
    const seenBy: number[] = [];
    const seenByAllAt: Array<number | null> = [];
    for (let v = 0; v <= highest; v++) {
      seenBy.push(watchers.seenBy(v));
      const at = watchers.seenByAllAt(v);
      seenByAllAt.push(at === undefined ? null : performance.timeOrigin + at);
    }
    const report: WatchersReport = { seenBy, seenByAllAt, frames: watchers.frames(), lost: watchers.lost() };
    process.send!(report);
  });
  process.send!('ready');
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
