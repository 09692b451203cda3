/**
 * No flow wedges: the one mechanism every flow uses for a step that retrying cannot fix.
 *
 * `flow.step(name, fn, options)` runs a step. When it fails with `UnfixableData` (bad data or a
 * bug, see activities/failures.ts) — or whatever else the flow asks to park on — the flow parks:
 * FlowStatus `stuck`, `stuckStep`/`stuckReason` in its state, the memo says why, an alert row
 * appears in GET /v1/ops/alerts. It then waits for support: `retryStep` runs the step again (after
 * the cause is fixed); `abandonStep` does what abandoning means for that step in that flow (each
 * flow says so where it calls `step`; without it only a retry can help). Then the alert is closed
 * and the previous FlowStatus and summary come back.
 *
 * `flow.status(value, summary)` is how flows show a FlowStatus and keep a human summary in their
 * memo (`temporal workflow describe`); while a step is stuck the status waits its turn.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  condition,
  isCancellation,
  log,
  patched,
  proxyActivities,
  setHandler,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { SearchAttributeUpdatePair } from '@temporalio/common';
import type { FlowAlertActivities } from '../activities/flow-alerts';
import { UNFIXABLE_FAILURE, type FlowType, type UnfixableDetails } from '../domain/flow-ids';
import { patchedOrStartedWith } from './revision';
import { FlowStatus } from './search-attributes';
import { abandonStepSignal, retryStepSignal, stuckQuery, type StepDecision, type StuckFields, type StuckStep } from '../contracts/stuck';

/**
 * New commands on paths old histories already took are gated, so a running flow replays: memo
 * summaries from the first status a run shows live, alerts from the first park a run meets live.
 */
const SUMMARY_PATCH = 'flow-summary-memo';
const ALERT_PATCH = 'flow-stuck-alerts';
/**
 * A decision counts from the moment the step is parked, not from after the park is recorded: the
 * order already shows `stuck` while its alert is raised, and a retry sent then was lost.
 */
const DECISIONS_FROM_PARK_PATCH = 'stuck-decisions-from-park';

// An alert must eventually be written; a broken alert table must not stop the park (caught below).
const alerts = proxyActivities<FlowAlertActivities>({
  startToCloseTimeout: '10s',
  retry: { initialInterval: '200ms', backoffCoefficient: 2, maximumInterval: '30s' },
});

/** What a failed step threw, read the same way for activities and local activities. */
export interface StepFailure {
  type: string | null;
  message: string;
  code: string | null;
}

export function stepFailure(err: unknown): StepFailure | null {
  if (!(err instanceof ActivityFailure) && !(err instanceof ApplicationFailure)) return null;
  // Ordinary activities fail with an ActivityFailure wrapping the cause; a local activity's
  // failure may arrive as the ApplicationFailure itself.
  const cause = err instanceof ApplicationFailure ? err : err.cause instanceof ApplicationFailure ? err.cause : null;
  if (cause?.type === UNFIXABLE_FAILURE) {
    const d = (cause.details?.[0] ?? {}) as Partial<UnfixableDetails>;
    return { type: cause.type, message: d.message ?? cause.message, code: d.code ?? null };
  }
  return { type: cause?.type ?? null, message: cause?.message ?? err.message, code: null };
}

export const isUnfixable = (f: StepFailure) => f.type === UNFIXABLE_FAILURE;

export interface StepOptions<T> {
  /** Which failures park the flow; default: UnfixableData only (the rest is the flow's business). */
  parkOn?: (failure: StepFailure) => boolean;
  /** What abandoning this step means (shown to support) and does; without it only a retry helps. */
  abandon?: { meaning: string; run: (decision: StepDecision, step: string) => T | Promise<T> };
  /** A decision the flow takes on its own (a cancel, a void) that ends the wait like an abandon. */
  decided?: () => boolean;
  /** The flow's own bookkeeping around the park (checkout marks the order row). */
  onPark?: (stuck: StuckStep) => Promise<void> | void;
  onResume?: (decision: 'retry' | 'abandon') => void;
}

export interface FlowOptions {
  flowType: FlowType;
  /** The flow's state object: its stuckStep/stuckReason follow the park. */
  state?: StuckFields;
  /** How to show a FlowStatus while parking and after; default: upsert it. */
  show?: (status: string) => void;
  /**
   * The run was started by code that writes memo summaries (a flow's own revision in its input says
   * so): it writes them without the SUMMARY_PATCH marker and its TemporalChangeVersion upsert.
   */
  writesMemo?: boolean;
}

export type FlowControl = ReturnType<typeof flowControl>;

/** Thrown by an abandon that ends the flow: the flow catches it once and ends the way it says. */
export class StepAbandoned extends Error {
  /** A marker rather than `instanceof`, which does not survive the workflow bundle's Error subclassing. */
  readonly stepAbandoned = true;
  constructor(
    readonly step: string,
    readonly decision: StepDecision,
  ) {
    super(`step ${step} abandoned${decision.by ? ` by ${decision.by}` : ''}${decision.reason ? `: ${decision.reason}` : ''}`);
  }
}

export const isAbandoned = (err: unknown): err is StepAbandoned => (err as { stepAbandoned?: boolean } | null)?.stepAbandoned === true;

/**
 * What one flow has parked and what support decided so far. The support signals only count
 * decisions here; each parked step (see `park`) waits until the count it cares about moves.
 */
class StuckSteps {
  readonly parked: StuckStep[] = [];
  retries = 0;
  abandons = 0;
  lastDecision: StepDecision = {};
  /** The FlowStatus to show once nothing is stuck any more. */
  resumeStatus: string | null = null;
  summary: string | null = null;
  readonly show: (status: string) => void;

  constructor(readonly options: FlowOptions) {
    this.show = options.show ?? ((status: string) => upsertSearchAttributes([{ key: FlowStatus, value: status }]));
    setHandler(retryStepSignal, (d) => {
      if (!this.retry(d ?? {})) log.info('retryStep ignored: nothing is stuck');
    });
    setHandler(abandonStepSignal, (d) => {
      if (!this.parked.some((p) => p.abandon !== null)) return log.info('abandonStep ignored: nothing abandonable is stuck');
      this.lastDecision = d ?? {};
      this.abandons++;
    });
    setHandler(stuckQuery, () => this.parked[0] ?? null);
  }

  retry(decision: StepDecision): boolean {
    if (this.parked.length === 0) return false;
    this.lastDecision = decision;
    this.retries++;
    return true;
  }

  add(stuck: StuckStep): void {
    if (this.parked.length === 0) this.resumeStatus = workflowInfo().typedSearchAttributes.get(FlowStatus) ?? null;
    this.parked.push(stuck);
    this.mirror();
  }

  remove(stuck: StuckStep): void {
    this.parked.splice(this.parked.indexOf(stuck), 1);
    this.mirror();
  }

  /** The flow's own state says what is stuck, too (its `state` query). */
  private mirror(): void {
    const { state } = this.options;
    if (!state) return;
    state.stuckStep = this.parked[0]?.step ?? null;
    state.stuckReason = this.parked[0]?.reason ?? null;
  }
}

const writeMemo = (steps: StuckSteps, text: string) => {
  if (patchedOrStartedWith(SUMMARY_PATCH, steps.options.writesMemo === true)) upsertMemo({ summary: text });
};

/** The alert is bookkeeping: a broken alert table must not stop the park or the resume. */
async function safely(what: string, run: () => Promise<void>): Promise<void> {
  try {
    await run();
  } catch (err) {
    log.warn(`flow alert not ${what}`, { error: String(err) });
  }
}

/** Parks the flow on a failed step until support (or the flow itself) decides; says which decision. */
async function park<T>(steps: StuckSteps, name: string, failure: StepFailure, o: StepOptions<T>): Promise<'retry' | 'abandon'> {
  const stuck: StuckStep = {
    step: name,
    reason: failure.message,
    code: failure.code,
    since: new Date().toISOString(),
    abandon: o.abandon?.meaning ?? null,
  };
  const first = steps.parked.length === 0;
  steps.add(stuck);
  const countedFromPark = patched(DECISIONS_FROM_PARK_PATCH);
  let [r0, a0] = [steps.retries, steps.abandons];
  await o.onPark?.(stuck);
  const alerting = patched(ALERT_PATCH);
  const { workflowId } = workflowInfo();
  if (alerting) {
    await safely('raised', () =>
      alerts.raiseFlowAlert({ workflowId, flowType: steps.options.flowType, step: name, reason: stuck.reason, code: stuck.code }),
    );
  }
  if (first) steps.show('stuck');
  if (alerting) writeMemo(steps, `Stuck on step ${name}: ${stuck.reason}${stuck.code ? ` (${stuck.code})` : ''}`);
  log.warn('flow parked as stuck', { step: name, reason: stuck.reason, code: stuck.code });

  if (!countedFromPark) [r0, a0] = [steps.retries, steps.abandons];
  const decidedElsewhere = () => o.decided?.() === true;
  try {
    await condition(() => steps.retries !== r0 || (stuck.abandon !== null && steps.abandons !== a0) || decidedElsewhere());
  } catch (err) {
    // The workflow itself was cancelled (ops, from the UI): the flow moves on to its own
    // cancellation handling, and the alert must not stay open behind it.
    steps.remove(stuck);
    if (alerting && isCancellation(err)) {
      await CancellationScope.nonCancellable(() =>
        safely('resolved', () => alerts.resolveFlowAlert({ workflowId, step: name, resolution: 'cancelled' })),
      );
    }
    throw err;
  }
  const decision = decidedElsewhere() || (stuck.abandon !== null && steps.abandons !== a0) ? 'abandon' : 'retry';
  const resolution = decision === 'retry' ? 'retried' : decidedElsewhere() ? 'decided' : 'abandoned';
  log.info('stuck step decided', { step: name, resolution, by: steps.lastDecision.by, reason: steps.lastDecision.reason });

  steps.remove(stuck);
  if (alerting) await safely('resolved', () => alerts.resolveFlowAlert({ workflowId, step: name, resolution }));
  o.onResume?.(decision);
  if (alerting && steps.parked.length === 0) {
    if (steps.resumeStatus !== null) steps.show(steps.resumeStatus);
    writeMemo(steps, steps.summary ?? `Step ${name} ${resolution} by support`);
  }
  return decision;
}

/** Call once, at the start of the workflow function (it registers the signals and the query). */
export function flowControl(options: FlowOptions) {
  const steps = new StuckSteps(options);

  return {
    /** Runs a step; parks the flow on a failure no retry can fix (see the file's comment). */
    async step<T>(name: string, fn: () => Promise<T>, o: StepOptions<T> = {}): Promise<T> {
      if (o.decided && !o.abandon) throw new TypeError(`step ${name}: a decision the flow takes needs an abandon to run`);
      for (;;) {
        try {
          return await fn();
        } catch (err) {
          const failure = stepFailure(err);
          if (!failure || !(o.parkOn ?? isUnfixable)(failure)) throw err;
          if ((await park(steps, name, failure, o)) === 'retry') continue;
          return o.abandon!.run(steps.lastDecision, name);
        }
      }
    },

    /**
     * Shows a FlowStatus (with any other search attributes that go with it) and the summary in the
     * memo. While a step is stuck, FlowStatus stays `stuck` and this one is shown after.
     */
    status(value: string, text?: string, extra: SearchAttributeUpdatePair[] = []): void {
      if (text !== undefined) steps.summary = text;
      if (steps.parked.length > 0) {
        steps.resumeStatus = value;
        if (extra.length > 0) upsertSearchAttributes(extra);
        return;
      }
      upsertSearchAttributes([{ key: FlowStatus, value }, ...extra] as SearchAttributeUpdatePair[]);
      if (text !== undefined) writeMemo(steps, text);
    },

    /** Step options whose abandon throws StepAbandoned, for the flow to end (or skip) as it says. */
    giveUp<T>(meaning: string): StepOptions<T> {
      return {
        abandon: {
          meaning,
          run: (decision, step) => {
            throw new StepAbandoned(step, decision);
          },
        },
      };
    },

    /** A status older runs never showed: only runs that reach it live show it (replay-safe). */
    announce(value: string, text?: string): void {
      if (patched(SUMMARY_PATCH)) this.status(value, text);
    },

    /** Only the memo summary (for flows that keep FlowStatus themselves, like checkout). */
    summary(text: string): void {
      steps.summary = text;
      if (steps.parked.length === 0) writeMemo(steps, text);
    },

    /** For flows that also offer retry as an update (checkout's API path). */
    retry(decision: StepDecision = {}): boolean {
      return steps.retry(decision);
    },

    get stuck(): StuckStep | null {
      return steps.parked[0] ?? null;
    },
  };
}
