import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { userRoles } from '../../db/identity';
import { createTestDatabase, type TestDatabase } from '../support/db';
import { randomPhone } from '../e2e/auth-helpers';

/** `npm run -s admin -- --phone …`: the first admin of a fresh install, from the command line. */

const run = promisify(execFile);
const root = path.resolve(__dirname, '../..');
let tdb: TestDatabase;
beforeAll(async () => {
  tdb = await createTestDatabase();
});
afterAll(async () => {
  await tdb.drop();
});

const admin = (args: string[], env: Record<string, string> = {}) =>
  run(process.execPath, ['--import', 'tsx', 'scripts/admin.ts', ...args], {
    cwd: root,
    env: { ...process.env, DATABASE_URL: tdb.url, LOG_LEVEL: 'silent', ...env },
  });

test('makes the holder of a number an admin (creating the user), idempotently, and audits it', async () => {
  const phone = randomPhone();
  const first = JSON.parse((await admin(['--phone', phone.slice(3)])).stdout);
  expect(first).toMatchObject({ phone, roles: ['customer', 'admin'], created: true });
  expect(first.userId).toMatch(/^usr_/);
  const second = JSON.parse((await admin(['--phone', phone])).stdout);
  expect(second).toMatchObject({ userId: first.userId, created: false, roles: ['customer', 'admin'] });
  expect(await userRoles(tdb.db, first.userId)).toEqual(['customer', 'admin']);
  const audit = await tdb.db('audit_log').where({ action: 'auth.roles_changed', target_id: first.userId });
  expect(audit).toHaveLength(2);
  expect(audit[0]).toMatchObject({ actor: 'cli' });
}, 60_000);

test('a number that is not a mobile number is refused with exit code 2', async () => {
  await expect(admin(['--phone', '022 2345 6789'])).rejects.toMatchObject({
    code: 2,
    stderr: expect.stringContaining('not a valid mobile number'),
  });
  await expect(admin([])).rejects.toMatchObject({ code: 2, stderr: expect.stringContaining('usage') });
}, 60_000);
