import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

export interface WorkerProcess {
  child: ChildProcess;
  /** SIGKILL: no drain, no goodbye — as when a machine dies. */
  kill(): Promise<void>;
}

/** Starts test/support/worker-process.ts and resolves once it polls the task queue. */
export async function spawnWorkerProcess(options: { databaseUrl: string; taskQueue: string }): Promise<WorkerProcess> {
  // node itself (with tsx as a loader), not the tsx CLI: the CLI forks a child that would survive SIGKILL.
  const child = spawn(process.execPath, ['--import', 'tsx', path.resolve(__dirname, 'worker-process.ts')], {
    cwd: path.resolve(__dirname, '../..'),
    env: { ...process.env, DATABASE_URL: options.databaseUrl, TASK_QUEUE: options.taskQueue },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker process did not start: ${stderr}`)), 60_000);
    child.stdout!.on('data', (d: Buffer) => {
      if (d.toString().includes('worker-ready')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`worker process exited with ${code}: ${stderr}`));
    });
  });
  return {
    child,
    kill: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
    },
  };
}
