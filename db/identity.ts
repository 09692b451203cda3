/**
 * Every table access of identity: users, roles, seller links, sessions and their refresh tokens,
 * consents, external identities, the revocation state, deletion blockers and erasure, and the
 * audit rows of auth events. Routes, activities and scripts call these.
 */
import { randomBytes } from 'node:crypto';
import { accounts } from '../domain/ledger/accounts';
import type { Role } from '../domain/capabilities';
import { rolesOf, type DeletionBlocker, type GrantableRole } from '../domain/identity';
import { TERMINAL_ORDER_STATUSES } from '../domain/checkout/status';
import type { Queryable, Tx } from './knex';

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

/** 20 base32 characters: 100 bits of randomness. */
function randomId(prefix: string): string {
  const bytes = randomBytes(20);
  let out = prefix;
  for (const b of bytes) out += BASE32[b & 31];
  return out;
}

export const newUserId = () => randomId('usr_');
export const newSessionId = () => randomId('ses_');

export interface UserRow {
  id: string;
  phone: string | null;
  display_name: string | null;
  token_version: number;
  terms_version: string | null;
  terms_accepted_at: Date | null;
  deletion_requested_at: Date | null;
  deletion_erase_after: Date | null;
  erased_at: Date | null;
  created_at: Date;
  last_login_at: Date | null;
}

export async function findUser(q: Queryable, userId: string): Promise<UserRow | undefined> {
  return q<UserRow>('users').where({ id: userId }).first();
}

export async function findUserByPhone(q: Queryable, phone: string): Promise<UserRow | undefined> {
  return q<UserRow>('users').where({ phone }).first();
}

/** `customer`, `seller` when linked to a seller, and what an admin granted. */
export async function userRoles(q: Queryable, userId: string): Promise<Role[]> {
  const { rows } = await q.raw(
    `SELECT array(SELECT role FROM user_roles WHERE user_id = :userId) AS granted,
            EXISTS (SELECT 1 FROM seller_users WHERE user_id = :userId) AS linked`,
    { userId },
  );
  return rolesOf({ granted: rows[0].granted, linkedToSeller: rows[0].linked });
}

export async function sellerExists(q: Queryable, sellerId: string): Promise<boolean> {
  return (await q('sellers').where({ id: sellerId }).first('id')) !== undefined;
}

export async function sellerIdsOf(q: Queryable, userId: string): Promise<string[]> {
  return q('seller_users').where({ user_id: userId }).orderBy('seller_id').pluck('seller_id');
}

/** Whether an admin linked this user to this seller. */
export async function isLinkedToSeller(q: Queryable, userId: string, sellerId: string): Promise<boolean> {
  return (await q('seller_users').where({ user_id: userId, seller_id: sellerId }).first('seller_id')) !== undefined;
}

/**
 * The user who holds `phone` now, created on first login. Locked for the rest of the
 * transaction, so two logins of a new number create one user.
 */
export async function userForPhone(trx: Tx, phone: string): Promise<{ user: UserRow; created: boolean }> {
  const inserted = await trx('users').insert({ id: newUserId(), phone }).onConflict('phone').ignore().returning('*');
  if (inserted.length) return { user: inserted[0] as UserRow, created: true };
  const user = await trx<UserRow>('users').where({ phone }).forUpdate().first();
  if (!user) throw new Error(`user with phone vanished during login`);
  return { user, created: false };
}

export async function recordLogin(
  trx: Tx,
  userId: string,
  consent: { termsVersion: string; ip: string | null; userAgent: string | null },
): Promise<UserRow> {
  await trx('user_consents').insert({
    user_id: userId,
    terms_version: consent.termsVersion,
    ip: consent.ip,
    user_agent: consent.userAgent,
  });
  const [user] = await trx('users')
    .where({ id: userId })
    .update({ terms_version: consent.termsVersion, terms_accepted_at: trx.fn.now(), last_login_at: trx.fn.now() })
    .returning('*');
  return user as UserRow;
}

/**
 * The number now belongs to `userId` (who just proved they hold it). Whoever had it before loses
 * it: Indian operators recycle numbers, and possession is what the code proves.
 */
export async function movePhone(trx: Tx, userId: string, phone: string): Promise<{ previousHolder: string | null }> {
  const holder = await trx('users').where({ phone }).whereNot({ id: userId }).forUpdate().first('id');
  if (holder) await trx('users').where({ id: holder.id }).update({ phone: null });
  await trx('users').where({ id: userId }).update({ phone });
  return { previousHolder: holder?.id ?? null };
}

// --- sessions and refresh tokens -------------------------------------------------------------

export interface SessionRow {
  id: string;
  user_id: string;
  device: string | null;
  user_agent: string | null;
  ip: string | null;
  created_at: Date;
  last_used_at: Date;
  revoked_at: Date | null;
  revoked_reason: string | null;
}

export async function createSession(
  q: Queryable,
  s: { userId: string; device: string | null; userAgent: string | null; ip: string | null },
): Promise<string> {
  const id = newSessionId();
  await q('auth_sessions').insert({ id, user_id: s.userId, device: s.device, user_agent: s.userAgent, ip: s.ip });
  return id;
}

export async function insertRefreshToken(q: Queryable, t: { hash: Buffer; sessionId: string; expiresAt: Date }): Promise<void> {
  await q('refresh_tokens').insert({ token_hash: t.hash, session_id: t.sessionId, expires_at: t.expiresAt });
}

export interface LockedRefreshToken {
  session_id: string;
  user_id: string;
  expires_at: Date;
  used_at: Date | null;
  session_revoked_at: Date | null;
}

/** The token and its session, locked: two refreshes with one token are decided one after the other. */
export async function lockRefreshToken(trx: Tx, hash: Buffer): Promise<LockedRefreshToken | undefined> {
  return trx('refresh_tokens as t')
    .join('auth_sessions as s', 's.id', 't.session_id')
    .where('t.token_hash', hash)
    .forUpdate()
    .first('t.session_id', 's.user_id', 't.expires_at', 't.used_at', 's.revoked_at as session_revoked_at');
}

/**
 * How long a retired refresh token is kept to recognise its reuse. Older ones are deleted as the
 * session rotates, so a session refreshing every 15 minutes for 90 days stays small; a token older
 * than this shown again is merely unknown (refused, without revoking the session).
 */
const REUSE_DETECTION_DAYS = 30;

export async function retireRefreshToken(trx: Tx, hash: Buffer, sessionId: string): Promise<void> {
  await trx('refresh_tokens').where({ token_hash: hash }).update({ used_at: trx.fn.now() });
  await trx('refresh_tokens')
    .where({ session_id: sessionId })
    .whereRaw(`used_at < now() - make_interval(days => ?)`, [REUSE_DETECTION_DAYS])
    .delete();
  await trx('auth_sessions').where({ id: sessionId }).update({ last_used_at: trx.fn.now() });
}

/** Ends a session: its refresh tokens stop working; true when it was still live. */
export async function revokeSession(q: Queryable, sessionId: string, reason: string, userId?: string): Promise<boolean> {
  const query = q('auth_sessions').where({ id: sessionId }).whereNull('revoked_at');
  if (userId) query.andWhere({ user_id: userId });
  return (await query.update({ revoked_at: q.fn.now(), revoked_reason: reason })) > 0;
}

export async function revokeAllSessions(q: Queryable, userId: string, reason: string): Promise<number> {
  return q('auth_sessions').where({ user_id: userId }).whereNull('revoked_at').update({ revoked_at: q.fn.now(), revoked_reason: reason });
}

/** Every access token the user holds stops working (checked on each request, see api/identity). */
export async function bumpTokenVersion(q: Queryable, userId: string): Promise<number> {
  const [row] = await q('users').where({ id: userId }).increment('token_version', 1).returning('token_version');
  return row?.token_version ?? -1;
}

export async function liveSessions(q: Queryable, userId: string, refreshTtlDays: number): Promise<SessionRow[]> {
  return q<SessionRow>('auth_sessions')
    .where({ user_id: userId })
    .whereNull('revoked_at')
    .whereRaw(`last_used_at > now() - make_interval(days => ?)`, [refreshTtlDays])
    .orderBy('last_used_at', 'desc')
    .limit(100);
}

export interface RevocationState {
  /** -1 when the user does not exist: no token matches it. */
  tokenVersion: number;
  /** Sessions ended recently enough that one of their access tokens may still be unexpired. */
  revokedSessions: string[];
}

/** The state of many users in one round trip (API instances read them in batches). */
export async function revocationStates(q: Queryable, userIds: string[], withinSeconds: number): Promise<Map<string, RevocationState>> {
  const { rows } = await q.raw(
    `SELECT u.id, u.token_version AS tv,
            array(SELECT s.id FROM auth_sessions s WHERE s.user_id = u.id AND s.revoked_at > now() - make_interval(secs => ?)) AS revoked
       FROM users u WHERE u.id = ANY(?)`,
    [withinSeconds, userIds],
  );
  const states = new Map<string, RevocationState>(
    rows.map((r: { id: string; tv: number; revoked: string[] }) => [r.id, { tokenVersion: r.tv, revokedSessions: r.revoked }]),
  );
  for (const id of userIds) if (!states.has(id)) states.set(id, { tokenVersion: -1, revokedSessions: [] });
  return states;
}

export async function revocationState(q: Queryable, userId: string, withinSeconds: number): Promise<RevocationState> {
  return (await revocationStates(q, [userId], withinSeconds)).get(userId)!;
}

// --- roles and seller links --------------------------------------------------------------------

export async function grantRoles(q: Queryable, userId: string, roles: GrantableRole[], by: string): Promise<void> {
  if (!roles.length) return;
  await q('user_roles')
    .insert(roles.map((role) => ({ user_id: userId, role, granted_by: by })))
    .onConflict(['user_id', 'role'])
    .ignore();
}

export async function revokeRoles(q: Queryable, userId: string, roles: GrantableRole[]): Promise<void> {
  if (!roles.length) return;
  await q('user_roles').where({ user_id: userId }).whereIn('role', roles).delete();
}

export async function linkSeller(q: Queryable, userId: string, sellerId: string, by: string): Promise<void> {
  await q('seller_users').insert({ user_id: userId, seller_id: sellerId, linked_by: by }).onConflict(['user_id', 'seller_id']).ignore();
}

export async function unlinkSeller(q: Queryable, userId: string, sellerId: string): Promise<boolean> {
  return (await q('seller_users').where({ user_id: userId, seller_id: sellerId }).delete()) > 0;
}

// --- external identity provider ----------------------------------------------------------------

/** The Mandi user behind an external provider's subject, created the first time it is seen. */
export async function userForExternalSubject(
  q: Queryable,
  issuer: string,
  subject: string,
): Promise<{ userId: string; tokenVersion: number }> {
  const known = await q('external_identities as e')
    .join('users as u', 'u.id', 'e.user_id')
    .where({ 'e.issuer': issuer, 'e.subject': subject })
    .first('u.id', 'u.token_version');
  if (known) return { userId: known.id, tokenVersion: known.token_version };
  return q.transaction(async (trx) => {
    const userId = newUserId();
    await trx('users').insert({ id: userId });
    const inserted = await trx('external_identities')
      .insert({ issuer, subject, user_id: userId })
      .onConflict(['issuer', 'subject'])
      .ignore()
      .returning('user_id');
    if (inserted.length) return { userId, tokenVersion: 0 };
    // Another request mapped it first: use theirs, drop ours.
    await trx('users').where({ id: userId }).delete();
    const row = await trx('external_identities as e')
      .join('users as u', 'u.id', 'e.user_id')
      .where({ 'e.issuer': issuer, 'e.subject': subject })
      .first('u.id', 'u.token_version');
    return { userId: row.id, tokenVersion: row.token_version };
  });
}

// --- account deletion --------------------------------------------------------------------------

export async function markDeletionRequested(q: Queryable, userId: string, eraseAfter: Date): Promise<void> {
  await q('users').where({ id: userId }).update({ deletion_requested_at: q.fn.now(), deletion_erase_after: eraseAfter });
}

export async function clearDeletionRequest(q: Queryable, userId: string): Promise<void> {
  await q('users').where({ id: userId }).update({ deletion_requested_at: null, deletion_erase_after: null });
}

/** Holds the user's row for the rest of the transaction: blockers read after it cannot change under the erasure. */
export async function lockUser(trx: Tx, userId: string): Promise<void> {
  await trx('users').where({ id: userId }).forUpdate().first('id');
}

/** When the user was erased, or null (not erased, or no such user). */
export async function erasedAtOf(q: Queryable, userId: string): Promise<Date | null> {
  const row = await q<UserRow>('users').where({ id: userId }).first('erased_at');
  return row?.erased_at ?? null;
}

const FIRST_IDS = 10;

/** Money owed to or held for the user: while any of it remains the account is not erased. */
export async function deletionBlockers(q: Queryable, userId: string): Promise<DeletionBlocker[]> {
  const wallet = accounts.userWallet(userId);
  // One after the other: inside a transaction (erasure) there is one connection to share.
  const orders = await q('orders')
    .where({ buyer_id: userId })
    .whereNotIn('status', TERMINAL_ORDER_STATUSES as string[])
    .orderBy('created_at')
    .pluck('id');
  const holds = await q('holds').where({ account_id: wallet, status: 'open' }).orderBy('id').pluck('id');
  const subscriptions = await q('subscriptions').where({ customer_id: userId, status: 'active' }).orderBy('created_at').pluck('id');
  const topups = await q('topups').where({ user_id: userId }).whereIn('status', ['pending', 'awaiting_confirmation']).pluck('id');
  const positions = await q('market_positions as p')
    .join('markets as m', 'm.id', 'p.market_id')
    .where('p.user_id', userId)
    .where('p.quantity', '>', 0)
    .whereNotIn('m.status', ['settled', 'voided'])
    .distinct('p.market_id')
    .pluck('p.market_id');
  const balance = await q('account_balances').where({ account_id: wallet }).sum({ balance: 'balance' }).first();
  const blockers: DeletionBlocker[] = [];
  const add = (kind: DeletionBlocker['kind'], ids: Array<string | number>) => {
    if (ids.length) blockers.push({ kind, count: ids.length, ids: ids.slice(0, FIRST_IDS).map(String) });
  };
  add('open_orders', orders);
  add('open_holds', holds);
  add('active_subscriptions', subscriptions);
  add('pending_topups', topups);
  add('open_market_positions', positions);
  const amount = Number(balance?.balance ?? 0);
  if (amount !== 0) blockers.push({ kind: 'wallet_balance', count: 1, ids: [wallet], amount });
  return blockers;
}

/**
 * Erases the user's personal data and keeps the row under its opaque id, which the ledger's
 * account names, orders and subscriptions refer to. Safe to run twice.
 */
export async function eraseUser(trx: Tx, userId: string): Promise<{ erased: boolean }> {
  const user = await trx<UserRow>('users').where({ id: userId }).forUpdate().first();
  if (!user) return { erased: false };
  if (user.phone) await trx('fake_provider.otp_messages').where({ phone: user.phone }).delete();
  await trx('users')
    .where({ id: userId })
    .update({
      phone: null,
      display_name: null,
      deletion_requested_at: null,
      deletion_erase_after: null,
      erased_at: user.erased_at ?? trx.fn.now(),
      token_version: trx.raw('token_version + 1'),
    });
  await trx('auth_sessions')
    .where({ user_id: userId })
    .whereNull('revoked_at')
    .update({ revoked_at: trx.fn.now(), revoked_reason: 'account_erased' });
  await trx('auth_sessions').where({ user_id: userId }).update({ device: null, user_agent: null, ip: null });
  await trx('refresh_tokens')
    .whereIn('session_id', trx('auth_sessions').select('id').where({ user_id: userId }))
    .delete();
  // Proof of consent stays (which terms, when); where it was given from goes.
  await trx('user_consents').where({ user_id: userId }).update({ ip: null, user_agent: null });
  await trx('external_identities').where({ user_id: userId }).delete();
  await trx('user_roles').where({ user_id: userId }).delete();
  await trx('seller_users').where({ user_id: userId }).delete();
  return { erased: true };
}

// --- audit -------------------------------------------------------------------------------------

/**
 * The audit row of a deletion flow's event, once per workflow run however often the activity is
 * retried (the run id in the details is the key).
 */
export async function recordDeletionEventOnce(
  q: Queryable,
  e: { userId: string; action: string; actor: string; runId: string; details: Record<string, unknown> },
): Promise<void> {
  await q.raw(
    `INSERT INTO audit_log (actor, roles, action, target_type, target_id, details)
     SELECT ?, '{}', ?, 'user', ?, ?::jsonb
     WHERE NOT EXISTS (SELECT 1 FROM audit_log WHERE target_type = 'user' AND target_id = ? AND action = ? AND details->>'runId' = ?)`,
    [e.actor, e.action, e.userId, JSON.stringify({ ...e.details, runId: e.runId }), e.userId, e.action, e.runId],
  );
}

export interface AuthEvent {
  action: string;
  /** The user acting, when known; `anonymous` before login. */
  actor: string;
  roles?: Role[];
  target: { type: string; id: string };
  ip: string | null;
  userAgent: string | null;
  details?: Record<string, unknown>;
}

/** Every auth event leaves an audit row with where it came from. */
export async function recordAuthEvent(q: Queryable, e: AuthEvent): Promise<void> {
  await q('audit_log').insert({
    actor: e.actor,
    roles: e.roles ?? [],
    action: e.action,
    target_type: e.target.type,
    target_id: e.target.id,
    details: JSON.stringify({ ip: e.ip, userAgent: e.userAgent, ...e.details }),
  });
}
