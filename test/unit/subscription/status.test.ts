import type { ScheduleException } from '../../../domain/schedule';
import {
  exceptionsToCarry,
  explainStatus,
  flowStatusOf,
  nextSkipBoundary,
  resumablePauses,
  type StatusFacts,
} from '../../../domain/subscription';

const skip = (id: string, from: string, to: string | null, reason = 'vacation', endedAt: string | null = null): ScheduleException => ({
  id,
  type: 'skip',
  from,
  to,
  reason,
  createdBy: 'c',
  createdAt: '2026-08-01T00:00:00Z',
  endedAt,
});
const extra = (id: string, date: string): ScheduleException => ({
  id,
  type: 'deliver_extra',
  from: date,
  to: date,
  quantity: 2,
  reason: 'special_request',
  createdBy: 'c',
  createdAt: '2026-08-01T00:00:00Z',
  endedAt: null,
});

const facts = (over: Partial<StatusFacts> = {}): StatusFacts => ({
  today: '2026-08-10',
  cancelledFrom: null,
  lastDay: null,
  billing: 'paid',
  billingReason: null,
  dunning: null,
  dunningRetries: 4,
  pausedToday: null,
  period: 2,
  renewalDate: () => '2026-09-01',
  ...over,
});
const dunning = {
  period: 3,
  attempts: 2,
  retriesDone: 1,
  firstFailedAtMs: 0,
  nextRetryAtMs: Date.parse('2026-08-12T00:00:00Z'),
  lastError: 'card_declined',
  pauseExceptionId: null,
};

describe('FlowStatus and the sentence support reads', () => {
  test.each<[string, Partial<StatusFacts>, string, string]>([
    [
      'cancelled wins over everything',
      { cancelledFrom: '2026-08-11', billing: 'payment_failed', billingReason: 'cancelled by support:a from 2026-08-11' },
      'cancelled',
      'cancelled by support:a from 2026-08-11',
    ],
    ['cancelled without a recorded reason', { cancelledFrom: '2026-08-11' }, 'cancelled', 'cancelled from 2026-08-11'],
    ['past the last day', { lastDay: '2026-08-09', billing: 'retrying' }, 'ended', 'ended: the last delivery day was 2026-08-09'],
    ['on the last day it is still running', { lastDay: '2026-08-10' }, 'active', 'active; period 2 paid, next renewal on 2026-09-01'],
    [
      'retries ran out',
      { billing: 'payment_failed', dunning: { ...dunning, attempts: 5, nextRetryAtMs: null } },
      'payment_failed',
      'renewal of period 3 was declined 5 times (last: card_declined); deliveries are paused (payment_failure) until the payment method is updated',
    ],
    [
      'a retry is scheduled',
      { billing: 'retrying', dunning },
      'retrying_payment',
      'renewal of period 3 was declined (card_declined); retry 2 of 4 at 2026-08-12T00:00:00.000Z; deliveries continue meanwhile',
    ],
    [
      "paused today, with the schedule's own explanation",
      { pausedToday: 'no delivery: exception E4 vacation 2026-08-08–2026-08-12' },
      'paused',
      'no delivery: exception E4 vacation 2026-08-08–2026-08-12',
    ],
    ['before the first renewal', { period: 0, billing: 'pending' }, 'active', 'waiting for the first renewal on 2026-09-01'],
  ])('%s', (_name, over, status, why) => {
    expect(flowStatusOf(facts(over))).toBe(status);
    expect(explainStatus(facts(over))).toBe(why);
  });

  test('the renewal date is worked out only when the sentence needs it', () => {
    const renewalDate = jest.fn(() => '2026-09-01');
    expect(flowStatusOf(facts({ renewalDate }))).toBe('active');
    explainStatus(facts({ renewalDate, billing: 'retrying', dunning }));
    expect(renewalDate).not.toHaveBeenCalled();
  });
});

describe('which pauses a resume ends', () => {
  const exceptions = [
    skip('E1', '2026-08-05', '2026-08-20'),
    skip('E2', '2026-08-01', '2026-08-09'),
    skip('E3', '2026-08-12', null, 'payment_failure'),
    skip('E4', '2026-08-12', null, 'holiday'),
    skip('E5', '2026-08-01', '2026-08-30', 'special_request', '2026-08-10'),
    skip('E6', '2026-08-15', null, 'system_pause'),
    extra('E7', '2026-08-15'),
  ];
  test('resumable reasons only, still in effect on or after the day', () => {
    expect(resumablePauses(exceptions, '2026-08-10').map((e) => e.id)).toEqual(['E1', 'E6']);
    expect(resumablePauses(exceptions, '2026-08-09').map((e) => e.id)).toEqual(['E1', 'E2', 'E5', 'E6']);
    expect(resumablePauses(exceptions, '2026-08-21').map((e) => e.id)).toEqual(['E6']);
  });
});

describe('the next day the paused/active state can flip', () => {
  test('the nearest start or end after today, across skips; other exceptions do not count', () => {
    const exceptions = [skip('E1', '2026-08-05', '2026-08-20'), skip('E2', '2026-08-14', null), extra('E3', '2026-08-11')];
    expect(nextSkipBoundary(exceptions, '2026-08-10')).toBe('2026-08-14');
    expect(nextSkipBoundary(exceptions, '2026-08-14')).toBe('2026-08-21');
    expect(nextSkipBoundary(exceptions, '2026-08-21')).toBeNull();
  });
  test('an early resume ends it on the resume day', () => {
    expect(nextSkipBoundary([skip('E1', '2026-08-05', '2026-08-20', 'vacation', '2026-08-12')], '2026-08-10')).toBe('2026-08-12');
  });
});

describe('what is carried into the next run', () => {
  test('open-ended exceptions and those that ended within 400 days', () => {
    const exceptions = [
      skip('old', '2025-01-01', '2025-01-10'),
      skip('edge', '2025-07-06', '2025-07-06'),
      skip('open', '2024-01-01', null),
      skip('ended-old', '2024-01-01', null, 'vacation', '2025-01-05'),
      extra('recent-extra', '2026-08-01'),
    ];
    // 400 days before 2026-08-10 is 2025-07-06.
    expect(exceptionsToCarry(exceptions, '2026-08-10').map((e) => e.id)).toEqual(['edge', 'open', 'recent-extra']);
  });
});
