import fs from 'node:fs';
import path from 'node:path';

/** The four services of a Temporal cluster, each run as its own OS process. */
export const SERVICES = ['history', 'matching', 'frontend', 'worker'] as const;
export type Service = (typeof SERVICES)[number];

export interface ServicePorts {
  grpc: number;
  membership: number;
}

/** Everything that describes one local cluster; saved in its state directory so `down`/`status` find it. */
export interface ClusterOptions {
  /** Config, pid files and logs live here. */
  stateDir: string;
  /** A Postgres server the cluster may create its two databases on (any database in the URL). */
  databaseUrl: string;
  databaseName: string;
  visibilityDatabaseName: string;
  namespace: string;
  ports: Record<Service, ServicePorts> & { frontendHttp: number };
  numHistoryShards: number;
  /** Postgres connections each service process may hold (the visibility store gets a fifth of it). */
  maxConns: number;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
}

/**
 * Temporal's own port layout when base = 7233 (frontend 7233, history 7234, matching 7235,
 * worker 7239; membership 6933–6939; HTTP 7243), shifted as a block for another base.
 */
/**
 * Temporal keeps each service's membership port in a Postgres smallint (cluster_membership.rpc_port),
 * so every port must stay ≤ 32767: a larger base starts services that die at their first heartbeat.
 */
export const MAX_PORT_BASE = 32_700;

export function portsFromBase(base: number): ClusterOptions['ports'] {
  if (!Number.isInteger(base) || base < 1324 || base > MAX_PORT_BASE)
    throw new Error(`the port base must be between 1324 and ${MAX_PORT_BASE} (Temporal stores membership ports as smallint), got ${base}`);
  const offset = { frontend: 0, history: 1, matching: 2, worker: 6 } as const;
  const of = (s: Service): ServicePorts => ({ grpc: base + offset[s], membership: base - 300 + offset[s] });
  return { frontend: of('frontend'), history: of('history'), matching: of('matching'), worker: of('worker'), frontendHttp: base + 10 };
}

export function defaultClusterOptions(overrides: Partial<ClusterOptions> = {}): ClusterOptions {
  return {
    stateDir: path.resolve('.data', 'cluster'),
    databaseUrl: process.env.CLUSTER_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
    databaseName: 'mandi_temporal',
    visibilityDatabaseName: 'mandi_temporal_visibility',
    namespace: 'default',
    ports: portsFromBase(7233),
    numHistoryShards: 4,
    maxConns: 20,
    logLevel: 'warn',
    ...overrides,
  };
}

export function frontendAddress(options: ClusterOptions): string {
  return `127.0.0.1:${options.ports.frontend.grpc}`;
}

const optionsFile = (stateDir: string) => path.join(stateDir, 'cluster.json');

export function saveOptions(options: ClusterOptions): void {
  fs.mkdirSync(options.stateDir, { recursive: true });
  fs.writeFileSync(optionsFile(options.stateDir), JSON.stringify(options, null, 2));
}

/** The options a cluster in `stateDir` was brought up with, or null if none was. */
export function loadOptions(stateDir: string): ClusterOptions | null {
  const file = optionsFile(stateDir);
  return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as ClusterOptions) : null;
}
