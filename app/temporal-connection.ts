import fs from 'node:fs';
import type { TLSConfig } from '@temporalio/client';

/** The connection settings of config.ts (TEMPORAL_*), as far as reaching the server goes. */
export interface TemporalConnectionEnv {
  TEMPORAL_ADDRESS?: string;
  TEMPORAL_TLS?: 'true' | 'false';
  TEMPORAL_TLS_CERT?: string;
  TEMPORAL_TLS_KEY?: string;
  TEMPORAL_TLS_CA?: string;
  TEMPORAL_TLS_SERVER_NAME?: string;
  TEMPORAL_API_KEY?: string;
}

/** What both `Connection.connect` (client) and `NativeConnection.connect` (worker) take. */
export interface TemporalConnectionOptions {
  address: string;
  tls?: TLSConfig;
  apiKey?: string;
}

type Issue = { path: [keyof TemporalConnectionEnv]; message: string };

const PEM = {
  TEMPORAL_TLS_CERT: /-----BEGIN CERTIFICATE-----/,
  TEMPORAL_TLS_CA: /-----BEGIN CERTIFICATE-----/,
  TEMPORAL_TLS_KEY: /-----BEGIN [A-Z ]*PRIVATE KEY-----/,
} as const;

/** A PEM given inline, or else the contents of the file the value names. */
function pemOf(value: string): string {
  return value.includes('-----BEGIN ') ? value : fs.readFileSync(value, 'utf8');
}

/**
 * Everything wrong with the TEMPORAL_* connection settings, checked when config.ts loads so a
 * bad value stops start-up with the variable's name instead of failing the first gRPC call.
 */
export function temporalConnectionIssues(env: TemporalConnectionEnv): Issue[] {
  const issues: Issue[] = [];
  if (Boolean(env.TEMPORAL_TLS_CERT) !== Boolean(env.TEMPORAL_TLS_KEY)) {
    const missing = env.TEMPORAL_TLS_CERT ? 'TEMPORAL_TLS_KEY' : 'TEMPORAL_TLS_CERT';
    issues.push({ path: [missing], message: 'is required with the other of TEMPORAL_TLS_CERT / TEMPORAL_TLS_KEY (mTLS needs both)' });
  }
  for (const name of ['TEMPORAL_TLS_CERT', 'TEMPORAL_TLS_KEY', 'TEMPORAL_TLS_CA'] as const) {
    const value = env[name];
    if (!value) continue;
    let pem: string;
    try {
      pem = pemOf(value);
    } catch {
      issues.push({ path: [name], message: `is neither a PEM block nor a readable file: ${value}` });
      continue;
    }
    if (!PEM[name].test(pem))
      issues.push({ path: [name], message: `does not hold a PEM ${name === 'TEMPORAL_TLS_KEY' ? 'private key' : 'certificate'}` });
  }
  if (env.TEMPORAL_API_KEY && /\s/.test(env.TEMPORAL_API_KEY)) {
    issues.push({ path: ['TEMPORAL_API_KEY'], message: 'must not contain whitespace (paste the key alone)' });
  }
  const secured = [env.TEMPORAL_TLS_CERT, env.TEMPORAL_TLS_CA, env.TEMPORAL_TLS_SERVER_NAME, env.TEMPORAL_API_KEY].some(Boolean);
  if (env.TEMPORAL_TLS === 'false' && secured) {
    issues.push({ path: ['TEMPORAL_TLS'], message: 'is false, but TLS certificates or an API key are set (they need TLS)' });
  }
  if (!env.TEMPORAL_ADDRESS && (secured || env.TEMPORAL_TLS === 'true')) {
    // Without an address Mandi starts a local dev server, which speaks plain gRPC.
    issues.push({ path: ['TEMPORAL_ADDRESS'], message: 'is required with TEMPORAL_TLS* / TEMPORAL_API_KEY (the server they are for)' });
  }
  return issues;
}

/**
 * The connection options for a cluster or Temporal Cloud: mTLS when a client certificate is set,
 * TLS with the OS's trust store (or TEMPORAL_TLS_CA) when only an API key or TEMPORAL_TLS=true
 * is, plain gRPC otherwise (a local cluster or dev server). Reads the PEM files here, once.
 */
export function temporalConnectionOptions(env: TemporalConnectionEnv, address = env.TEMPORAL_ADDRESS): TemporalConnectionOptions {
  if (!address) throw new Error('no Temporal address');
  const wantsTls =
    env.TEMPORAL_TLS === 'true' ||
    (env.TEMPORAL_TLS !== 'false' &&
      [env.TEMPORAL_TLS_CERT, env.TEMPORAL_TLS_CA, env.TEMPORAL_TLS_SERVER_NAME, env.TEMPORAL_API_KEY].some(Boolean));
  const options: TemporalConnectionOptions = { address };
  if (wantsTls) {
    const tls: TLSConfig = {};
    if (env.TEMPORAL_TLS_CERT && env.TEMPORAL_TLS_KEY) {
      tls.clientCertPair = { crt: Buffer.from(pemOf(env.TEMPORAL_TLS_CERT)), key: Buffer.from(pemOf(env.TEMPORAL_TLS_KEY)) };
    }
    if (env.TEMPORAL_TLS_CA) tls.serverRootCACertificate = Buffer.from(pemOf(env.TEMPORAL_TLS_CA));
    if (env.TEMPORAL_TLS_SERVER_NAME) tls.serverNameOverride = env.TEMPORAL_TLS_SERVER_NAME;
    options.tls = tls;
  }
  if (env.TEMPORAL_API_KEY) options.apiKey = env.TEMPORAL_API_KEY;
  return options;
}
