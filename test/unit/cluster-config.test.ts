import fs from 'node:fs';
import path from 'node:path';
import { configValues, renderTemplate } from '../../scripts/cluster/config';
import { defaultClusterOptions, portsFromBase } from '../../scripts/cluster/options';
import { sqlToolFlags } from '../../scripts/cluster/schema';
import { SEARCH_ATTRIBUTES } from '../../workflows/search-attributes';

describe('the local Temporal cluster config', () => {
  test("base 7233 is Temporal's own port layout; another base shifts the whole block", () => {
    expect(portsFromBase(7233)).toEqual({
      frontend: { grpc: 7233, membership: 6933 },
      history: { grpc: 7234, membership: 6934 },
      matching: { grpc: 7235, membership: 6935 },
      worker: { grpc: 7239, membership: 6939 },
      frontendHttp: 7243,
    });
    const shifted = portsFromBase(17233);
    expect(shifted.history.grpc).toBe(17234);
    expect(shifted.worker.membership).toBe(16939);
  });

  test('a base whose ports Temporal cannot store (membership ports are a smallint) is refused', () => {
    expect(() => portsFromBase(33_000)).toThrow(/between 1324 and 32700/);
    expect(() => portsFromBase(1_000)).toThrow(/between 1324 and 32700/);
    expect(() => portsFromBase(7233.5)).toThrow(/port base/);
    const top = portsFromBase(32_700);
    expect(Math.max(...Object.values(top).flatMap((p) => (typeof p === 'number' ? [p] : [p.grpc, p.membership])))).toBeLessThanOrEqual(
      32_767,
    );
  });

  test('the template renders with every placeholder filled and credentials quoted', () => {
    const options = defaultClusterOptions({ databaseUrl: 'postgres://tem%40p:p%3Ass%22w@db.internal:6543/postgres' });
    const template = fs.readFileSync(path.resolve(__dirname, '../../scripts/cluster/config-template.yaml'), 'utf8');
    const rendered = renderTemplate(template, configValues(options, '/tmp/dc.yaml'));
    expect(rendered).not.toMatch(/\$\{/);
    expect(rendered).toContain('connectAddr: db.internal:6543');
    expect(rendered).toContain('user: "tem@p"');
    expect(rendered).toContain('password: "p:ss\\"w"');
    expect(rendered).toContain('databaseName: "mandi_temporal_visibility"');
    expect(rendered).toContain('rpcAddress: 127.0.0.1:7233');
  });

  test('a placeholder without a value is an error, not a broken config', () => {
    expect(() => renderTemplate('port: ${NOPE}', {})).toThrow(/NOPE/);
  });

  test('temporal-sql-tool gets the connection from the URL', () => {
    expect(sqlToolFlags('postgres://postgres@127.0.0.1:5432/postgres', 'mandi_temporal')).toEqual([
      '--plugin',
      'postgres12',
      '--endpoint',
      '127.0.0.1',
      '--port',
      '5432',
      '--user',
      'postgres',
      '--database',
      'mandi_temporal',
    ]);
    expect(sqlToolFlags('postgres://u:s%20t@h/x', 'd')).toEqual([
      '--plugin',
      'postgres12',
      '--endpoint',
      'h',
      '--port',
      '5432',
      '--user',
      'u',
      '--password',
      's t',
      '--database',
      'd',
    ]);
  });
});

describe('the compose set-up scripts', () => {
  test("register exactly Mandi's search attributes", () => {
    const script = fs.readFileSync(path.resolve(__dirname, '../../scripts/cluster/compose/create-namespace.sh'), 'utf8');
    const names = /for name in ([A-Za-z ]+); do/.exec(script)![1].trim().split(/\s+/);
    expect(names.sort()).toEqual(SEARCH_ATTRIBUTES.map((k) => k.name).sort());
  });
});
