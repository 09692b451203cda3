import { randomUUID } from 'node:crypto';
import type { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';

const { CommandType, WorkflowExecutionStatus } = temporal.api.enums.v1;

/**
 * The frontend answering its health check says nothing about history or matching
 * (`temporal operator cluster health` checks only the frontend). So this also runs a workflow:
 * start it (frontend → history), take its workflow task from the queue (history → matching →
 * frontend) and complete it, then read it back as completed. It answers the task over the raw
 * API instead of running an SDK worker, which would first have to bundle workflow code: the whole
 * round trip takes milliseconds on a healthy cluster.
 */
export async function checkClusterRunsWorkflows(connection: Connection, namespace: string, timeoutMs = 30_000): Promise<number> {
  const started = Date.now();
  const deadline = started + timeoutMs;
  const within = <T>(fn: () => Promise<T>) => connection.withDeadline(Math.min(deadline, Date.now() + 10_000), fn);
  const identity = `mandi-cluster-health@${process.pid}`;
  const health = await within(() => connection.healthService.check({}));
  if (health.status !== 1 /* SERVING */) throw new Error(`frontend health: ${health.status}`);

  const id = `cluster-health-${randomUUID()}`;
  const taskQueue = { name: id, kind: temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL };
  await within(() =>
    connection.workflowService.startWorkflowExecution({
      namespace,
      workflowId: id,
      workflowType: { name: 'clusterHealthCheck' },
      taskQueue,
      requestId: randomUUID(),
      identity,
      workflowRunTimeout: msToTs(timeoutMs),
    }),
  );
  for (;;) {
    // A long poll answers empty when nothing arrived in time; ask again until the deadline.
    const task = await within(() => connection.workflowService.pollWorkflowTaskQueue({ namespace, taskQueue, identity }));
    if (task.taskToken?.length) {
      await within(() =>
        connection.workflowService.respondWorkflowTaskCompleted({
          namespace,
          identity,
          taskToken: task.taskToken,
          commands: [{ commandType: CommandType.COMMAND_TYPE_COMPLETE_WORKFLOW_EXECUTION, completeWorkflowExecutionCommandAttributes: {} }],
        }),
      );
      break;
    }
    if (Date.now() > deadline) throw new Error('no workflow task arrived: matching or history is not serving');
  }
  const described = await within(() => connection.workflowService.describeWorkflowExecution({ namespace, execution: { workflowId: id } }));
  const status = described.workflowExecutionInfo?.status;
  if (status !== WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_COMPLETED) throw new Error(`health workflow ended as ${status}`);
  return Date.now() - started;
}
