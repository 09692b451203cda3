import { spawn } from 'node:child_process';

export interface ApiProcess {
  url: string;
  pid: number;
  kill(): Promise<void>;
}

/**
 * Starts `script` (an API entry point that prints "api-ready <url>") under Node itself, not the tsx
 * wrapper, so that killing the child really stops the API and `pid` is the process doing the work.
 * BENCH_API_NODE_ARGS (or the variable `nodeArgsVar` names) passes flags to it (e.g. "--cpu-prof
 * --cpu-prof-dir=/tmp/prof"); `args` go to the script.
 */
export async function startApiProcess(
  script: string,
  env: Record<string, string>,
  args: string[] = [],
  nodeArgsVar = 'BENCH_API_NODE_ARGS',
): Promise<ApiProcess> {
  const nodeArgs = (process.env[nodeArgsVar] ?? '').split(' ').filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', script, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`API did not start: ${stderr}`)), 60_000);
    child.stdout!.on('data', (d: Buffer) => {
      const m = /api-ready (\S+)/.exec(d.toString());
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.once('exit', (code) => reject(new Error(`API exited with ${code}: ${stderr}`)));
  });
  let stopping = false;
  const exited = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      if (!stopping) console.error(`API process exited (${code ?? signal}): ${stderr}`);
      resolve();
    }),
  );
  return {
    url,
    pid: child.pid!,
    // SIGTERM first so a profiled API can write its profile; SIGKILL if it lingers.
    kill: async () => {
      stopping = true;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
