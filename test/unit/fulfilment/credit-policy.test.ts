import fc from 'fast-check';
import {
  DEFAULT_CREDIT_POLICY,
  FAILURE_REASONS,
  causedByCustomer,
  creditAction,
  creditAmount,
  creditDue,
  isCreditable,
  type CreditPolicy,
  type FailureReason,
} from '../../../domain/fulfilment';

const policies: CreditPolicy[] = [
  { creditNotHome: false, creditNoAccess: false },
  { creditNotHome: false, creditNoAccess: true },
  { creditNotHome: true, creditNoAccess: false },
  { creditNotHome: true, creditNoAccess: true },
];
const policyArb = fc.record({ creditNotHome: fc.boolean(), creditNoAccess: fc.boolean() });
const reasonArb = fc.constantFrom(...FAILURE_REASONS);

describe('which failures are credited', () => {
  // Every reason under every policy: the whole table, written out.
  test.each(
    policies.flatMap((p) =>
      FAILURE_REASONS.map((reason) => {
        const expected: Record<FailureReason, boolean> = {
          out_of_stock: true,
          other: true,
          refused: false,
          not_home: p.creditNotHome,
          no_access: p.creditNoAccess,
        };
        return [reason, p.creditNotHome, p.creditNoAccess, expected[reason]] as const;
      }),
    ),
  )('%s with creditNotHome=%s creditNoAccess=%s → credited %s', (reason, creditNotHome, creditNoAccess, expected) => {
    expect(isCreditable(reason, { creditNotHome, creditNoAccess })).toBe(expected);
  });

  test('by default not_home is the customer’s and no_access is not', () => {
    expect(isCreditable('not_home', DEFAULT_CREDIT_POLICY)).toBe(false);
    expect(isCreditable('no_access', DEFAULT_CREDIT_POLICY)).toBe(true);
  });

  test('a failure is credited exactly when the customer did not cause it', () => {
    fc.assert(fc.property(reasonArb, policyArb, (reason, policy) => isCreditable(reason, policy) === !causedByCustomer(reason, policy)));
  });

  test('refused is never credited and out_of_stock always is, whatever the policy', () => {
    fc.assert(
      fc.property(policyArb, (policy) => {
        expect(isCreditable('refused', policy)).toBe(false);
        expect(isCreditable('out_of_stock', policy)).toBe(true);
      }),
    );
  });

  test('only a failed delivery with a creditable reason is owed a credit', () => {
    expect(creditDue({ status: 'failed', reason: 'out_of_stock' }, DEFAULT_CREDIT_POLICY)).toBe(true);
    expect(creditDue({ status: 'failed', reason: 'refused' }, DEFAULT_CREDIT_POLICY)).toBe(false);
    for (const status of ['scheduled', 'delivered', 'unconfirmed'] as const) {
      expect(creditDue({ status, reason: null }, { creditNotHome: true, creditNoAccess: true })).toBe(false);
    }
  });
});

describe('keeping the ledger in line', () => {
  test.each([
    [false, false, 'none'],
    [false, true, 'issue'],
    [true, true, 'none'],
    [true, false, 'reverse'],
  ] as const)('credit held %s, due %s → %s', (held, due, action) => {
    expect(creditAction(held, due)).toBe(action);
  });

  test('following creditAction through any run of states leaves a credit exactly when the last state is owed one, and never two', () => {
    const stateArb = fc.oneof(
      fc.record({ status: fc.constant('failed' as const), reason: reasonArb }),
      fc.record({ status: fc.constantFrom('delivered' as const, 'unconfirmed' as const), reason: fc.constant(null) }),
    );
    fc.assert(
      fc.property(fc.array(stateArb, { minLength: 1, maxLength: 12 }), policyArb, (states, policy) => {
        let held = false;
        let issued = 0;
        let reversed = 0;
        for (const s of states) {
          const a = creditAction(held, creditDue(s, policy));
          if (a === 'issue') [held, issued] = [true, issued + 1];
          if (a === 'reverse') [held, reversed] = [false, reversed + 1];
          // Applying the same state again changes nothing: a repeated report never credits twice.
          expect(creditAction(held, creditDue(s, policy))).toBe('none');
        }
        expect(held).toBe(creditDue(states[states.length - 1], policy));
        expect(issued - reversed).toBe(held ? 1 : 0);
      }),
    );
  });
});

describe('the credit amount', () => {
  test('that day’s quantity at the unit price, in paise', () => {
    expect(creditAmount(2, 3_000)).toBe(6_000);
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 100 }), fc.integer({ min: 1, max: 10_000_000 }), (q, p) => creditAmount(q, p) === q * p),
    );
  });

  test.each([
    [0, 3_000],
    [-1, 3_000],
    [1.5, 3_000],
    [2, 0],
    [2, 10.5],
    [Number.MAX_SAFE_INTEGER, 2],
  ])('refuses quantity %p at %p', (q, p) => {
    expect(() => creditAmount(q, p)).toThrow(RangeError);
  });
});
