import type Redis from 'ioredis';
import type { Queryable } from '../db/knex';
import { revocationState, type RevocationState } from '../db/identity';

/**
 * Which access tokens of a user no longer count: Postgres is the record (users.token_version,
 * auth_sessions.revoked_at); Redis holds a copy every API instance reads, one hash per user
 * (`tv` and one `s:<sessionId>` field per revoked session).
 *
 * Readers that miss fill the copy from Postgres; writers, after committing, merge what Postgres
 * now says. A merge only ever raises the version and adds sessions, so a reader's late fill with
 * older data can never undo a writer's newer one, whatever order they land in.
 */
const MERGE = `
local key, tv, ttl = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2])
local current = tonumber(redis.call('HGET', key, 'tv') or '-2')
if tv > current then redis.call('HSET', key, 'tv', tv) end
for i = 3, #ARGV do redis.call('HSET', key, 's:' .. ARGV[i], 1) end
redis.call('PEXPIRE', key, ttl)
return 1
`;

type MirrorRedis = Redis & { revocationMerge(key: string, tv: number, ttlMs: number, ...sessions: string[]): Promise<number> };

/** How long an untouched copy lives; a miss costs one Postgres read. */
const COPY_TTL_MS = 3600_000;

export class RevocationMirror {
  private readonly redis: MirrorRedis;

  constructor(
    redis: Redis,
    private readonly prefix = 'mandi:auth:rev:',
  ) {
    if (!('revocationMerge' in redis)) redis.defineCommand('revocationMerge', { numberOfKeys: 1, lua: MERGE });
    this.redis = redis as MirrorRedis;
  }

  async read(userId: string): Promise<RevocationState | null> {
    const fields = await this.redis.hgetall(this.prefix + userId);
    if (fields.tv === undefined) return null;
    const revokedSessions = Object.keys(fields)
      .filter((f) => f.startsWith('s:'))
      .map((f) => f.slice(2));
    return { tokenVersion: Number(fields.tv), revokedSessions };
  }

  async merge(userId: string, state: RevocationState): Promise<void> {
    await this.redis.revocationMerge(this.prefix + userId, state.tokenVersion, COPY_TTL_MS, ...state.revokedSessions);
  }
}

/**
 * After a revocation is committed in Postgres: copy the user's state to Redis, so other API
 * instances see it once their few-second cache lapses. Activities (erasure) call it too.
 */
export async function publishRevocation(db: Queryable, redis: Redis | undefined, userId: string, withinSeconds: number): Promise<RevocationState> {
  const state = await revocationState(db, userId, withinSeconds);
  if (redis) await new RevocationMirror(redis).merge(userId, state);
  return state;
}
