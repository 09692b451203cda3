/**
 * What a subscription costs. Prices come from the catalog, never from the client: a subscribable
 * product's price is the price of one unit per delivery, in paise.
 *
 * A period's charge is the unit price times the units the schedule delivers in it. Quoted when the
 * customer subscribes, before any exception exists, that is
 *
 *     periodCharge = unitPrice × quantity × deliveriesPerPeriod
 *
 * where deliveriesPerPeriod counts the rule's deliveries in the first period, from the start date
 * to nominalPeriodEnd (billing.ts), cut at the end date. The quote is stored with the subscription
 * and handed to the workflow as `pricePerPeriod`, which it charges for every period.
 *
 * Quantity changes and extras — decision: they re-price the next renewal, never the period that
 * is already paid. A renewal charges the units scheduled for the new period at the moment it is
 * charged (the day before it starts), plus the difference between what the previous period now
 * delivers and what was charged for it, so a change made after a period was charged, for dates in
 * it, is billed (or credited) once, with the next renewal. Vacation days are no difference: they
 * extend the period (periodEndWithCredit) and the paid deliveries are still made. A net credit
 * larger than the new period's units is not carried further, and a change inside the last period
 * of a subscription with an end date is not billed. `renewalCharge` implements this; until the
 * workflow prices its renewals with it, every renewal charges the quoted `pricePerPeriod`.
 */
import {
  deliveriesBetween,
  addDays,
  type LocalDate,
  type Recurrence,
  type ScheduleException,
  type ScheduleSubscription,
} from '../schedule';
import { nominalPeriodEnd, periodEndWithCredit } from './billing';
import type { BillingPeriod } from './types';

/** The most one period may cost (₹1,00,000): the ceiling the client-sent price had, kept for the computed one. */
export const MAX_PERIOD_CHARGE = 10_000_000;

/** How a subscription's charge per period was computed (shown by the API, stored with the row). */
export interface SubscriptionPricing {
  /** Catalog price of one unit per delivery, paise. */
  unitPrice: number;
  /** Units per delivery. */
  quantity: number;
  /** Rule deliveries in the first period. */
  deliveriesPerPeriod: number;
  /** unitPrice × quantity × deliveriesPerPeriod, paise. */
  periodCharge: number;
  billingPeriod: BillingPeriod;
  /** The first period the quote counted, first and last day (inclusive). */
  firstPeriod: { from: LocalDate; to: LocalDate };
}

export interface PlanToQuote {
  recurrence: Recurrence;
  startDate: LocalDate;
  endDate: LocalDate | null;
  quantity: number;
  timezone: string;
}

/** Units delivered from `from` (inclusive) to `toExclusive` by the schedule with its exceptions. */
export function periodUnits(
  sub: ScheduleSubscription,
  exceptions: readonly ScheduleException[],
  from: LocalDate,
  toExclusive: LocalDate,
): number {
  let units = 0;
  for (const d of deliveriesBetween(sub, exceptions, from, addDays(toExclusive, -1))) units += d.quantity;
  return units;
}

/** The subscribe-time quote: the plan's first period priced at the catalog's unit price. */
export function quotePlan(plan: PlanToQuote, unitPrice: number, billingPeriod: BillingPeriod): SubscriptionPricing {
  const sub: ScheduleSubscription = { id: 'quote', ...plan, status: 'active' };
  const end = nominalPeriodEnd(plan.startDate, billingPeriod);
  const lastDay = plan.endDate !== null && plan.endDate < addDays(end, -1) ? plan.endDate : addDays(end, -1);
  const deliveriesPerPeriod = deliveriesBetween(sub, [], plan.startDate, lastDay).length;
  return {
    unitPrice,
    quantity: plan.quantity,
    deliveriesPerPeriod,
    periodCharge: unitPrice * plan.quantity * deliveriesPerPeriod,
    billingPeriod,
    firstPeriod: { from: plan.startDate, to: lastDay },
  };
}

export type PricingProblem = 'no_deliveries_in_period' | 'period_charge_too_large';

/** Why a quote cannot be sold: nothing to deliver in the first period, or more than MAX_PERIOD_CHARGE. */
export function pricingProblems(p: SubscriptionPricing): PricingProblem[] {
  const problems: PricingProblem[] = [];
  if (p.deliveriesPerPeriod === 0) problems.push('no_deliveries_in_period');
  if (p.periodCharge > MAX_PERIOD_CHARGE) problems.push('period_charge_too_large');
  return problems;
}

export interface RenewalToPrice {
  sub: ScheduleSubscription;
  exceptions: readonly ScheduleException[];
  unitPrice: number;
  billingPeriod: BillingPeriod;
  /** First day of the period being charged. */
  start: LocalDate;
  /** The period before it and the units charged for it (none for the first period). */
  previous: { start: LocalDate; chargedUnits: number } | null;
}

export interface RenewalCharge {
  /** The period charged: first day and exclusive end (vacation credit included). */
  from: LocalDate;
  to: LocalDate;
  /** Units scheduled in the new period now. */
  units: number;
  /** Units the previous period delivers beyond (or short of) what was charged for it. */
  adjustmentUnits: number;
  /** unitPrice × max(0, units + adjustmentUnits), paise. */
  amount: number;
}

/** The charge of one renewal under the re-pricing decision in the module comment. */
export function renewalCharge(r: RenewalToPrice): RenewalCharge {
  const { end } = periodEndWithCredit(r.sub, r.exceptions, r.start, r.billingPeriod);
  const units = periodUnits(r.sub, r.exceptions, r.start, end);
  const adjustmentUnits = r.previous === null ? 0 : periodUnits(r.sub, r.exceptions, r.previous.start, r.start) - r.previous.chargedUnits;
  return { from: r.start, to: end, units, adjustmentUnits, amount: r.unitPrice * Math.max(0, units + adjustmentUnits) };
}
