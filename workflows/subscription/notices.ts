/**
 * What the customer is told: each notice once per key (the keys survive continue-as-new), and the
 * pause notices — "your pause ends today" on a pause's last day and a reminder after a long pause.
 */
import { addDays, cutoffInstant, nextDeliveries, type LocalDate } from '../../domain/schedule';
import { upcomingPauseEvents } from '../../domain/subscription';
import { noticeKeys } from '../../contracts/subscription';
import type { FlowControl } from '../stuck';
import { acts, skipStep } from './steps';
import type { SubscriptionEntity } from './entity';

const MAX_NOTIFIED_KEYS = 200;

/** Midnight of a local date, on the subscription clock. */
export const startOfDay = (e: SubscriptionEntity, date: LocalDate) => cutoffInstant(date, e.tz, '00:00');

export function createNotices(e: SubscriptionEntity, flow: FlowControl) {
  const { st, sub } = e;

  const notify = async (key: string, kind: string, message: string, data: Record<string, unknown> = {}) => {
    if (st.notified.includes(key)) return;
    await flow.step(
      'notify',
      () => acts.notifyCustomer({ key, customerId: sub.customerId, subscriptionId: sub.id, kind, message, data }),
      skipStep('this notification'),
    );
    st.notified.push(key);
    if (st.notified.length > MAX_NOTIFIED_KEYS) st.notified.splice(0, st.notified.length - MAX_NOTIFIED_KEYS);
  };

  /** Sends the pause notices that are due; returns when the next one is (Infinity: none ahead). */
  const sendDuePauseNotices = async (): Promise<number> => {
    const events = upcomingPauseEvents(st.exceptions, e.today(), e.settings.pauseReminderDays, e.lastDay());
    for (const ev of events) {
      const at = startOfDay(e, ev.date);
      const key = ev.kind === 'pause_ending' ? noticeKeys.pauseEnds(sub.id, ev.date) : noticeKeys.pauseReminder(sub.id, ev.runStart);
      if (st.notified.includes(key)) continue;
      if (at > e.now()) return at;
      if (ev.kind === 'pause_ending') {
        const resumesOn = nextDeliveries(e.scheduleSub(), st.exceptions, addDays(ev.date, 1), 1)[0]?.date ?? null;
        await notify(
          key,
          'pause_ending',
          resumesOn === addDays(ev.date, 1)
            ? 'Your pause ends today: deliveries resume tomorrow.'
            : `Your pause ends today; next delivery on ${resumesOn ?? 'no date scheduled'}.`,
          { lastPausedDay: ev.date, resumesOn },
        );
      } else {
        await notify(key, 'pause_reminder', `Your deliveries have been paused since ${ev.runStart}. Resume any time from the app.`, {
          pausedSince: ev.runStart,
        });
      }
    }
    return Infinity;
  };

  return { notify, sendDuePauseNotices };
}

export type SubscriptionNotices = ReturnType<typeof createNotices>;
