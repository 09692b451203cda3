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
  const system = await startSystem(config, role, logger);

  const lines = ['', 'Mandi is running.'];
  if (system.apiUrl) lines.push(`  API:          ${system.apiUrl}  (OpenAPI: ${system.apiUrl}/openapi.json)`);
  if (system.metricsUrl) lines.push(`  Metrics:      ${system.metricsUrl}`);
  if (system.temporalUiUrl) lines.push(`  Temporal UI:  ${system.temporalUiUrl}`);
  lines.push('  Stop with Ctrl-C.', '');
  console.log(lines.join('\n'));

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    await system.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}

main().catch((err) => {
  console.error(err instanceof ConfigError ? err.message : err);
  process.exit(1);
});
