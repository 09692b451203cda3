import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');

export interface MandiProcess {
  child: ChildProcess;
  /** Everything it printed (stdout and stderr), newest last, capped. */
  output(): string;
  /** Resolves with the exit code (or the signal's name) once it has exited. */
  exited: Promise<number | string>;
  /** SIGKILL: no drain, no goodbye, as when a machine dies. */
  kill(): Promise<void>;
  /** SIGTERM and wait for the graceful shutdown to finish. */
  stop(): Promise<number | string>;
}

/**
 * `app/start.ts --role=<role>` as its own OS process, as `npm run api|worker|start` runs it, resolved
 * once it prints that it is running. Node itself with tsx as a loader, not the tsx CLI: the CLI
 * forks a child that a SIGKILL of the parent would leave running.
 */
export async function spawnMandi(
  role: 'all' | 'api' | 'worker',
  env: Record<string, string>,
  startTimeoutMs = 120_000,
): Promise<MandiProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'app/start.ts'), `--role=${role}`], {
    cwd: ROOT,
    env: { ...process.env, NODE_ENV: 'development', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const append = (d: Buffer) => {
    output = (output + d.toString()).slice(-20_000);
  };
  child.stdout!.on('data', append);
  child.stderr!.on('data', append);
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`mandi ${role} did not start within ${startTimeoutMs} ms:\n${output}`)),
      startTimeoutMs,
    );
    const onData = () => {
      if (output.includes('Mandi is running.')) {
        clearTimeout(timer);
        child.stdout!.off('data', onData);
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`mandi ${role} exited with ${code} at start:\n${output}`));
    });
  });
  const running = () => child.exitCode === null && child.signalCode === null;
  return {
    child,
    output: () => output,
    exited,
    kill: async () => {
      if (!running()) return;
      child.kill('SIGKILL');
      await exited;
    },
    stop: async () => {
      if (running()) child.kill('SIGTERM');
      return exited;
    },
  };
}
