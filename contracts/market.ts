/**
 * The opinion-trading market's contract: `market-<marketId>` runs one binary market from creation
 * to its last payout — scheduled → open → closed → resolved (after a dispute window) → settled, or
 * voided with every holder refunded. The API, activities, tests and benches use these definitions;
 * the names below are written nowhere else.
 */
import { defineQuery, defineUpdate } from '@temporalio/workflow';
import { fillJournalKey } from '../domain/market/batch';
import type { StuckFields } from './stuck';

export const marketWorkflowId = (marketId: string) => `market-${marketId}`;

/** Journal idempotency keys: each fill, each holder's payout or refund, and the void's funding, once. */
export const marketKeys = {
  fill: fillJournalKey,
  settle: (marketId: string, userId: string) => `mkt-${marketId}:settle:${userId}`,
  voidFunding: (marketId: string) => `mkt-${marketId}:void:fund`,
  refund: (marketId: string, userId: string) => `mkt-${marketId}:refund:${userId}`,
};

export type MarketOutcome = 'YES' | 'NO';

export interface MarketInput {
  marketId: string;
  /** ISO instants. */
  opensAt: string;
  closesAt: string;
  /** After a resolution, how long a void (dispute upheld) may still be raised before paying out. */
  disputeWindowSeconds: number;
  /** How long a closed market may wait for its result before ops are alerted. */
  resolutionDeadlineSeconds: number;
  engine?: { batchSize?: number };
}

/** The `markets` row's status (what the API lists and filters on). */
export const MARKET_STATUSES = ['scheduled', 'open', 'closed', 'resolved', 'settled', 'voided'] as const;
export type MarketStatus = (typeof MARKET_STATUSES)[number];
/** A market in one of these has finished: its workflow is gone and nothing about it changes again. */
export const FINISHED_MARKET_STATUSES: readonly MarketStatus[] = ['settled', 'voided'];

/** The workflow's phase, finer than the row's status; also its FlowStatus. */
export const MARKET_PHASES = [
  'scheduled',
  'open',
  'suspended',
  'closing',
  'closed',
  'resolution_overdue',
  'resolved',
  'settling',
  'settled',
  'voiding',
  'voided',
] as const;
export type MarketPhase = (typeof MARKET_PHASES)[number];
/** Phases in which a `close` may still stop trading (or move its close earlier). */
export const TRADING_PHASES: readonly MarketPhase[] = ['scheduled', 'open', 'suspended'];
/** Phases in which a `resolve` is awaited. */
export const AWAITING_RESULT_PHASES: readonly MarketPhase[] = ['closed', 'resolution_overdue'];
/** Phases past which a `void` is too late: holders have been (or are being) paid. */
export const PAYING_OUT_PHASES: readonly MarketPhase[] = ['settling', 'settled'];

/** Market statuses in which the engine keeps running: warming up before the open, then trading. */
export const ENGINE_RUNNING_STATUSES: readonly MarketStatus[] = ['scheduled', 'open'];

/**
 * The task queue market engines run on, beside the workflow's own: each engine holds its activity
 * slot for the whole trading window, so engines get a worker (and a slot budget) of their own
 * and never take a slot another flow's steps need (workers/mandi-worker.ts).
 */
export const marketEngineTaskQueue = (taskQueue: string) => `${taskQueue}-market-engines`;

/** How long before opensAt a market's engine starts (claims the market, rebuilds the book, warms up). */
export const ENGINE_WARM_START_MS = 10_000;

/** What the matching engine activity is started with. */
export interface EngineInput {
  marketId: string;
  /** Commands per batch (one transaction each). */
  batchSize?: number;
}

export interface EngineResult {
  epoch: number;
  processed: number;
}

export interface MarketState extends StuckFields {
  marketId: string;
  phase: MarketPhase;
  closesAt: string;
  outcome: MarketOutcome | null;
  source: string | null;
  voidReason: string | null;
  engine: EngineResult | null;
  cancelledAtClose: number;
  usersPaid: number;
  /** In play (a `suspend` took effect and no `resume` since). */
  suspended?: boolean;
  /** After the last `resume`: when trading restarts (its delay). */
  resumesAt?: string | null;
  /** Orders the suspensions so far queued for cancelling. */
  cancelledAtSuspension?: number;
}

export interface CloseMarket {
  /** An instant: past (or absent) = close now; future = move the close earlier. */
  at?: string;
}
export interface ResolveMarket {
  outcome: MarketOutcome;
  source: string;
}
export interface VoidMarket {
  reason: string;
}
/** In play: from an admin or an automated ball-by-ball feed. */
export interface SuspendMarket {
  /** Who or what asked (`admin`, `feed:<name>`), for the record. */
  source?: string;
}
export interface ResumeMarket {
  /** Seconds after the resume before trading restarts; the market's own resume delay when absent. */
  delaySeconds?: number;
}

/** Lifecycle actions (admin, through the API): each answers with the market's state once it took effect. */
export const closeMarketUpdate = defineUpdate<MarketState, [CloseMarket]>('close');
export const resolveMarketUpdate = defineUpdate<MarketState, [ResolveMarket]>('resolve');
export const voidMarketUpdate = defineUpdate<MarketState, [VoidMarket]>('void');
/** In-play suspension: each answers once it took effect (suspended: the engine has cancelled what it had to). */
export const suspendMarketUpdate = defineUpdate<MarketState, [SuspendMarket]>('suspend');
export const resumeMarketUpdate = defineUpdate<MarketState, [ResumeMarket]>('resume');
export const marketStateQuery = defineQuery<MarketState>('state');
