/**
 * One role of the real system (`npm run api` or `npm run worker`: app/system.ts#startSystem) in a
 * process of its own, for benches that measure the API and the worker apart. The first argument is
 * the role. Env: what app/config.ts reads (DATABASE_URL, TEMPORAL_ADDRESS, TEMPORAL_TASK_QUEUE…);
 * PORT defaults to 0 (any free port). Prints "api-ready <url>" once up (a worker prints its role
 * instead of a URL). SIGTERM stops it cleanly (so --cpu-prof can write its profile).
 */
import { loadConfig } from '../../app/config';
import { startSystem } from '../../app/system';
import pino from 'pino';

async function main(): Promise<void> {
  const role = process.argv[2];
  if (role !== 'api' && role !== 'worker') throw new Error(`role must be api or worker, got ${role}`);
  const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', ...process.env });
  const system = await startSystem(config, role, pino({ level: 'silent' }));
  console.log(`api-ready ${system.apiUrl ?? role}`);
  process.once('SIGTERM', () => {
    void system.stop().finally(() => process.exit(0));
  });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
