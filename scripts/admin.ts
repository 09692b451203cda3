/**
 * `npm run -s admin -- --phone +919876543210` makes the user who holds that number an admin —
 * creating the user if the number has never logged in — so a fresh install has someone to grant
 * the other staff roles through POST /v1/admin/users/:id/roles. Needs DATABASE_URL (applies
 * pending migrations first). Prints one JSON line: the user id, phone and roles.
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../app/config';
import { bumpTokenVersion, grantRoles, recordAuthEvent, userForPhone, userRoles } from '../db/identity';
import { createDb, migrateLatest } from '../db/knex';
import { parseMobileNumber } from '../domain/identity';
import { publishRevocation } from '../infra/revocation-store';
import Redis from 'ioredis';

const USAGE = 'usage: npm run -s admin -- --phone <mobile number, e.g. +919876543210>';

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { phone: { type: 'string' } } });
  const config = loadConfig();
  if (!values.phone) {
    console.error(USAGE);
    return 2;
  }
  const phone = parseMobileNumber(values.phone, config.AUTH_DEFAULT_COUNTRY);
  if (!phone) {
    console.error(`not a valid mobile number: ${values.phone}\n${USAGE}`);
    return 2;
  }
  if (!config.DATABASE_URL) {
    console.error('DATABASE_URL is required for npm run admin');
    return 2;
  }
  const db = createDb(config.DATABASE_URL, 2);
  const redis = config.REDIS_URL ? new Redis(config.REDIS_URL, { maxRetriesPerRequest: 3 }) : undefined;
  try {
    await migrateLatest(db);
    const result = await db.transaction(async (trx) => {
      const { user, created } = await userForPhone(trx, phone);
      await grantRoles(trx, user.id, ['admin'], 'cli');
      await bumpTokenVersion(trx, user.id);
      const roles = await userRoles(trx, user.id);
      await recordAuthEvent(trx, {
        action: 'auth.roles_changed',
        actor: 'cli',
        target: { type: 'user', id: user.id },
        ip: null,
        userAgent: 'npm run admin',
        details: { granted: ['admin'], roles, createdUser: created },
      });
      return { userId: user.id, phone, roles, created };
    });
    // Tokens the user already holds carry their old roles: they stop, the next refresh has admin.
    await publishRevocation(db, redis, result.userId, config.AUTH_ACCESS_TOKEN_TTL_SECONDS + 60);
    console.log(JSON.stringify(result));
    return 0;
  } finally {
    redis?.disconnect();
    await db.destroy();
  }
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
