import { proxyActivities, log } from '@temporalio/workflow';
import type { LedgerActivities } from '../activities/ledger';
import type { LedgerMaintenanceInput, LedgerMaintenanceResult } from '../contracts/maintenance';

const ledger = proxyActivities<LedgerActivities>({ startToCloseTimeout: '10m', retry: { maximumAttempts: 5 } });

/** Nightly: snapshot yesterday's closing balances, then re-derive every balance and report drift. */
export async function ledgerMaintenanceWorkflow(input: LedgerMaintenanceInput = {}): Promise<LedgerMaintenanceResult> {
  const snapshotDate = input.date ?? (await ledger.yesterdayInIndia());
  const snapshots = await ledger.snapshotBalancesFor(snapshotDate);
  const drift = await ledger.reconcileLedger();
  if (drift > 0) log.error('ledger drift found', { drift });
  return { snapshotDate, snapshots, drift };
}
