import { proxyActivities, upsertMemo } from '@temporalio/workflow';
import type { FulfilmentActivities } from '../activities/fulfilment';
import type { CloseDeliveryDayInput, CloseDeliveryDayResult } from '../contracts/fulfilment';

export type { CloseDeliveryDayInput, CloseDeliveryDayResult } from '../contracts/fulfilment';

// A scheduled run fails rather than parks (CONTRIBUTING: a parked run would make its Schedule skip
// every later one); the next day's run, or ops rerunning the date, picks it up. Retries cover a
// database that is briefly away.
const fulfilment = proxyActivities<FulfilmentActivities>({
  startToCloseTimeout: '5m',
  retry: { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '1m', maximumAttempts: 10 },
});

/**
 * End of an area's delivery day, run by the area's Schedule just after its cutoff (or by hand for
 * a date): deliveries still `scheduled` become `unconfirmed` and raise an ops alert, and the day's
 * summary (delivered, failed by reason, unconfirmed, credits) is stored for GET /v1/ops/deliveries/summary.
 */
export async function closeDeliveryDayWorkflow(input: CloseDeliveryDayInput): Promise<CloseDeliveryDayResult> {
  const date = input.date ?? (await fulfilment.deliveryDayToClose({ areaId: input.areaId }));
  const result = await fulfilment.closeDeliveryDay({ areaId: input.areaId, date });
  const s = result.summary;
  upsertMemo({
    summary:
      `Area ${input.areaId} on ${date}: ${s.delivered} delivered, ${s.failed} failed, ${s.unconfirmed} unconfirmed` +
      ` of ${s.total}; ${s.credits} credits (${s.creditedAmount} paise)`,
  });
  return result;
}
