/**
 * Who may do what. Handlers ask for a capability; roles grant capabilities.
 * A customer acts only on what is theirs (handlers check ownership on top of the capability);
 * `:any` capabilities let staff act on everybody's.
 */
export const ROLES = ['customer', 'seller', 'support', 'admin', 'delivery'] as const;
export type Role = (typeof ROLES)[number];

export const CAPABILITIES = [
  'wallet:read',
  'wallet:topup',
  'wallet:read:any',
  'subscription:manage',
  'subscription:manage:any',
  'subscription:explain:any',
  'subscription:admin',
  'order:checkout',
  'order:read:any',
  'order:manage:any',
  'seller:manage',
  'seller:admin',
  'payout:manage:any',
  'market:trade',
  'market:read',
  'market:admin',
  /** Watch shows and lots. */
  'auction:read',
  /** Bid, buy now, answer a second-chance offer. */
  'auction:bid',
  /** Staff: run any seller's shows and lots (start, pause, end, cancel, second chance). */
  'auction:manage:any',
  'ledger:admin',
  'ops:read',
  /** Retry or abandon the step a flow is stuck on (any flow type). */
  'flow:retry',
  /** Your own account: sessions, phone, deletion. */
  'account:manage',
  /** Staff: see anyone's account; cancel a pending deletion; grant roles and seller links. */
  'account:read:any',
  'account:manage:any',
  'account:admin',
  /** Delivery staff: the route sheets of the areas they are assigned to, and reporting outcomes there. */
  'delivery:work',
  /** Ops: every area's route sheet, outcome corrections (audited), the route order of addresses. */
  'delivery:manage:any',
  /** Admin: delivery areas (time zone, cutoff, credit policy) and which staff cover them. */
  'delivery:admin',
] as const;
export type Capability = (typeof CAPABILITIES)[number];

/** Support: any customer's wallet, subscriptions and orders, the ops views, and any account. */
const SUPPORT: readonly Capability[] = [
  'wallet:read:any',
  'subscription:manage:any',
  'subscription:explain:any',
  'order:read:any',
  'order:manage:any',
  'market:read',
  'auction:read',
  'auction:manage:any',
  'ops:read',
  'flow:retry',
  'account:manage',
  'account:read:any',
  'account:manage:any',
  'delivery:manage:any',
];

const GRANTS: Record<Role, readonly Capability[]> = {
  customer: [
    'wallet:read',
    'wallet:topup',
    'subscription:manage',
    'order:checkout',
    'market:trade',
    'market:read',
    'auction:read',
    'auction:bid',
    'account:manage',
  ],
  seller: ['wallet:read', 'seller:manage', 'market:read', 'auction:read', 'account:manage'],
  support: SUPPORT,
  // The person on the bike: their areas' route sheets and outcomes (assignment is checked per area).
  delivery: ['delivery:work', 'account:manage'],
  // Everything support may do, and the administration of the catalog, payouts, sellers, markets, ledger and roles.
  admin: [
    ...SUPPORT,
    'subscription:admin',
    'payout:manage:any',
    'seller:admin',
    'market:admin',
    'ledger:admin',
    'account:admin',
    'delivery:admin',
  ],
};

export function capabilitiesOf(roles: readonly Role[]): Set<Capability> {
  return new Set(roles.flatMap((role) => GRANTS[role] ?? []));
}

export function can(roles: readonly Role[], capability: Capability): boolean {
  return capabilitiesOf(roles).has(capability);
}

/** Staff roles whose actions are written to the audit log. */
export function isStaff(roles: readonly Role[]): boolean {
  return roles.includes('support') || roles.includes('admin');
}
