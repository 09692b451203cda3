import type Redis from 'ioredis';
import type { Queryable } from '../db/knex';
import { revocationState, type RevocationState } from '../db/identity';

/**
 * Which access tokens of a user no longer count: Postgres is the record (users.token_version,
 * auth_sessions.revoked_at); Redis holds a copy every API instance reads, one small JSON string
 * per user (`{"tv":3,"s":["ses_…"]}`: the token version and the recently revoked sessions) — a
 * string so that a batch of users is one MGET, the cheapest read Redis has.
 *
 * Readers that miss fill the copy from Postgres; writers, after committing, merge what Postgres
 * now says. A merge only ever raises the version and adds sessions, so a reader's late fill with
 * older data can never undo a writer's newer one, whatever order they land in.
 */
const MERGE = `
local key, tv, ttl = KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2])
local current = redis.call('GET', key)
local state = { tv = -2, s = {} }
if current then state = cjson.decode(current) end
if type(state.s) ~= 'table' then state.s = {} end
if tv > state.tv then state.tv = tv end
local seen = {}
for _, id in ipairs(state.s) do seen[id] = true end
for i = 3, #ARGV do
  if not seen[ARGV[i]] then
    seen[ARGV[i]] = true
    table.insert(state.s, ARGV[i])
  end
end
redis.call('SET', key, cjson.encode(state), 'PX', ttl)
return 1
`;

/** How long an untouched copy lives; a miss costs one Postgres read. */
const COPY_TTL_MS = 3600_000;

export class RevocationMirror {
  private readonly redis: Redis;

  constructor(
    redis: Redis,
    private readonly prefix = 'mandi:auth:revocations:',
  ) {
    if (!('revocationMerge' in redis)) redis.defineCommand('revocationMerge', { numberOfKeys: 1, lua: MERGE });
    this.redis = redis;
  }

  async read(userId: string): Promise<RevocationState | null> {
    return (await this.readMany([userId])).get(userId) ?? null;
  }

  /** The copies of many users in one round trip; users without one are left out. */
  async readMany(userIds: string[]): Promise<Map<string, RevocationState>> {
    const values = await this.redis.mget(userIds.map((id) => this.prefix + id));
    const copies = new Map<string, RevocationState>();
    values.forEach((value, i) => {
      if (value === null) return;
      const { tv, s } = JSON.parse(value) as { tv: number; s: unknown };
      // Lua's cjson writes an empty list as {}.
      copies.set(userIds[i], { tokenVersion: tv, revokedSessions: Array.isArray(s) ? s : [] });
    });
    return copies;
  }

  async merge(userId: string, state: RevocationState): Promise<void> {
    await this.mergeMany(new Map([[userId, state]]));
  }

  async mergeMany(states: Map<string, RevocationState>): Promise<void> {
    const pipeline = this.redis.pipeline() as ReturnType<Redis['pipeline']> & {
      revocationMerge(key: string, tv: number, ttlMs: number, ...sessions: string[]): unknown;
    };
    for (const [id, state] of states) pipeline.revocationMerge(this.prefix + id, state.tokenVersion, COPY_TTL_MS, ...state.revokedSessions);
    for (const [err] of (await pipeline.exec()) ?? []) if (err) throw err;
  }
}

/**
 * After a revocation is committed in Postgres: copy the user's state to Redis, so other API
 * instances see it once their few-second cache lapses. Activities (erasure) call it too.
 */
export async function publishRevocation(
  db: Queryable,
  redis: Redis | undefined,
  userId: string,
  withinSeconds: number,
): Promise<RevocationState> {
  const state = await revocationState(db, userId, withinSeconds);
  if (redis) await new RevocationMirror(redis).merge(userId, state);
  return state;
}
