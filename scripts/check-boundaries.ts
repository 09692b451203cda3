/**
 * Two structural rules no linter rule expresses, checked in CI (`npm run lint`):
 *
 * 1. SQL lives in `db/` (and `migrations/`). Routes, activities, workers and scripts call db modules.
 * 2. A workflow type, signal, update or query name is written once, in its flow's contract module
 *    (`contracts/`). Everything else — API, activities, schedules, tests, benches — uses the typed
 *    definitions, so a rename cannot leave a caller sending a name nobody handles.
 *
 * Prints each offence as `file:line: rule: text` and exits 1 when there is any.
 */
import fs from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..');
const SOURCE_DIRS = ['api', 'activities', 'app', 'workers', 'infra', 'workflows', 'domain', 'scripts', 'contracts', 'db', 'test', 'bench'];
const SQL_FREE_DIRS = new Set(['api', 'activities', 'app', 'workers', 'infra', 'workflows', 'domain', 'scripts', 'contracts']);

// Knex builders called on a table (`db('orders')`, `trx<Row>('orders')`), raw SQL, or SQL text.
const SQL_PATTERNS = [
  /\b(?:db|trx|tx|knex|deps\.db|this\.db)\s*(?:<[^>()]*>)?\(\s*['"`]/,
  /\.raw\s*\(/,
  /['"`]\s*(?:SELECT\s+[\w*(]|INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM|WITH\s+\w+\s+AS\s*\()/i,
  /\.query\s*\(\s*['"`]\s*(?:SELECT|INSERT|UPDATE|DELETE|CREATE|WITH)\b/i,
];

// Where a message name is used as such: the client handle's and the workflow API's calls.
const MESSAGE_CALL =
  /\b(?:signal|query|executeUpdate|startUpdate|signalWithStart|defineSignal|defineUpdate|defineQuery|setHandler|getHandler)\s*(?:<[^>()]*>)?\(\s*['"`]([A-Za-z]\w*)['"`]/g;
const NAME_DEFINITION = /\bdefine(?:Signal|Update|Query)\s*(?:<[\s\S]*?>)?\(\s*['"`](\w+)['"`]\s*\)/g;
const WORKFLOW_FUNCTION = /export\s+(?:async\s+)?function\s+(\w+Workflow)\s*\(/g;
const STRING_LITERAL = /['"`]([A-Za-z]\w*)['"`]/g;

function sourceFiles(dir: string): string[] {
  const full = path.join(ROOT, dir);
  if (!fs.existsSync(full)) return [];
  return fs
    .readdirSync(full, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => path.join(dir, f));
}

function collectNames(files: string[]) {
  const messages = new Set<string>();
  const workflows = new Set<string>();
  for (const file of files) {
    const text = fs.readFileSync(path.join(ROOT, file), 'utf8');
    if (file.startsWith('contracts/')) for (const m of text.matchAll(NAME_DEFINITION)) messages.add(m[1]);
    if (file.startsWith('workflows/')) for (const m of text.matchAll(WORKFLOW_FUNCTION)) workflows.add(m[1]);
  }
  return { messages, workflows };
}

// A comment line says how things work; it may name them.
const isComment = (line: string) => /^\s*(?:\/\/|\*|\/\*)/.test(line);

export function findOffences(files: string[]): string[] {
  const { messages, workflows } = collectNames(files);
  // Names with a capital letter (`paymentConfirmed`) are distinctive wherever they appear as a
  // string; one-word names (`state`, `cancel`) only where they are used as a message name.
  const distinctive = new Set([...workflows, ...[...messages].filter((n) => /[A-Z]/.test(n))]);
  const offences: string[] = [];
  for (const file of files) {
    const top = file.split(path.sep)[0];
    const inContract = top === 'contracts';
    const lines = fs.readFileSync(path.join(ROOT, file), 'utf8').split('\n');
    lines.forEach((line, i) => {
      if (isComment(line)) return;
      const where = `${file}:${i + 1}`;
      if (SQL_FREE_DIRS.has(top) && SQL_PATTERNS.some((p) => p.test(line))) offences.push(`${where}: SQL outside db/: ${line.trim()}`);
      if (inContract) return;
      if (/\bdefine(?:Signal|Update|Query)\s*[<(]/.test(line))
        offences.push(`${where}: message defined outside contracts/: ${line.trim()}`);
      for (const m of line.matchAll(MESSAGE_CALL)) {
        if (messages.has(m[1]) || workflows.has(m[1])) offences.push(`${where}: name outside its contract: ${m[1]}`);
      }
      for (const m of line.matchAll(STRING_LITERAL)) {
        if (distinctive.has(m[1]) && !MESSAGE_CALL.test(line)) offences.push(`${where}: name outside its contract: ${m[1]}`);
        MESSAGE_CALL.lastIndex = 0;
      }
    });
  }
  return offences;
}

if (require.main === module) {
  const offences = findOffences(SOURCE_DIRS.flatMap(sourceFiles));
  for (const o of offences) console.log(o);
  console.log(
    offences.length ? `${offences.length} boundary offences` : 'boundaries hold: no SQL outside db/, no flow names outside contracts/',
  );
  process.exit(offences.length ? 1 : 0);
}
