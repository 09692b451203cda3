import { raiseFlowAlert, resolveFlowAlert, type FlowAlert, type FlowAlertResolution } from '../db/flow-alerts';
import type { ActivityDeps } from './deps';

/** The shared alert of every flow's stuck step (workflows/stuck.ts raises and resolves it). */
export function createFlowAlertActivities({ db, logger }: ActivityDeps) {
  return {
    async raiseFlowAlert(alert: FlowAlert): Promise<void> {
      if (await raiseFlowAlert(db, alert)) {
        logger.error(
          { workflowId: alert.workflowId, flowType: alert.flowType, step: alert.step, code: alert.code },
          `flow stuck: ${alert.reason}`,
        );
      }
    },

    async resolveFlowAlert(req: { workflowId: string; step: string; resolution: FlowAlertResolution }): Promise<void> {
      if ((await resolveFlowAlert(db, req.workflowId, req.step, req.resolution)) > 0) {
        logger.info({ workflowId: req.workflowId, step: req.step, resolution: req.resolution }, 'flow unstuck');
      }
    },
  };
}

export type FlowAlertActivities = ReturnType<typeof createFlowAlertActivities>;
