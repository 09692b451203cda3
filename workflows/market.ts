import {
  ActivityCancellationType,
  ApplicationFailure,
  condition,
  defineQuery,
  defineUpdate,
  proxyActivities,
  setHandler,
} from '@temporalio/workflow';
import type { MarketActivities } from '../activities/markets';
import type { MarketEngineActivities, EngineResult } from '../activities/market-engine';
import { flowControl, type StepOptions } from './stuck';
import type { StuckFields } from '../contracts/stuck';

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
  'scheduled' | 'open' | 'closing' | 'closed' | 'resolution_overdue' | 'resolved' | 'settling' | 'settled' | 'voiding' | 'voided';

export interface MarketState extends StuckFields {
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
    stuckStep: null,
    stuckReason: null,
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

  const flow = flowControl({ flowType: 'market', state });
  const summary = (phase: MarketPhase) => {
    const detail =
      phase === 'settled'
        ? ` ${state.outcome}, ${state.usersPaid} holders paid`
        : phase === 'voided'
          ? `, ${state.usersPaid} holders refunded`
          : phase === 'resolved'
            ? ` ${state.outcome} (${state.source})`
            : '';
    return `Market ${input.marketId}: ${phase.replace('_', ' ')}${detail}`;
  };
  const enter = (phase: MarketPhase) => {
    state.phase = phase;
    flow.status(phase, summary(phase));
  };
  // Until anyone is paid, a stuck market can still be voided: abandoning the step (or an admin's
  // `void` while it is stuck) voids it and everyone gets back what they paid. Stopping trading,
  // cancelling resting orders and moving the money (settle, refund) are only ever retried.
  const voidInstead = <T>(fallback: T): StepOptions<T> => ({
    decided: () => voidRequested,
    abandon: {
      meaning: 'voids the market: every holder is refunded what they paid',
      run: (_decision, step) => {
        if (!voidRequested) {
          voidRequested = true;
          state.voidReason = `abandoned by support at step ${step}`;
        }
        return fallback;
      },
    },
  });

  // 1. Wait for the opening bell (or a close/void before it ever opens).
  await condition(() => closeRequested || voidRequested, Math.max(0, Date.parse(input.opensAt) - Date.now()));
  const opened =
    !closeRequested &&
    !voidRequested &&
    (await flow.step('open', () => steps.openMarket(input.marketId).then(() => true), voidInstead(false)));
  if (opened) {
    enter('open');
    const running = flow.step('engine', () => engine.runMarketEngine({ marketId: input.marketId, ...input.engine }));

    // 2. Trade until closesAt — which a `close` may bring forward — or until told to stop.
    for (;;) {
      scheduleChanged = false;
      await condition(() => closeRequested || voidRequested || scheduleChanged, Math.max(0, closeAt - Date.now()));
      if (!scheduleChanged || closeRequested || voidRequested) break;
    }

    // 3. Close: stop intake, let the engine drain what was accepted, then cancel what still rests.
    enter('closing');
    await flow.step('close', () => steps.closeMarket(input.marketId));
    state.engine = await running;
  } else {
    await flow.step('close', () => steps.closeMarket(input.marketId));
  }
  state.cancelledAtClose = await flow.step('cancel_orders', () => steps.cancelLiveOrders(input.marketId));
  enter('closed');

  // 4. Wait for the result; past the deadline, raise an alert and keep waiting.
  if (!voidRequested) {
    const inTime = await condition(() => state.outcome !== null || voidRequested, input.resolutionDeadlineSeconds * 1000);
    if (!inTime) {
      enter('resolution_overdue');
      await flow.step(
        'overdue_alert',
        () =>
          steps.raiseMarketAlert({
            marketId: input.marketId,
            kind: 'resolution_overdue',
            message: `market ${input.marketId} closed without a result for over ${input.resolutionDeadlineSeconds}s`,
          }),
        { abandon: { meaning: 'skips the overdue alert row; the market keeps waiting for its result', run: () => undefined } },
      );
      await condition(() => state.outcome !== null || voidRequested);
    }
  }

  // 5. Resolved: a dispute window during which the market may still be voided, then pay out.
  if (!voidRequested && state.outcome !== null) {
    const resolution = { marketId: input.marketId, outcome: state.outcome, source: state.source ?? '' };
    const resolved = await flow.step('record_resolution', () => steps.recordResolution(resolution).then(() => true), voidInstead(false));
    if (resolved) {
      enter('resolved');
      if (input.disputeWindowSeconds > 0) await condition(() => voidRequested, input.disputeWindowSeconds * 1000);
    }
  }
  if (!voidRequested) {
    enter('settling');
    state.usersPaid = await flow.step('settle', () => steps.settleMarket({ marketId: input.marketId, outcome: state.outcome! }));
    await flow.step('finish', () => steps.finishMarket({ marketId: input.marketId, status: 'settled' }));
    enter('settled');
    return state;
  }

  // Void: everyone gets back their net cost.
  enter('voiding');
  state.usersPaid = await flow.step('refund', () => steps.refundMarket(input.marketId));
  // The void reason is free text (an admin's, or from the CLI): abandoning this step finishes the
  // market without it, the one input a retry cannot change.
  const finishVoid = (reason: string | undefined) => steps.finishMarket({ marketId: input.marketId, status: 'voided', reason });
  await flow.step('finish', () => finishVoid(state.voidReason ?? undefined), {
    abandon: { meaning: 'finishes the void without recording its reason', run: () => flow.step('finish', () => finishVoid(undefined)) },
  });
  enter('voided');
  return state;
}
