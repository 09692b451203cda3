import { can, capabilitiesOf, isStaff, ROLES } from '../../domain/capabilities';

describe('capabilities granted to roles', () => {
  test.each([
    ['customer', 'wallet:topup', true],
    ['customer', 'wallet:read:any', false],
    ['customer', 'market:admin', false],
    ['seller', 'seller:manage', true],
    ['seller', 'order:checkout', false],
    ['support', 'subscription:manage:any', true],
    ['support', 'market:admin', false],
    ['support', 'payout:manage:any', false],
    ['admin', 'market:admin', true],
    ['admin', 'ledger:admin', true],
  ] as const)('%s may %s: %s', (role, capability, expected) => {
    expect(can([role], capability)).toBe(expected);
  });

  test('roles combine', () => {
    expect(can(['customer', 'support'], 'wallet:topup')).toBe(true);
    expect(can(['customer', 'support'], 'wallet:read:any')).toBe(true);
    expect(capabilitiesOf([]).size).toBe(0);
  });

  test('only support and admin are staff', () => {
    expect(ROLES.filter((r) => isStaff([r]))).toEqual(['support', 'admin']);
  });
});
