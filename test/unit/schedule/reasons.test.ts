import {
  CHANGE_REASONS,
  DEFAULT_REASON,
  EXCEPTION_REASONS,
  HOLIDAY_REASONS,
  PAUSE_REASONS,
  SKIP_REASONS,
  isAllowedReason,
} from '../../../domain/schedule';
import { resumablePauses } from '../../../domain/subscription';

test('every request list draws from the one reason enum, and each default is allowed where it is used', () => {
  for (const list of [PAUSE_REASONS, SKIP_REASONS, CHANGE_REASONS, HOLIDAY_REASONS]) {
    for (const r of list) expect(EXCEPTION_REASONS).toContain(r);
  }
  expect(PAUSE_REASONS).toContain(DEFAULT_REASON.pause);
  expect(SKIP_REASONS).toContain(DEFAULT_REASON.skip);
  expect(CHANGE_REASONS).toContain(DEFAULT_REASON.change);
  expect(HOLIDAY_REASONS).toContain(DEFAULT_REASON.holiday);
});

test('payment_failure is the system’s own: no request may give it', () => {
  for (const list of [PAUSE_REASONS, SKIP_REASONS, CHANGE_REASONS, HOLIDAY_REASONS]) expect(list).not.toContain('payment_failure');
});

test('isAllowedReason', () => {
  expect(isAllowedReason(SKIP_REASONS, 'holiday')).toBe(true);
  expect(isAllowedReason(PAUSE_REASONS, 'holiday')).toBe(false);
  expect(isAllowedReason(SKIP_REASONS, 'whatever I like')).toBe(false);
  expect(isAllowedReason(SKIP_REASONS, undefined)).toBe(false);
});

test('a resume ends exactly the pauses a pause request could have started', () => {
  const base = { type: 'skip' as const, from: '2026-08-12', to: null, createdBy: 'c', createdAt: '2026-08-01T00:00:00Z' };
  const all = EXCEPTION_REASONS.map((reason, i) => ({ ...base, id: `E${i}`, reason }));
  expect(
    resumablePauses(all, '2026-08-12')
      .map((e) => e.reason)
      .sort(),
  ).toEqual([...PAUSE_REASONS].sort());
});
