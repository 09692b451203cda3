import { readFileSync } from 'node:fs';
import type { Db } from '../../db/knex';

// /proc reports CPU time in clock ticks; 100 a second on every Linux this runs on.
const TICKS_PER_SECOND = 100;

/** CPU seconds (user + system) a process has used so far; 0 when it has gone or cannot be read. */
export function cpuSecondsOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name, in parentheses, may contain spaces: the fields are counted after it.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

/** CPU seconds the whole machine has been busy (all cores), from /proc/stat. */
export function machineBusySeconds(): number {
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, , , irq, softirq, steal] = cpu;
  return (user + nice + system + irq + softirq + steal) / TICKS_PER_SECOND;
}

/** The server processes behind this database's connections (Postgres runs on this machine). */
export async function backendPids(db: Db): Promise<number[]> {
  const { rows } = await db.raw(`SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`);
  return rows.map((r: { pid: number }) => r.pid);
}

export interface CpuShares {
  /** Cores used on average over the interval, per process group. */
  api: number;
  bench: number;
  postgres: number;
  machine: number;
}

/**
 * Measures, over an interval, how many cores the API process, this process, the database's
 * backends (those connected at the end count from zero if they were not at the start) and the
 * whole machine used — the machine is shared, so its figure includes others' work.
 */
export async function startCpuMeter(db: Db, apiPid: number): Promise<() => Promise<CpuShares>> {
  const benchSeconds = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1e6;
  };
  const pg0 = new Map((await backendPids(db)).map((pid) => [pid, cpuSecondsOf(pid)]));
  const t0 = performance.now();
  const [api0, bench0, machine0] = [cpuSecondsOf(apiPid), benchSeconds(), machineBusySeconds()];
  return async () => {
    const [api1, bench1, machine1] = [cpuSecondsOf(apiPid), benchSeconds(), machineBusySeconds()];
    const s = (performance.now() - t0) / 1000;
    const pgPids = new Set([...pg0.keys(), ...(await backendPids(db))]);
    const pg = [...pgPids].reduce((sum, pid) => sum + Math.max(0, cpuSecondsOf(pid) - (pg0.get(pid) ?? 0)), 0);
    const share = (x: number) => Math.round((x / s) * 100) / 100;
    return { api: share(api1 - api0), bench: share(bench1 - bench0), postgres: share(pg), machine: share(machine1 - machine0) };
  };
}
