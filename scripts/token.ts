/** `npm run token -- --user <id> --roles customer,support [--ttl 12h]` prints a bearer JWT for local use. */
import { parseArgs } from 'node:util';
import { loadConfig } from '../app/config';
import { signToken } from '../api/auth';
import { ROLES, type Role } from '../domain/capabilities';

const { values } = parseArgs({
  options: { user: { type: 'string' }, roles: { type: 'string', default: 'customer' }, ttl: { type: 'string', default: '12h' } },
});
if (!values.user) {
  console.error('usage: npm run token -- --user <id> --roles customer,support [--ttl 12h]');
  process.exit(2);
}
const roles = values.roles!.split(',').map((r) => r.trim()) as Role[];
const unknown = roles.filter((r) => !ROLES.includes(r));
if (unknown.length) {
  console.error(`unknown role(s): ${unknown.join(', ')}; roles are ${ROLES.join(', ')}`);
  process.exit(2);
}
console.log(signToken(loadConfig().JWT_SECRET, { userId: values.user, roles }, values.ttl!));
