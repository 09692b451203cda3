/**
 * `npm run cluster -- up|down|status [--state-dir DIR] [--port-base 7233] [--database-url URL]`
 * A Temporal cluster on Postgres, each of its four services in its own process, for running Mandi
 * the way production does (TEMPORAL_ADDRESS=127.0.0.1:7233). Logs: <state-dir>/logs/<service>.log.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { clusterDown, clusterStatus, clusterUp } from './cluster';
import { defaultClusterOptions, portsFromBase } from './options';

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      'state-dir': { type: 'string', default: path.resolve('.data', 'cluster') },
      'port-base': { type: 'string', default: '7233' },
      'database-url': { type: 'string' },
      namespace: { type: 'string', default: 'default' },
    },
  });
  const stateDir = path.resolve(values['state-dir']!);
  const command = positionals[0];
  if (command === 'up') {
    // portsFromBase refuses a base whose ports Temporal cannot store.
    const base = Number(values['port-base']);
    const options = defaultClusterOptions({
      stateDir,
      ports: portsFromBase(base),
      namespace: values.namespace!,
      ...(values['database-url'] ? { databaseUrl: values['database-url'] } : {}),
    });
    const cluster = await clusterUp(options, (line) => console.log(line));
    console.log(
      `\nTemporal cluster up. Point Mandi at it:\n  TEMPORAL_ADDRESS=${cluster.address} TEMPORAL_NAMESPACE=${options.namespace} npm start`,
    );
    console.log(`Logs: ${path.join(stateDir, 'logs')}   Stop: npm run cluster -- down`);
    return 0;
  }
  if (command === 'down') {
    console.log((await clusterDown(stateDir)) ? 'cluster stopped' : `no cluster in ${stateDir}`);
    return 0;
  }
  if (command === 'status') {
    const status = await clusterStatus(stateDir);
    if (!status) {
      console.log(`no cluster in ${stateDir}`);
      return 1;
    }
    for (const s of status.services)
      console.log(`${s.service.padEnd(9)} pid ${String(s.pid ?? '-').padEnd(8)} :${s.port} ${s.listening ? 'listening' : 'down'}`);
    console.log(status.workflowMs !== null ? `workflow round trip: ${status.workflowMs} ms` : `not healthy: ${status.error}`);
    return status.workflowMs !== null && status.services.every((s) => s.pid) ? 0 : 1;
  }
  console.error('usage: npm run cluster -- up|down|status [--state-dir DIR] [--port-base N] [--database-url URL] [--namespace NAME]');
  return 2;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
