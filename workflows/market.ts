import {
  ActivityCancellationType,
  ApplicationFailure,
  condition,
  defineQuery,
  defineUpdate,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type { MarketActivities } from '../activities/markets';
import type { MarketEngineActivities, EngineResult } from '../activities/market-engine';
import { FlowStatus } from './search-attributes';

export interface MarketInput {
  marketId: string;
  /** ISO instants. */
  opensAt: string;
  closesAt: string;
  /** After a resolution, how long a void (dispute upheld) may still be raised before paying out. */
  disputeWindowSeconds: number;
  /** How long a closed market may wait for its result before ops are alerted. */
  resolutionDeadlineSeconds: number;
  engine?: { batchSize?: number; idlePollMs?: number };
}

export type MarketPhase =
  | 'scheduled'
  | 'open'
  | 'closing'
  | 'closed'
  | 'resolution_overdue'
  | 'resolved'
  | 'settling'
  | 'settled'
  | 'voiding'
  | 'voided';

export interface MarketState {
  marketId: string;
  phase: MarketPhase;
  closesAt: string;
  outcome: 'YES' | 'NO' | null;
  source: string | null;
  voidReason: string | null;
  engine: EngineResult | null;
  cancelledAtClose: number;
  usersPaid: number;
}

export const closeMarketUpdate = defineUpdate<MarketState, [{ at?: string }]>('close');
export const resolveMarketUpdate = defineUpdate<MarketState, [{ outcome: 'YES' | 'NO'; source: string }]>('resolve');
export const voidMarketUpdate = defineUpdate<MarketState, [{ reason: string }]>('void');
export const marketStateQuery = defineQuery<MarketState>('state');

const steps = proxyActivities<MarketActivities>({
  startToCloseTimeout: '2m',
  heartbeatTimeout: '30s',
  retry: { initialInterval: '200ms', backoffCoefficient: 2, maximumInterval: '10s' },
});

// The engine runs for the whole trading window; a missed heartbeat means its worker died, and
// Temporal starts it again elsewhere within seconds.
const engine = proxyActivities<MarketEngineActivities>({
  startToCloseTimeout: '7 days',
  heartbeatTimeout: '4s',
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  retry: { initialInterval: '300ms', backoffCoefficient: 2, maximumInterval: '5s' },
});

const reject = (code: string, message: string) => ApplicationFailure.nonRetryable(message, code);
const OPEN_PHASES: MarketPhase[] = ['scheduled', 'open'];
const AWAITING_RESULT: MarketPhase[] = ['closed', 'resolution_overdue'];

/**
 * One binary market from creation to its last payout:
 * scheduled → open (at opensAt) → trading → closed (at closesAt, or earlier on `close`) →
 * resolved (`resolve`) → dispute window → settled; or `void` at any point before payout →
 * everyone refunded their net cost.
 */
export async function marketWorkflow(input: MarketInput): Promise<MarketState> {
  const state: MarketState = {
    marketId: input.marketId,
    phase: 'scheduled',
    closesAt: input.closesAt,
    outcome: null,
    source: null,
    voidReason: null,
    engine: null,
    cancelledAtClose: 0,
    usersPaid: 0,
  };
  let closeAt = Date.parse(input.closesAt);
  let closeRequested = false;
  let voidRequested = false;
  let scheduleChanged = false;

  setHandler(marketStateQuery, () => state);
  setHandler(
    closeMarketUpdate,
    async ({ at }) => {
      const when = at === undefined ? Date.now() : Date.parse(at);
      if (when <= Date.now()) {
        closeRequested = true;
        // Answer once trading has stopped and resting orders are cancelled, so a `resolve` may follow.
        await condition(() => !['scheduled', 'open', 'closing'].includes(state.phase));
      } else if (when < closeAt) {
        closeAt = when;
        state.closesAt = new Date(when).toISOString();
        scheduleChanged = true;
      }
      return state;
    },
    {
      validator: ({ at }) => {
        if (at !== undefined && Number.isNaN(Date.parse(at))) throw reject('invalid_time', 'close time is not a valid instant');
        if (!OPEN_PHASES.includes(state.phase) && !closeRequested) throw reject('market_not_open', `market is ${state.phase}`);
      },
    },
  );
  setHandler(
    resolveMarketUpdate,
    async ({ outcome, source }) => {
      if (state.outcome === null) {
        state.outcome = outcome;
        state.source = source;
      }
      await condition(() => state.phase !== 'closed' && state.phase !== 'resolution_overdue');
      return state;
    },
    {
      validator: ({ outcome }) => {
        if (state.outcome !== null) {
          if (state.outcome !== outcome) throw reject('already_resolved', `market already resolved ${state.outcome}`);
          return; // the same result again: nothing more happens, nobody is paid twice
        }
        if (voidRequested) throw reject('market_voided', 'market is being voided');
        if (!AWAITING_RESULT.includes(state.phase)) throw reject('market_not_closed', `market is ${state.phase}; close it first`);
      },
    },
  );
  setHandler(
    voidMarketUpdate,
    ({ reason }) => {
      if (!voidRequested) {
        voidRequested = true;
        state.voidReason = reason;
      }
      return state;
    },
    {
      validator: ({ reason }) => {
        if (typeof reason !== 'string' || reason.length === 0) throw reject('invalid_reason', 'a void needs a reason');
        if (['settling', 'settled'].includes(state.phase)) throw reject('market_settled', 'market has already paid out');
      },
    },
  );

  const enter = (phase: MarketPhase) => {
    state.phase = phase;
    upsertSearchAttributes([{ key: FlowStatus, value: phase }]);
  };

  // 1. Wait for the opening bell (or a close/void before it ever opens).
  await condition(() => closeRequested || voidRequested, Math.max(0, Date.parse(input.opensAt) - Date.now()));
  if (!closeRequested && !voidRequested) {
    await steps.openMarket(input.marketId);
    enter('open');
    const running = engine.runMarketEngine({ marketId: input.marketId, ...input.engine });

    // 2. Trade until closesAt — which a `close` may bring forward — or until told to stop.
    for (;;) {
      scheduleChanged = false;
      await condition(() => closeRequested || voidRequested || scheduleChanged, Math.max(0, closeAt - Date.now()));
      if (!scheduleChanged || closeRequested || voidRequested) break;
    }

    // 3. Close: stop intake, let the engine drain what was accepted, then cancel what still rests.
    enter('closing');
    await steps.closeMarket(input.marketId);
    state.engine = await running;
  } else {
    await steps.closeMarket(input.marketId);
  }
  state.cancelledAtClose = await steps.cancelLiveOrders(input.marketId);
  enter('closed');

  // 4. Wait for the result; past the deadline, raise an alert and keep waiting.
  if (!voidRequested) {
    const inTime = await condition(() => state.outcome !== null || voidRequested, input.resolutionDeadlineSeconds * 1000);
    if (!inTime) {
      enter('resolution_overdue');
      await steps.raiseMarketAlert({
        marketId: input.marketId,
        kind: 'resolution_overdue',
        message: `market ${input.marketId} closed without a result for over ${input.resolutionDeadlineSeconds}s`,
      });
      await condition(() => state.outcome !== null || voidRequested);
    }
  }

  // 5. Resolved: a dispute window during which the market may still be voided, then pay out.
  if (!voidRequested && state.outcome !== null) {
    await steps.recordResolution({ marketId: input.marketId, outcome: state.outcome, source: state.source ?? '' });
    enter('resolved');
    if (input.disputeWindowSeconds > 0) await condition(() => voidRequested, input.disputeWindowSeconds * 1000);
  }
  if (!voidRequested) {
    enter('settling');
    state.usersPaid = await steps.settleMarket({ marketId: input.marketId, outcome: state.outcome! });
    await steps.finishMarket({ marketId: input.marketId, status: 'settled' });
    enter('settled');
    return state;
  }

  // Void: everyone gets back their net cost.
  enter('voiding');
  state.usersPaid = await steps.refundMarket(input.marketId);
  await steps.finishMarket({ marketId: input.marketId, status: 'voided', reason: state.voidReason ?? undefined });
  enter('voided');
  return state;
}
