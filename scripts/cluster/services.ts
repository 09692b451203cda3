import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { ENV_NAME } from './config';
import type { ClusterOptions, Service } from './options';

/**
 * One OS process per Temporal service, found again through a pid file, so `npm run cluster down`
 * stops what `up` started and a test can SIGKILL exactly one service and start it again.
 */
const runDir = (options: ClusterOptions) => path.join(options.stateDir, 'run');
export const logFile = (options: ClusterOptions, service: Service) => path.join(options.stateDir, 'logs', `${service}.log`);
const pidFile = (options: ClusterOptions, service: Service) => path.join(runDir(options), `${service}.pid`);

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The pid the file names, if that process still runs and is our server binary (pids are reused). */
export function servicePid(options: ClusterOptions, service: Service, serverBin: string): number | null {
  const file = pidFile(options, service);
  if (!fs.existsSync(file)) return null;
  const pid = Number(fs.readFileSync(file, 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return null;
  try {
    const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    if (!cmdline.startsWith(serverBin) || !cmdline.includes(`${service}\0`)) return null;
  } catch {
    // no /proc (macOS): trust the pid file
  }
  return pid;
}

export function isListening(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** The worker service serves no gRPC of its own (it runs system workflows): its membership port tells it is up. */
export function readinessPort(options: ClusterOptions, service: Service): number {
  return service === 'worker' ? options.ports.worker.membership : options.ports[service].grpc;
}

/** Starts one service in the background (own process group, output appended to its log). */
export async function startService(options: ClusterOptions, service: Service, serverBin: string): Promise<number> {
  const running = servicePid(options, service, serverBin);
  if (running) return running;
  fs.mkdirSync(runDir(options), { recursive: true });
  fs.mkdirSync(path.dirname(logFile(options, service)), { recursive: true });
  const log = fs.openSync(logFile(options, service), 'a');
  const args = ['--root', options.stateDir, '--config', 'config', '--env', ENV_NAME, '--allow-no-auth', 'start', '--service', service];
  const child = spawn(serverBin, args, { detached: true, stdio: ['ignore', log, log] });
  fs.closeSync(log);
  child.unref();
  const pid = child.pid!;
  fs.writeFileSync(pidFile(options, service), String(pid));
  // Up once its port answers; an early exit is reported with the log's tail.
  const port = readinessPort(options, service);
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (!isAlive(pid) || child.exitCode !== null) throw new Error(`${service} exited at start:\n${tail(logFile(options, service))}`);
    if (await isListening(port)) return pid;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${service} did not listen on ${port} within 30 s:\n${tail(logFile(options, service))}`);
}

/**
 * Stops one service: SIGTERM and up to `graceMs` to leave the membership ring cleanly, then
 * SIGKILL. `signal: 'SIGKILL'` kills at once, as when a machine dies.
 */
export async function stopService(
  options: ClusterOptions,
  service: Service,
  serverBin: string,
  { signal = 'SIGTERM' as NodeJS.Signals, graceMs = 10_000 } = {},
): Promise<boolean> {
  const pid = servicePid(options, service, serverBin);
  if (!pid) return false;
  process.kill(pid, signal);
  const deadline = Date.now() + (signal === 'SIGKILL' ? 5_000 : graceMs);
  while (isAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  while (isAlive(pid)) await new Promise((r) => setTimeout(r, 20));
  fs.rmSync(pidFile(options, service), { force: true });
  return true;
}

export function tail(file: string, lines = 20): string {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}
