import fs from 'node:fs';
import path from 'node:path';
import type { ClusterOptions } from './options';

const TEMPLATE = path.join(__dirname, 'config-template.yaml');
const DYNAMIC_CONFIG = path.join(__dirname, 'dynamic-config.yaml');

/** The server's `--env`: it reads `<stateDir>/config/<ENV_NAME>.yaml`. */
export const ENV_NAME = 'cluster';

/** Fills `${NAME}` placeholders; an unknown one is an error rather than a silently broken config. */
export function renderTemplate(template: string, values: Record<string, string | number>): string {
  return template.replace(/\$\{([A-Z_]+)\}/g, (_, name: string) => {
    if (!(name in values)) throw new Error(`config template: no value for \${${name}}`);
    return String(values[name]);
  });
}

/** A YAML scalar in double quotes (passwords may hold any character). */
const quoted = (s: string) => JSON.stringify(s);

export function configValues(options: ClusterOptions, dynamicConfigFile: string): Record<string, string | number> {
  const url = new URL(options.databaseUrl);
  const p = options.ports;
  return {
    LOG_LEVEL: options.logLevel,
    NUM_HISTORY_SHARDS: options.numHistoryShards,
    MAX_CONNS: options.maxConns,
    VISIBILITY_MAX_CONNS: Math.max(1, Math.ceil(options.maxConns / 5)),
    DB_NAME: quoted(options.databaseName),
    VISIBILITY_DB_NAME: quoted(options.visibilityDatabaseName),
    DB_HOST: url.hostname,
    DB_PORT: url.port || '5432',
    DB_USER: quoted(decodeURIComponent(url.username || 'postgres')),
    DB_PASSWORD: quoted(decodeURIComponent(url.password)),
    FRONTEND_PORT: p.frontend.grpc,
    FRONTEND_MEMBERSHIP_PORT: p.frontend.membership,
    FRONTEND_HTTP_PORT: p.frontendHttp,
    HISTORY_PORT: p.history.grpc,
    HISTORY_MEMBERSHIP_PORT: p.history.membership,
    MATCHING_PORT: p.matching.grpc,
    MATCHING_MEMBERSHIP_PORT: p.matching.membership,
    WORKER_PORT: p.worker.grpc,
    WORKER_MEMBERSHIP_PORT: p.worker.membership,
    DYNAMIC_CONFIG_FILE: quoted(dynamicConfigFile),
  };
}

/** Writes the server config and its dynamic config under the state directory. */
export function writeConfig(options: ClusterOptions): void {
  const dir = path.join(options.stateDir, 'config');
  fs.mkdirSync(dir, { recursive: true });
  const dynamicConfigFile = path.join(dir, 'dynamic-config.yaml');
  fs.copyFileSync(DYNAMIC_CONFIG, dynamicConfigFile);
  const rendered = renderTemplate(fs.readFileSync(TEMPLATE, 'utf8'), configValues(options, dynamicConfigFile));
  fs.writeFileSync(path.join(dir, `${ENV_NAME}.yaml`), rendered);
}
