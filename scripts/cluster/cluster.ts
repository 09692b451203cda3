import { Connection } from '@temporalio/client';
import { writeConfig } from './config';
import { checkClusterRunsWorkflows } from './health';
import { installTemporalServer, type TemporalServerTools } from './install';
import { ensureNamespace } from './namespace';
import { frontendAddress, loadOptions, saveOptions, SERVICES, type ClusterOptions, type Service } from './options';
import { setUpSchemas } from './schema';
import { isListening, logFile, readinessPort, servicePid, startService, stopService, tail } from './services';

/** A local Temporal cluster on Postgres: the same code behind `npm run cluster` and the soak. */
export interface Cluster {
  options: ClusterOptions;
  tools: TemporalServerTools;
  address: string;
  start(service: Service): Promise<number>;
  stop(service: Service, how?: { signal?: NodeJS.Signals; graceMs?: number }): Promise<boolean>;
  /** Runs a workflow end to end; resolves with how long that took (ms). */
  check(timeoutMs?: number): Promise<number>;
  down(): Promise<void>;
}

export function clusterHandle(options: ClusterOptions, tools: TemporalServerTools): Cluster {
  const address = frontendAddress(options);
  const check = async (timeoutMs = 30_000) => {
    const connection = await Connection.connect({ address, connectTimeout: 2000 });
    try {
      return await checkClusterRunsWorkflows(connection, options.namespace, timeoutMs);
    } finally {
      await connection.close();
    }
  };
  return {
    options,
    tools,
    address,
    check,
    start: (service) => startService(options, service, tools.server),
    stop: (service, how) => stopService(options, service, tools.server, how),
    // Front door first, so no new work arrives at a half-stopped cluster.
    down: async () => {
      for (const service of [...SERVICES].reverse()) await stopService(options, service, tools.server);
    },
  };
}

async function retrying<T>(timeoutMs: number, fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

/** Waits until a workflow runs end to end (services join the membership ring within seconds). */
export async function waitUntilHealthy(cluster: Cluster, timeoutMs = 90_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      return await cluster.check(Math.min(20_000, deadline - Date.now()));
    } catch (err) {
      last = err;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  throw new Error(`the cluster at ${cluster.address} did not run a workflow within ${timeoutMs} ms: ${String(last)}`);
}

/**
 * Installs (once), sets up the schemas, writes the config, starts whichever of the four services
 * is not running, registers the namespace and search attributes, and proves it by running a
 * workflow.
 */
export async function clusterUp(options: ClusterOptions, log: (line: string) => void = () => {}): Promise<Cluster> {
  const tools = installTemporalServer();
  saveOptions(options);
  writeConfig(options);
  log(`schemas on ${new URL(options.databaseUrl).host}: ${options.databaseName}, ${options.visibilityDatabaseName}`);
  await setUpSchemas(tools, options);
  const cluster = clusterHandle(options, tools);
  for (const service of SERVICES) log(`${service}: pid ${await cluster.start(service)}`);
  try {
    // The frontend may take a few seconds to serve after its port opens (longer on a loaded machine).
    await retrying(60_000, async () => {
      const connection = await Connection.connect({ address: cluster.address, connectTimeout: 5000 });
      try {
        await ensureNamespace(connection, options.namespace);
      } finally {
        await connection.close();
      }
    });
    log(`namespace ${options.namespace} with Mandi's search attributes`);
    const ms = await waitUntilHealthy(cluster);
    log(`healthy: a workflow ran end to end in ${ms} ms`);
  } catch (err) {
    // What the services said is what tells why; their logs may be removed with the cluster.
    const logs = SERVICES.map((s) => `--- ${s} (${logFile(options, s)}):\n${tail(logFile(options, s), 15)}`).join('\n');
    throw new Error(`the cluster at ${cluster.address} did not come up: ${String(err)}\n${logs}`);
  }
  return cluster;
}

export interface ServiceStatus {
  service: Service;
  pid: number | null;
  port: number;
  listening: boolean;
}

export async function clusterStatus(
  stateDir: string,
): Promise<{ options: ClusterOptions; services: ServiceStatus[]; workflowMs: number | null; error?: string } | null> {
  const options = loadOptions(stateDir);
  if (!options) return null;
  const tools = installTemporalServer();
  const services = await Promise.all(
    SERVICES.map(async (service) => ({
      service,
      pid: servicePid(options, service, tools.server),
      port: readinessPort(options, service),
      listening: await isListening(readinessPort(options, service)),
    })),
  );
  try {
    return { options, services, workflowMs: await clusterHandle(options, tools).check(10_000) };
  } catch (err) {
    return { options, services, workflowMs: null, error: String(err) };
  }
}

export async function clusterDown(stateDir: string): Promise<boolean> {
  const options = loadOptions(stateDir);
  if (!options) return false;
  await clusterHandle(options, installTemporalServer()).down();
  return true;
}
