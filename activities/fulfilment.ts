import type { CloseDeliveryDayResult } from '../contracts/fulfilment';
import { findArea, type DeliveryArea } from '../db/fulfilment-areas';
import { closeAreaDay } from '../db/fulfilment-day';
import { dayToClose } from '../domain/fulfilment';
import { rejection } from '../domain/rejection';
import { isValidLocalDate } from '../domain/schedule';
import type { ActivityDeps } from './deps';

/**
 * The end-of-day close of an area, as activities of closeDeliveryDayWorkflow. Both are safe to
 * run twice: a second close finds nothing still scheduled and stores the same summary.
 */
export function createFulfilmentActivities({ db, logger }: ActivityDeps) {
  async function area(areaId: string): Promise<DeliveryArea> {
    const found = await findArea(db, areaId);
    if (!found) throw rejection('not_found', 'area_not_found', `No delivery area ${areaId}`, { areaId });
    return found;
  }

  return {
    /** The day whose cutoff passed last in the area's time zone (read from the clock here, not in the workflow). */
    async deliveryDayToClose(req: { areaId: string }): Promise<string> {
      const a = await area(req.areaId);
      return dayToClose(Date.now(), a.timezone, a.cutoff);
    },

    /** Marks the day's unreported deliveries unconfirmed, stores the summary and keeps the ops alert in step. */
    async closeDeliveryDay(req: { areaId: string; date: string }): Promise<CloseDeliveryDayResult> {
      if (!isValidLocalDate(req.date)) throw rejection('invalid', 'invalid_date', `Not a date: ${req.date}`, { date: req.date });
      await area(req.areaId);
      const result = await db.transaction((trx) => closeAreaDay(trx, req.areaId, req.date));
      if (result.summary.unconfirmed > 0) {
        logger.warn({ areaId: req.areaId, date: req.date, unconfirmed: result.summary.unconfirmed }, 'deliveries left unconfirmed');
      }
      return result;
    },
  };
}

export type FulfilmentActivities = ReturnType<typeof createFulfilmentActivities>;
