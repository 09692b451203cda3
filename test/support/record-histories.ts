import fs from 'node:fs';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';

/**
 * Keeps a replayable sample of what the test run executed: for every workflow type and every way
 * its runs ended (completed, continued-as-new, failed, running…), the smallest, the median and the
 * largest history (up to `maxEvents`) are written to `dir` as `{ workflowId, history }`. Run before a change to workflow code
 * (`RECORD_HISTORIES=test/workflows/histories/<name> npx jest test/workflows test/e2e`); the
 * replay test then proves the changed code still replays them (test/workflows/replay.test.ts).
 */
export async function recordHistories(address: string, dir: string, maxEvents = 3_000): Promise<number> {
  const connection = await Connection.connect({ address });
  const client = new Client({ connection });
  try {
    const byKind = new Map<string, Array<{ workflowId: string; runId: string; events: number }>>();
    for await (const wf of client.workflow.list()) {
      const kind = `${wf.type}.${wf.status.name}`;
      const list = byKind.get(kind) ?? [];
      list.push({ workflowId: wf.workflowId, runId: wf.runId, events: wf.historyLength });
      byKind.set(kind, list);
    }
    fs.mkdirSync(dir, { recursive: true });
    let written = 0;
    for (const [kind, runs] of byKind) {
      const sized = runs.filter((r) => r.events <= maxEvents).sort((a, b) => a.events - b.events);
      const picks = [...new Set([sized[0], sized[Math.floor(sized.length / 2)], sized[sized.length - 1]])].filter(Boolean);
      for (const [i, run] of picks.entries()) {
        const history = await client.workflow.getHandle(run.workflowId, run.runId).fetchHistory();
        const file = path.join(dir, `${kind.toLowerCase()}-${i + 1}.json`);
        fs.writeFileSync(file, JSON.stringify({ workflowId: run.workflowId, history }));
        written++;
      }
    }
    return written;
  } finally {
    await connection.close();
  }
}
