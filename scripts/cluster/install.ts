import { execFileSync } from 'node:child_process';
import path from 'node:path';

export interface TemporalServerTools {
  server: string;
  sqlTool: string;
  /** Holds postgresql/v12/{temporal,visibility}/versioned. */
  schemaDir: string;
}

/** Finds or builds the pinned Temporal server and schema tool (scripts/install-temporal-server.sh). */
export function installTemporalServer(): TemporalServerTools {
  const script = path.resolve(__dirname, '..', 'install-temporal-server.sh');
  const out = execFileSync('bash', [script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const values = Object.fromEntries(
    out
      .trim()
      .split('\n')
      .map((line) => line.split(/=(.*)/s, 2) as [string, string]),
  );
  if (!values.server || !values['sql-tool'] || !values.schema) throw new Error(`unexpected output from ${script}:\n${out}`);
  return { server: values.server, sqlTool: values['sql-tool'], schemaDir: values.schema };
}
