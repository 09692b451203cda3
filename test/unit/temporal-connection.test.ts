import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { ConfigError, loadConfig } from '../../app/config';
import { temporalConnectionOptions } from '../../app/temporal-connection';

/** A throwaway self-signed certificate and key, made by openssl for this run. */
function selfSigned(dir: string): { cert: string; key: string } {
  const cert = path.join(dir, 'client.pem');
  const key = path.join(dir, 'client.key');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=mandi-test',
      '-keyout',
      key,
      '-out',
      cert,
    ],
    { stdio: 'ignore' },
  );
  return { cert, key };
}

describe('Temporal connection settings', () => {
  let dir: string;
  let files: { cert: string; key: string };
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mandi-tls-'));
    files = selfSigned(dir);
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('no TLS settings: plain gRPC to the address (a local cluster or dev server)', () => {
    expect(temporalConnectionOptions(loadConfig({ TEMPORAL_ADDRESS: '127.0.0.1:7233' }))).toEqual({ address: '127.0.0.1:7233' });
  });

  test('mTLS from files: the client pair and the CA are read, and the SDK accepts them', () => {
    const config = loadConfig({
      TEMPORAL_ADDRESS: 'temporal.internal:7233',
      TEMPORAL_TLS_CERT: files.cert,
      TEMPORAL_TLS_KEY: files.key,
      TEMPORAL_TLS_CA: files.cert,
      TEMPORAL_TLS_SERVER_NAME: 'temporal.internal',
    });
    const options = temporalConnectionOptions(config);
    expect(Buffer.from(options.tls!.clientCertPair!.crt).toString()).toBe(fs.readFileSync(files.cert, 'utf8'));
    expect(Buffer.from(options.tls!.clientCertPair!.key).toString()).toBe(fs.readFileSync(files.key, 'utf8'));
    expect(Buffer.from(options.tls!.serverRootCACertificate!).toString()).toContain('BEGIN CERTIFICATE');
    expect(options.tls!.serverNameOverride).toBe('temporal.internal');
    expect(options.apiKey).toBeUndefined();
    // Building the gRPC credentials parses the PEMs: a broken pair would throw here.
    expect(() => Connection.lazy(options)).not.toThrow();
  });

  test('mTLS from PEM text in the variables themselves (secrets injected as values)', () => {
    const cert = fs.readFileSync(files.cert, 'utf8');
    const key = fs.readFileSync(files.key, 'utf8');
    const options = temporalConnectionOptions(loadConfig({ TEMPORAL_ADDRESS: 'x:7233', TEMPORAL_TLS_CERT: cert, TEMPORAL_TLS_KEY: key }));
    expect(Buffer.from(options.tls!.clientCertPair!.crt).toString()).toBe(cert);
  });

  test('a Temporal Cloud API key turns TLS on with the system trust store', () => {
    const options = temporalConnectionOptions(
      loadConfig({
        TEMPORAL_ADDRESS: 'ap-south-1.aws.api.temporal.io:7233',
        TEMPORAL_NAMESPACE: 'mandi.a1b2c',
        TEMPORAL_API_KEY: 'eyJhbGciOi.key',
      }),
    );
    expect(options).toEqual({ address: 'ap-south-1.aws.api.temporal.io:7233', tls: {}, apiKey: 'eyJhbGciOi.key' });
    expect(() => Connection.lazy(options)).not.toThrow();
  });

  test('TEMPORAL_TLS=true alone: server-side TLS, no client certificate', () => {
    expect(temporalConnectionOptions(loadConfig({ TEMPORAL_ADDRESS: 'x:7233', TEMPORAL_TLS: 'true' }))).toEqual({
      address: 'x:7233',
      tls: {},
    });
  });

  test.each([
    [{ TEMPORAL_ADDRESS: 'x:7233', TEMPORAL_TLS_CERT: '<cert>' }, 'TEMPORAL_TLS_KEY'],
    [{ TEMPORAL_ADDRESS: 'x:7233', TEMPORAL_TLS_KEY: '<key>' }, 'TEMPORAL_TLS_CERT'],
    [{ TEMPORAL_ADDRESS: 'x:7233', TEMPORAL_TLS_CA: '/no/such/ca.pem' }, 'TEMPORAL_TLS_CA'],
    [{ TEMPORAL_ADDRESS: 'x:7233', TEMPORAL_TLS_CA: '<key>' }, 'TEMPORAL_TLS_CA'],
    [{ TEMPORAL_ADDRESS: 'x:7233', TEMPORAL_TLS_CERT: '<key>', TEMPORAL_TLS_KEY: '<key>' }, 'TEMPORAL_TLS_CERT'],
    [{ TEMPORAL_ADDRESS: 'x:7233', TEMPORAL_TLS_CERT: '<cert>', TEMPORAL_TLS_KEY: '<cert>' }, 'TEMPORAL_TLS_KEY'],
    [{ TEMPORAL_ADDRESS: 'x:7233', TEMPORAL_API_KEY: 'two words' }, 'TEMPORAL_API_KEY'],
    [{ TEMPORAL_ADDRESS: 'x:7233', TEMPORAL_API_KEY: 'k', TEMPORAL_TLS: 'false' }, 'TEMPORAL_TLS'],
    [{ TEMPORAL_API_KEY: 'k' }, 'TEMPORAL_ADDRESS'],
    [{ TEMPORAL_TLS: 'yes' }, 'TEMPORAL_TLS'],
  ])('a bad setting stops start-up and names the variable: %j', (raw, variable) => {
    const env = Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, v === '<cert>' ? files.cert : v === '<key>' ? files.key : v]));
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(new RegExp(`\\b${variable}\\b`));
  });
});
