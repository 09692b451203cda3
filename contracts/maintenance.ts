/**
 * The contract of the nightly maintenance flows (started by their Schedules, app/schedules.ts, or
 * by hand): ledger maintenance (workflows/ledger-maintenance.ts) and the prune of stored
 * Idempotency-Keys (workflows/idempotency-keys.ts). Neither takes messages.
 */

/** The Schedules that run them every night. */
export const LEDGER_MAINTENANCE_SCHEDULE_ID = 'ledger-daily-maintenance';
export const IDEMPOTENCY_KEY_PRUNE_SCHEDULE_ID = 'idempotency-keys-daily-prune';

/** A run started by hand, for one date: one per date (a Schedule names its own runs). */
export const ledgerMaintenanceWorkflowId = (date: string) => `ledger-maintenance-${date}`;
export const idempotencyKeyPruneWorkflowId = (startedAt: string) => `prune-idempotency-keys-${startedAt}`;

export interface LedgerMaintenanceInput {
  /** The day whose closing balances are snapshotted (YYYY-MM-DD); default: yesterday in the platform's time zone. */
  date?: string;
}

export interface LedgerMaintenanceResult {
  snapshotDate: string;
  snapshots: number;
  /** Balances that no longer match their journal lines (each one is logged for ops). */
  drift: number;
}

export interface IdempotencyKeyPruneInput {
  /** Stored keys older than this are deleted: a repeat with one of them is a new request. */
  retentionHours: number;
}

export interface IdempotencyKeyPruneResult {
  pruned: number;
}
