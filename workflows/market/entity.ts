/**
 * A market's carried state and the rules for the admin's lifecycle messages (`close`, `resolve`,
 * `void`, and in play `suspend` / `resume`): each validator refuses what the current phase does not allow, with a `conflict`
 * rejection whose code the API answers with (409). The handlers only record the request; the
 * process (process.ts) acts on it.
 */
import { condition, setHandler } from '@temporalio/workflow';
import {
  AWAITING_RESULT_PHASES,
  PAYING_OUT_PHASES,
  TRADING_PHASES,
  closeMarketUpdate,
  marketStateQuery,
  resolveMarketUpdate,
  resumeMarketUpdate,
  suspendMarketUpdate,
  voidMarketUpdate,
  type CloseMarket,
  type ResumeMarket,
  type SuspendMarket,
  type MarketInput,
  type MarketState,
  type ResolveMarket,
  type VoidMarket,
} from '../../contracts/market';
import { rejection } from '../../domain/rejection';

const refuse = (code: string, message: string) => rejection('conflict', code, message);

export class MarketEntity {
  readonly state: MarketState;
  /** When trading stops: closesAt, or earlier if a `close` moved it. */
  closeAt: number;
  closeRequested = false;
  voidRequested = false;
  /** A `close` moved closeAt earlier: the trading timer must restart. */
  scheduleChanged = false;
  /** What the last `suspend` / `resume` asked for; the process makes the market follow. */
  suspendWanted = false;
  resumeDelaySeconds: number | undefined = undefined;

  constructor(input: MarketInput) {
    this.state = {
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
    this.closeAt = Date.parse(input.closesAt);
    setHandler(marketStateQuery, () => this.state);
    setHandler(closeMarketUpdate, (req) => this.close(req), { validator: (req) => this.validateClose(req) });
    setHandler(resolveMarketUpdate, (req) => this.resolve(req), { validator: (req) => this.validateResolve(req) });
    setHandler(voidMarketUpdate, ({ reason }) => this.requestVoid(reason), { validator: (req) => this.validateVoid(req) });
    setHandler(suspendMarketUpdate, (_req: SuspendMarket) => this.suspend(), {
      validator: (_req: SuspendMarket) => this.validateSuspend(),
    });
    setHandler(resumeMarketUpdate, (req) => this.resume(req), { validator: (req) => this.validateResume(req) });
  }

  /** A `suspend` or `resume` is waiting for the process to apply it. */
  get suspensionChanged(): boolean {
    return this.suspendWanted !== (this.state.suspended === true);
  }

  private get stillTrading(): boolean {
    return this.state.phase === 'open' || this.state.phase === 'suspended';
  }

  private async suspend(): Promise<MarketState> {
    this.suspendWanted = true;
    await condition(() => this.state.suspended === true || !this.stillTrading || this.stopRequested);
    return this.state;
  }

  private validateSuspend(): void {
    if (this.stopRequested || !this.stillTrading) throw refuse('market_not_open', `market is ${this.state.phase}`);
  }

  private async resume({ delaySeconds }: ResumeMarket): Promise<MarketState> {
    this.suspendWanted = false;
    this.resumeDelaySeconds = delaySeconds;
    await condition(() => this.state.suspended !== true || !this.stillTrading || this.stopRequested);
    return this.state;
  }

  private validateResume({ delaySeconds }: ResumeMarket): void {
    if (delaySeconds !== undefined && (!Number.isInteger(delaySeconds) || delaySeconds < 0 || delaySeconds > 600))
      throw rejection('invalid', 'invalid_delay', 'delaySeconds must be an integer from 0 to 600');
    if (this.stopRequested || !this.stillTrading) throw refuse('market_not_open', `market is ${this.state.phase}`);
    if (!this.suspendWanted) throw refuse('market_not_suspended', 'market is not suspended');
  }

  get stopRequested(): boolean {
    return this.closeRequested || this.voidRequested;
  }

  /** Records a void (the first reason stays); everyone is refunded once trading has stopped. */
  requestVoid(reason: string): MarketState {
    if (!this.voidRequested) {
      this.voidRequested = true;
      this.state.voidReason = reason;
    }
    return this.state;
  }

  private async close({ at }: CloseMarket): Promise<MarketState> {
    const when = at === undefined ? Date.now() : Date.parse(at);
    if (when <= Date.now()) {
      this.closeRequested = true;
      // Answer once trading has stopped and resting orders are cancelled, so a `resolve` may follow.
      await condition(() => !['scheduled', 'open', 'suspended', 'closing'].includes(this.state.phase));
    } else if (when < this.closeAt) {
      this.closeAt = when;
      this.state.closesAt = new Date(when).toISOString();
      this.scheduleChanged = true;
    }
    return this.state;
  }

  private validateClose({ at }: CloseMarket): void {
    if (at !== undefined && Number.isNaN(Date.parse(at))) throw refuse('invalid_time', 'close time is not a valid instant');
    if (!TRADING_PHASES.includes(this.state.phase) && !this.closeRequested)
      throw refuse('market_not_open', `market is ${this.state.phase}`);
  }

  private async resolve({ outcome, source }: ResolveMarket): Promise<MarketState> {
    if (this.state.outcome === null) {
      this.state.outcome = outcome;
      this.state.source = source;
    }
    await condition(() => !AWAITING_RESULT_PHASES.includes(this.state.phase));
    return this.state;
  }

  private validateResolve({ outcome }: ResolveMarket): void {
    if (this.state.outcome !== null) {
      if (this.state.outcome !== outcome) throw refuse('already_resolved', `market already resolved ${this.state.outcome}`);
      return; // the same result again: nothing more happens, nobody is paid twice
    }
    if (this.voidRequested) throw refuse('market_voided', 'market is being voided');
    if (!AWAITING_RESULT_PHASES.includes(this.state.phase))
      throw refuse('market_not_closed', `market is ${this.state.phase}; close it first`);
  }

  private validateVoid({ reason }: VoidMarket): void {
    if (typeof reason !== 'string' || reason.length === 0) throw refuse('invalid_reason', 'a void needs a reason');
    if (PAYING_OUT_PHASES.includes(this.state.phase)) throw refuse('market_settled', 'market has already paid out');
  }
}
