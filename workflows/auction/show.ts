/**
 * `show-<showId>`: a seller's live show. scheduled → live (startShow) ⇄ paused → ended. While live
 * the seller presents lots one at a time (startLot opens that lot's own workflow); pausing stops
 * new lots from starting (lots already open run to their end); ending cancels the lots never
 * presented.
 */
import { allHandlersFinished, condition, getExternalWorkflowHandle, setHandler } from '@temporalio/workflow';
import {
  auctionWorkflowId,
  endShowUpdate,
  lotChangedSignal,
  pauseShowUpdate,
  resumeShowUpdate,
  showStateQuery,
  startLotSignal,
  startLotUpdate,
  startShowUpdate,
  type ShowInput,
  type ShowState,
  type ShowStatus,
} from '../../contracts/auction';
import { rejection } from '../../domain/rejection';
import { flowControl } from '../stuck';
import { steps } from './proxies';

const refuse = (code: string, message: string) => rejection('conflict', code, message);

export async function auctionShowWorkflow(input: ShowInput): Promise<ShowState> {
  const state: ShowState = { showId: input.showId, status: 'scheduled', started: [], lastRejected: null };
  const flow = flowControl({ flowType: 'show' });
  const become = async (status: ShowStatus) => {
    await flow.step('record', () => steps.recordShowStatus({ showId: input.showId, status }));
    state.status = status;
    flow.status(status, `Show ${input.showId}: ${status}; ${state.started.length} lot(s) presented`);
    return state;
  };
  const onlyWhen = (allowed: ShowStatus[], code: string) => (_action?: unknown) => {
    if (!allowed.includes(state.status)) throw refuse(code, `the show is ${state.status}`);
  };

  setHandler(showStateQuery, () => state);
  setHandler(startShowUpdate, (_action) => become('live'), { validator: onlyWhen(['scheduled'], 'show_already_started') });
  setHandler(pauseShowUpdate, (_action) => become('paused'), { validator: onlyWhen(['live'], 'show_not_live') });
  setHandler(resumeShowUpdate, (_action) => become('live'), { validator: onlyWhen(['paused'], 'show_not_paused') });
  setHandler(
    endShowUpdate,
    async (_action) => {
      const cancelled = await flow.step('cancel_unstarted', () => steps.cancelUnpresentedLots({ showId: input.showId }));
      for (const lotId of cancelled) await getExternalWorkflowHandle(auctionWorkflowId(lotId)).signal(lotChangedSignal);
      return become('ended');
    },
    { validator: onlyWhen(['scheduled', 'live', 'paused'], 'show_ended') },
  );
  setHandler(
    startLotUpdate,
    async ({ lotId, by }) => {
      state.started.push(lotId);
      await getExternalWorkflowHandle(auctionWorkflowId(lotId)).signal(startLotSignal, { by });
      flow.status(state.status, `Show ${input.showId}: ${state.status}; ${state.started.length} lot(s) presented`);
      return state;
    },
    {
      validator: ({ lotId }) => {
        onlyWhen(['live'], 'show_not_live')();
        if (state.started.includes(lotId)) throw refuse('lot_already_started', `lot ${lotId} was already presented`);
      },
    },
  );

  await condition(() => state.status === 'ended');
  await condition(allHandlersFinished);
  return state;
}
