import { WorkflowIdConflictPolicy, type WorkflowHandleWithFirstExecutionRunId, type WorkflowStartOptions } from '@temporalio/client';
import type { Workflow } from '@temporalio/common';
import type { ApiDeps } from './deps';

/** What a route decides about a flow it starts; the rest is the same for every flow. */
export interface FlowStart<T extends Workflow> {
  workflowId: string;
  args: Parameters<T>;
  typedSearchAttributes?: WorkflowStartOptions<T>['typedSearchAttributes'];
}

/** Options also usable with WithStartWorkflowOperation, which wants the conflict policy set. */
export type FlowStartOptions<T extends Workflow> = WorkflowStartOptions<T> & { workflowIdConflictPolicy: WorkflowIdConflictPolicy };

/**
 * Every flow runs on the Mandi task queue, and a start repeated for the same id (a retried
 * request, a second caller racing the first) joins the flow already running instead of failing.
 */
export function flowStartOptions<T extends Workflow>(
  deps: Pick<ApiDeps, 'config'>,
  _workflow: T,
  start: FlowStart<T>,
): FlowStartOptions<T> {
  const options = { taskQueue: deps.config.TEMPORAL_TASK_QUEUE, workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING, ...start };
  // The cast only restates Temporal's conditional `args` type, which TypeScript cannot resolve for a generic T.
  return options as unknown as FlowStartOptions<T>;
}

export function startFlow<T extends Workflow>(
  deps: Pick<ApiDeps, 'config' | 'temporal'>,
  workflow: T,
  start: FlowStart<T>,
): Promise<WorkflowHandleWithFirstExecutionRunId<T>> {
  return deps.temporal.workflow.start(workflow, flowStartOptions(deps, workflow, start));
}
