import fs from 'node:fs';
import type { DbChange } from './state';
import { describeOutcome, type Outcome } from './run';

export interface FuzzResult {
  seed: number;
  seconds: number;
  outcomes: Outcome[];
  /** The valid requests, sent after the run. */
  controls: Outcome[];
  changes: DbChange[];
  /** Still running after the run, started by it: id → workflow type. */
  wedged: Map<string, string>;
  /** Started during the run (whether still running or not). */
  started: Map<string, string>;
}

export const failures = (r: FuzzResult) => r.outcomes.filter((o) => o.problem !== null);

/** The failures listed compactly: the first `limit`, then how many more. */
export function failureList(r: FuzzResult, limit = 50): string {
  const bad = failures(r);
  const lines = bad.slice(0, limit).map(describeOutcome);
  if (bad.length > limit) lines.push(`… and ${bad.length - limit} more`);
  return `${bad.length} of ${r.outcomes.length} bad requests were not answered with a JSON 4xx:\n${lines.join('\n')}`;
}

export function summaryLine(r: FuzzResult): string {
  const fivexx = r.outcomes.filter((o) => (o.status ?? 0) >= 500).length;
  const accepted = r.outcomes.filter((o) => o.status !== null && o.status < 400).length;
  const writes = r.changes.map((c) => `${c.table} ${c.before}→${c.after}`).join(', ') || 'none';
  return (
    `fuzz (seed ${r.seed}, ${r.seconds.toFixed(0)} s): ${r.outcomes.length} cases, ${fivexx} 5xx, ${accepted} accepted, ` +
    `${failures(r).length} failing, writes: ${writes}, wedged workflows: ${r.wedged.size} (started: ${r.started.size})`
  );
}

/** With FUZZ_REPORT=<file>, every failure grouped by cause (problem, status, error code), for the people fixing them. */
export function writeReport(r: FuzzResult, file: string | undefined): void {
  if (!file) return;
  const groups: Record<string, string[]> = {};
  for (const o of failures(r)) {
    const cause = `${o.problem} | ${o.status ?? '-'} ${o.body?.error?.code ?? ''}`.trim();
    (groups[cause] ??= []).push(describeOutcome(o));
  }
  const report = {
    summary: summaryLine(r),
    causes: Object.entries(groups)
      .sort((a, b) => b[1].length - a[1].length)
      .map(([cause, cases]) => ({ cause, count: cases.length, cases })),
    // How each kind of bad value was answered, across operations: shows what judged it.
    answersByValue: answersByValue(r),
    controls: r.controls.map((o) => ({ case: describeOutcome(o), problem: o.problem })),
    writes: r.changes,
    wedged: Object.fromEntries(r.wedged),
    started: Object.fromEntries(r.started),
    samples: failures(r)
      .slice(0, 200)
      .map((o) => ({ case: describeOutcome(o), status: o.status, body: o.body ?? o.text.slice(0, 300) })),
  };
  fs.writeFileSync(file, JSON.stringify(report, null, 2));
}

function answersByValue(r: FuzzResult): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const o of r.outcomes) {
    const kind = `${o.c.target.split('.')[0]} «${o.c.label.replace(/ \(.*\)$/, '')}»`;
    const answer = `${o.status ?? 'none'} ${o.body?.error?.code ?? ''}`.trim();
    (out[kind] ??= {})[answer] = (out[kind][answer] ?? 0) + 1;
  }
  return out;
}
