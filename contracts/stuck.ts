/**
 * Support's contract with every flow (workflows/stuck.ts implements it): the step a flow is stuck
 * on, and the two decisions support can send. The API, the Temporal UI and the CLI all use these.
 */
import { defineQuery, defineSignal } from '@temporalio/workflow';

/** Who decided, and why (support's CLI may send nothing at all). */
export interface StepDecision {
  by?: string;
  reason?: string;
}

/** Run the step a flow is stuck on again, once its cause is fixed. */
export const retryStepSignal = defineSignal<[StepDecision?]>('retryStep');
/** Do what abandoning means for that step in that flow (see the flow's `step` call). */
export const abandonStepSignal = defineSignal<[StepDecision?]>('abandonStep');

export interface StuckStep {
  step: string;
  reason: string;
  /** Postgres SQLSTATE or JS error name of an UnfixableData failure; null for other failures. */
  code: string | null;
  since: string;
  /** What `abandonStep` does here, for support; null: only a retry can help. */
  abandon: string | null;
}

/** The step a flow is stuck on, or null. Every flow answers it, whatever its own state looks like. */
export const stuckQuery = defineQuery<StuckStep | null>('stuck');

/** The fields each flow's own state carries, so its `state` query says it is stuck and why. */
export interface StuckFields {
  stuckStep: string | null;
  stuckReason: string | null;
}
