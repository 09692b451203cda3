/**
 * The business steps of a market, in the order marketWorkflow (workflows/market.ts) takes them.
 * Each step runs through flowControl, so one that retrying cannot fix parks the market for support.
 */
import { condition, patched } from '@temporalio/workflow';
import { ENGINE_WARM_START_MS, type EngineResult, type MarketInput, type MarketPhase, type MarketState } from '../../contracts/market';
import { flowControl, type FlowControl, type StepOptions } from '../stuck';
import { engine, engineOnItsOwnQueue, steps } from './proxies';
import type { MarketEntity } from './entity';

/**
 * Markets started from here on run their engine on the engines' own task queue and start it
 * ENGINE_WARM_START_MS before the open; histories recorded before replay the old commands (the
 * engine on the workflow's queue, started once the market is open).
 */
const ENGINE_WARM_START = 'market-engine-warm-start';
/** `suspend` / `resume` while trading. */
const IN_PLAY_SUSPENSION = 'market-in-play-suspension';

export class MarketProcess {
  private readonly flow: FlowControl;
  /** The engine activity, once started (before the open, or at it for markets started earlier). */
  private engineRun: Promise<EngineResult> | null = null;

  constructor(
    private readonly input: MarketInput,
    private readonly market: MarketEntity,
  ) {
    this.flow = flowControl({ flowType: 'market', state: market.state });
  }

  private get state(): MarketState {
    return this.market.state;
  }

  /**
   * Waits for the opening bell (or a close/void before it ever opens); true when trading opened.
   * The engine starts shortly before, so its book is rebuilt and its caches warm when the first
   * order arrives.
   */
  async open(): Promise<boolean> {
    const { marketId, opensAt } = this.input;
    const stopped = () => this.market.stopRequested;
    if (patched(ENGINE_WARM_START)) {
      const warmStartAt = Date.parse(opensAt) - ENGINE_WARM_START_MS;
      if (warmStartAt > Date.now()) await condition(stopped, warmStartAt - Date.now());
      if (this.market.stopRequested) return false;
      this.engineRun = this.runEngine(engineOnItsOwnQueue());
    }
    await condition(stopped, Math.max(0, Date.parse(opensAt) - Date.now()));
    if (this.market.stopRequested) return false;
    const opened = await this.flow.step('open', () => steps.openMarket(marketId).then(() => true), this.voidInstead(false));
    if (opened) this.enter('open');
    return opened;
  }

  /**
   * Trades until closesAt — which a `close` may bring forward — or until told to stop; then stops
   * intake and lets the engine drain what was accepted.
   */
  async tradeUntilClosed(): Promise<void> {
    const running = this.engineRun ?? this.runEngine(engine);
    for (;;) {
      this.market.scheduleChanged = false;
      await condition(
        () => this.market.stopRequested || this.market.scheduleChanged || this.market.suspensionChanged,
        Math.max(0, this.market.closeAt - Date.now()),
      );
      // Only markets that were suspended ever get here, so histories recorded before replay as they were.
      if (!this.market.stopRequested && this.market.suspensionChanged && patched(IN_PLAY_SUSPENSION)) {
        await this.followSuspension();
        continue;
      }
      if (!this.market.scheduleChanged || this.market.stopRequested) break;
    }
    this.enter('closing');
    await this.flow.step('close', () => steps.closeMarket(this.input.marketId));
    this.state.engine = await running;
  }

  /**
   * Suspends (intake refuses, the engine cancels what it had not matched and, unless the market
   * keeps them, what rests) or resumes (trading restarts after the delay) as the last request said.
   */
  private async followSuspension(): Promise<void> {
    const { marketId } = this.input;
    if (this.market.suspendWanted) {
      const cancelled = await this.flow.step('suspend', () => steps.suspendMarket(marketId));
      this.state.cancelledAtSuspension = (this.state.cancelledAtSuspension ?? 0) + cancelled;
      this.state.suspended = true;
      this.state.resumesAt = null;
      this.enter('suspended');
      return;
    }
    const delaySeconds = this.market.resumeDelaySeconds;
    const resumesAt = await this.flow.step('resume', () => steps.resumeMarket({ marketId, delaySeconds }));
    this.state.suspended = false;
    this.state.resumesAt = resumesAt;
    this.enter('open');
    // Tells watchers when trading restarts; a feed update only, so a failure costs nothing else.
    void steps.restartTrading(marketId).catch(() => undefined);
  }

  /**
   * A market closed or voided before it opened: it never traded, only its row is closed (and an
   * engine already warming up sees that and stops).
   */
  async closeUntraded(): Promise<void> {
    await this.flow.step('close', () => steps.closeMarket(this.input.marketId));
    if (this.engineRun) this.state.engine = await this.engineRun;
  }

  private runEngine(proxy: typeof engine): Promise<EngineResult> {
    return this.flow.step('engine', () => proxy.runMarketEngine({ marketId: this.input.marketId, ...this.input.engine }));
  }

  /** Cancels what still rests in the book once the engine has drained. */
  async cancelRestingOrders(): Promise<void> {
    this.state.cancelledAtClose = await this.flow.step('cancel_orders', () => steps.cancelLiveOrders(this.input.marketId));
    this.enter('closed');
  }

  /** Waits for the result (or a void); past the deadline, raises an alert for ops and keeps waiting. */
  async awaitResult(): Promise<void> {
    if (this.market.voidRequested) return;
    const { marketId, resolutionDeadlineSeconds } = this.input;
    const decided = () => this.state.outcome !== null || this.market.voidRequested;
    if (await condition(decided, resolutionDeadlineSeconds * 1000)) return;
    this.enter('resolution_overdue');
    await this.flow.step(
      'overdue_alert',
      () =>
        steps.raiseMarketAlert({
          marketId,
          kind: 'resolution_overdue',
          message: `market ${marketId} closed without a result for over ${resolutionDeadlineSeconds}s`,
        }),
      { abandon: { meaning: 'skips the overdue alert row; the market keeps waiting for its result', run: () => undefined } },
    );
    await condition(decided);
  }

  /** Records the result, then holds a dispute window in which it may still be voided; true = pay out. */
  async resolve(): Promise<boolean> {
    if (!this.market.voidRequested && this.state.outcome !== null) {
      const resolution = { marketId: this.input.marketId, outcome: this.state.outcome, source: this.state.source ?? '' };
      const resolved = await this.flow.step(
        'record_resolution',
        () => steps.recordResolution(resolution).then(() => true),
        this.voidInstead(false),
      );
      if (resolved) {
        this.enter('resolved');
        const { disputeWindowSeconds } = this.input;
        if (disputeWindowSeconds > 0) await condition(() => this.market.voidRequested, disputeWindowSeconds * 1000);
      }
    }
    return !this.market.voidRequested;
  }

  /** Pays every winning holder once, then finishes the market. */
  async settle(): Promise<MarketState> {
    const { marketId } = this.input;
    this.enter('settling');
    this.state.usersPaid = await this.flow.step('settle', () => steps.settleMarket({ marketId, outcome: this.state.outcome! }));
    await this.flow.step('finish', () => steps.finishMarket({ marketId, status: 'settled' }));
    this.enter('settled');
    return this.state;
  }

  /** Void: everyone gets back their net cost. */
  async refundEveryone(): Promise<MarketState> {
    const { marketId } = this.input;
    this.enter('voiding');
    this.state.usersPaid = await this.flow.step('refund', () => steps.refundMarket(marketId));
    // The void reason is free text (an admin's, or from the CLI): abandoning this step finishes the
    // market without it, the one input a retry cannot change.
    const finishVoid = (reason: string | undefined) => steps.finishMarket({ marketId, status: 'voided', reason });
    await this.flow.step('finish', () => finishVoid(this.state.voidReason ?? undefined), {
      abandon: {
        meaning: 'finishes the void without recording its reason',
        run: () => this.flow.step('finish', () => finishVoid(undefined)),
      },
    });
    this.enter('voided');
    return this.state;
  }

  private enter(phase: MarketPhase): void {
    this.state.phase = phase;
    this.flow.status(phase, this.summary(phase));
  }

  private summary(phase: MarketPhase): string {
    const { state } = this;
    const detail =
      phase === 'settled'
        ? ` ${state.outcome}, ${state.usersPaid} holders paid`
        : phase === 'voided'
          ? `, ${state.usersPaid} holders refunded`
          : phase === 'resolved'
            ? ` ${state.outcome} (${state.source})`
            : '';
    return `Market ${this.input.marketId}: ${phase.replace('_', ' ')}${detail}`;
  }

  // Until anyone is paid, a stuck market can still be voided: abandoning the step (or an admin's
  // `void` while it is stuck) voids it and everyone gets back what they paid. Stopping trading,
  // cancelling resting orders and moving the money (settle, refund) are only ever retried.
  private voidInstead<T>(fallback: T): StepOptions<T> {
    return {
      decided: () => this.market.voidRequested,
      abandon: {
        meaning: 'voids the market: every holder is refunded what they paid',
        run: (_decision, step) => {
          this.market.requestVoid(`abandoned by support at step ${step}`);
          return fallback;
        },
      },
    };
  }
}
