import { DateTime } from 'luxon';
import { reconcile, snapshotBalances } from '../db/ledger-reports';
import { DEFAULT_TIMEZONE } from '../domain/rules';
import type { ActivityDeps } from './deps';

export function createLedgerActivities({ db, logger }: ActivityDeps) {
  return {
    /** The activity's name stays (running workflows schedule it by name); the zone is the platform's default. */
    async yesterdayInIndia(): Promise<string> {
      return DateTime.now().setZone(DEFAULT_TIMEZONE).minus({ days: 1 }).toISODate()!;
    },
    async snapshotBalancesFor(date: string): Promise<number> {
      return snapshotBalances(db, date);
    },
    /** Returns how many balances drifted from their lines; each one is logged for ops. */
    async reconcileLedger(): Promise<number> {
      const drift = await reconcile(db);
      for (const d of drift) logger.error({ drift: d }, 'ledger drift');
      return drift.length;
    },
  };
}

export type LedgerActivities = ReturnType<typeof createLedgerActivities>;
