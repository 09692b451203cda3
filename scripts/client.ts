import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import openapiTS, { astToString, COMMENT_HEADER } from 'openapi-typescript';
import { buildOpenApiDocument } from '../api/api-documents';
import { loadConfig } from '../app/config';

/**
 * The typed client's generated files, from the routes as the code declares them:
 *   tsx scripts/client.ts generate   (npm run client:generate) writes them;
 *   tsx scripts/client.ts check      (npm run client:check, in CI) fails if they are out of date.
 * clients/ts/openapi.json is the contract itself, committed so a change to it shows in review.
 */
const CLIENT_DIR = path.resolve(__dirname, '..', 'clients', 'ts');

async function generatedFiles(): Promise<Record<string, string>> {
  // The defaults, not the caller's environment: the output depends on the code only.
  const document = buildOpenApiDocument(loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent' }));
  const types = COMMENT_HEADER + astToString(await openapiTS(document as never, { silent: true }));
  return { 'openapi.json': `${JSON.stringify(document, null, 2)}\n`, 'schema.d.ts': types };
}

function current(file: string): string | null {
  try {
    return readFileSync(path.join(CLIENT_DIR, file), 'utf8');
  } catch {
    return null;
  }
}

async function main(mode: string | undefined): Promise<number> {
  const files = await generatedFiles();
  if (mode === 'generate') {
    for (const [file, text] of Object.entries(files)) writeFileSync(path.join(CLIENT_DIR, file), text);
    console.log(
      `wrote ${Object.keys(files)
        .map((f) => `clients/ts/${f}`)
        .join(', ')}`,
    );
    return 0;
  }
  if (mode === 'check') {
    const stale = Object.entries(files)
      .filter(([file, text]) => current(file) !== text)
      .map(([file]) => `clients/ts/${file}`);
    if (stale.length === 0) {
      console.log('clients/ts is up to date with the routes');
      return 0;
    }
    console.error(
      `${stale.join(', ')} ${stale.length === 1 ? 'is' : 'are'} out of date with the routes: run \`npm run client:generate\` and commit the result`,
    );
    return 1;
  }
  console.error('usage: tsx scripts/client.ts generate|check');
  return 2;
}

main(process.argv[2]).then(
  // Exit explicitly: the documents-only router's lazy Temporal connection would keep the process alive.
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
