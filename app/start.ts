/**
 * `npm start` (everything in one process), `npm run api`, `npm run worker`.
 * Ctrl-C drains the worker, closes pools and stops whatever was launched here.
 */
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from './config';
import { createLogger } from './logger';
import { startSystem, type Role } from './system';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { role: { type: 'string', default: 'all' } } });
  const role = values.role as Role;
  if (!['all', 'api', 'worker'].includes(role)) throw new ConfigError(`--role must be all, api or worker, got ${role}`);

  const config = loadConfig();
  const logger = createLogger(config.LOG_LEVEL);
  // SIGTERM (an orchestrator, a deploy) or Ctrl-C: the API stops accepting and answers what is in
  // flight, WebSockets are told to reconnect, the worker drains, then the dev server and embedded
  // Postgres launched here stop. A second signal, or a drain that overruns both grace periods, stops
  // the launched processes at once and exits. Listening from the start: a signal that arrives while
  // the system is still starting stops it once it is up, instead of killing this process and
  // leaving a launched dev server behind.
  const starting = startSystem(config, role, logger);
  let stopping = false;
  const shutdown = async (signal: string) => {
    const system = await starting.catch(() => null);
    if (!system) return; // start-up failed: main() reports it and exits
    if (stopping) {
      logger.warn({ signal }, 'second signal: stopping now');
      system.kill();
      process.exit(130);
    }
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const overrun = setTimeout(
      () => {
        logger.error('shutdown overran its grace periods: stopping now');
        system.kill();
        process.exit(1);
      },
      (2 * config.SHUTDOWN_GRACE_SECONDS + 15) * 1000,
    );
    overrun.unref();
    await system.stop();
    logger.info('stopped');
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));

  const system = await starting;
  if (stopping) return;
  const lines = ['', 'Mandi is running.'];
  if (system.apiUrl) lines.push(`  API:          ${system.apiUrl}  (OpenAPI: ${system.apiUrl}/openapi.json)`);
  if (system.metricsUrl) lines.push(`  Metrics:      ${system.metricsUrl}`);
  if (system.temporalUiUrl) lines.push(`  Temporal UI:  ${system.temporalUiUrl}`);
  lines.push('  Stop with Ctrl-C.', '');
  console.log(lines.join('\n'));
}

main().catch((err) => {
  console.error(err instanceof ConfigError ? err.message : err);
  process.exit(1);
});
