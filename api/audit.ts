import type { Queryable } from '../db/knex';
import { isStaff } from '../domain/capabilities';
import type { Principal } from './auth';

/** Every support and admin action leaves a row: who, what, on which resource. */
export async function auditStaffAction(
  q: Queryable,
  principal: Principal,
  action: string,
  target: { type: string; id: string },
  details: Record<string, unknown> = {},
): Promise<void> {
  if (!isStaff(principal.roles)) return;
  await q('audit_log').insert({
    actor: principal.userId,
    roles: principal.roles,
    action,
    target_type: target.type,
    target_id: target.id,
    details: JSON.stringify(details),
  });
}
