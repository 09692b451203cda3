import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../app/config';
import { buildOpenApiDocument } from '../api/api-documents';

/**
 * Writes the API's OpenAPI document to a file without starting anything:
 * `tsx scripts/write-openapi.ts dist/openapi.json`. Built with the defaults (no PUBLIC_URL, so
 * the server is relative), so the output depends on the code only, never on who runs it.
 */
const out = process.argv[2];
if (!out) {
  console.error('usage: tsx scripts/write-openapi.ts <output.json>');
  process.exit(2);
}
const document = buildOpenApiDocument(loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent' }));
mkdirSync(path.dirname(path.resolve(out)), { recursive: true });
writeFileSync(out, `${JSON.stringify(document, null, 2)}\n`);
// The lazy Temporal connection of the documents-only router would otherwise keep the process alive.
process.exit(0);
