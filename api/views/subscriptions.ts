/** What the subscription routes answer with (api/routes/subscriptions.ts), as documented in the OpenAPI. */
import { z } from 'zod';
import { SUBSCRIPTION_FLOW_STATUSES, subscriptionWorkflowId } from '../../contracts/subscription';
import type { SubscriptionRow } from '../../db/subscriptions';
import { DELIVERY_STATUSES, FAILURE_REASONS } from '../../domain/fulfilment';
import type { DecisionReason } from '../../domain/schedule';
import { DeliveryAddressSchema, DeliveryFulfilmentSchema, StreakSchema, deliveryExample } from './fulfilment';

const SUBSCRIPTION_ID = 'sub_6f1d3c2b9a8e7d6c5b4a3f2e';
const DATE = z.string().describe('YYYY-MM-DD, in the subscription’s time zone');
const BILLING_STATES = ['pending', 'paid', 'retrying', 'payment_failed', 'ended'] as const;
const EXCEPTION_TYPES = ['skip', 'deliver_extra', 'change_quantity'] as const;

/** Every DecisionReason (domain/schedule/types.ts): a reason missing here fails the type check below. */
const DECISION_REASONS = [
  'rule',
  'not_in_rule',
  'before_start',
  'after_end',
  'cancelled',
  'skipped',
  'extra',
  'quantity_changed',
  'extra_on_skipped_day',
] as const satisfies readonly DecisionReason[];
const everyDecisionReason: Exclude<DecisionReason, (typeof DECISION_REASONS)[number]> extends never ? true : never = true;
void everyDecisionReason;

export const RecurrenceViewSchema = z
  .discriminatedUnion('kind', [
    z.object({ kind: z.literal('daily') }),
    z.object({ kind: z.literal('every_n_days'), n: z.number().int() }),
    z.object({ kind: z.literal('days_of_week'), days: z.array(z.number().int()).describe('ISO weekdays, 1 = Monday … 7 = Sunday') }),
    z.object({ kind: z.literal('days_of_month'), days: z.array(z.union([z.number().int(), z.literal('last')])) }),
  ])
  .meta({ id: 'Recurrence', example: { kind: 'days_of_week', days: [1, 2, 3, 4, 5, 6] } });

const exceptionExample = {
  id: 'E1',
  type: 'skip' as const,
  from: '2027-02-10',
  to: '2027-02-17',
  reason: 'vacation',
  createdBy: `customer:usr_asha`,
  createdAt: '2027-01-20T06:12:00.000Z',
  endedAt: null,
};

export const ScheduleExceptionSchema = z
  .object({
    id: z.string().describe('E1, E2… (the workflow’s), or a holiday’s own id'),
    type: z.enum(EXCEPTION_TYPES).describe('a pause is an open-ended or dated skip'),
    from: DATE,
    to: DATE.nullable().describe('last day (inclusive); null: open-ended (a skip only)'),
    quantity: z.number().int().optional().describe('for deliver_extra and change_quantity'),
    reason: z.string().describe('vacation, special_request, system_pause, payment_failure, holiday (older rows may hold others)'),
    createdBy: z.string().describe('`customer:<id>`, `support:<id>`, `admin:<id>` or `system`'),
    createdAt: z.string(),
    endedAt: DATE.nullable().optional().describe('it stops applying on and after this date (resumed early, payment succeeded)'),
  })
  .meta({ id: 'SubscriptionException', example: exceptionExample });

const pricingExample = { unitPrice: 3_400, unit: '500 ml', quantity: 2, deliveriesPerPeriod: 26, periodCharge: 176_800 };

const subscriptionExample = {
  subscriptionId: SUBSCRIPTION_ID,
  workflowId: `subscription-${SUBSCRIPTION_ID}`,
  customerId: 'usr_asha',
  productId: 'milk-500ml',
  quantity: 2,
  pricePerPeriod: 176_800,
  pricing: pricingExample,
  recurrence: { kind: 'days_of_week' as const, days: [1, 2, 3, 4, 5, 6] },
  startDate: '2027-01-06',
  endDate: null,
  timezone: 'Asia/Kolkata',
  region: 'default',
  status: 'active' as const,
  cancelledFrom: null,
  paymentMethod: 'pm_ok',
  billingState: 'paid' as const,
  billingReason: null,
  nextRenewalDate: '2027-02-06',
  paidThrough: '2027-02-05',
  pausedDaysCredited: 0,
};

export const SubscriptionSchema = z
  .object({
    subscriptionId: z.string(),
    workflowId: z.string(),
    customerId: z.string(),
    productId: z.string(),
    quantity: z.number().int().describe('units per delivery'),
    pricePerPeriod: z.number().int().describe('paise per billing period, as quoted'),
    pricing: z
      .object({
        unitPrice: z.number().int().describe('paise per unit per delivery'),
        unit: z.string().nullable(),
        quantity: z.number().int(),
        deliveriesPerPeriod: z.number().int().nullable(),
        periodCharge: z.number().int().describe('paise'),
      })
      .nullable()
      .describe('how the charge per period was computed; null for a subscription priced before the catalog'),
    recurrence: RecurrenceViewSchema,
    startDate: DATE,
    endDate: DATE.nullable(),
    timezone: z.string(),
    region: z.string(),
    status: z.enum(['active', 'cancelled']).describe('a pause is an exception, not a status (see the workflow’s flowStatus)'),
    cancelledFrom: DATE.nullable(),
    paymentMethod: z.string(),
    billingState: z.enum(BILLING_STATES),
    billingReason: z.string().nullable(),
    nextRenewalDate: DATE.nullable(),
    paidThrough: DATE.nullable(),
    pausedDaysCredited: z.number().int().describe('paused days whose deliveries the next renewals shift by'),
  })
  .meta({ id: 'Subscription', example: subscriptionExample });

export const SubscriptionListSchema = z
  .object({ subscriptions: z.array(SubscriptionSchema).describe('newest first, at most 100') })
  .meta({ id: 'SubscriptionList', example: { subscriptions: [subscriptionExample] } });

const workflowExample = {
  subscriptionId: SUBSCRIPTION_ID,
  customerId: 'usr_asha',
  flowStatus: 'active' as const,
  why: 'Active: the next delivery is on 2027-01-07',
  today: '2027-01-06',
  earliestChangeableDate: '2027-01-07',
  quantity: 2,
  paymentMethod: 'pm_ok',
  cancelledFrom: null,
  period: 1,
  periodStart: '2027-01-06',
  periodPaid: true,
  nextPeriodStart: '2027-02-06',
  nextRenewalDate: '2027-02-06',
  creditedDaysTotal: 0,
  billing: 'paid' as const,
  billingReason: null,
  dunning: null,
  exceptions: [exceptionExample],
  lastRejected: null,
  runs: 1,
  periodAmount: 176_800,
  stuckStep: null,
  stuckReason: null,
};

/** The workflow's `state` query (contracts/subscription.ts SubscriptionFlowView). */
export const SubscriptionWorkflowStateSchema = z
  .object({
    subscriptionId: z.string(),
    customerId: z.string(),
    flowStatus: z.enum(SUBSCRIPTION_FLOW_STATUSES),
    why: z.string().describe('why it is in that state, in words support can read out'),
    today: DATE,
    earliestChangeableDate: DATE,
    quantity: z.number().int(),
    paymentMethod: z.string(),
    cancelledFrom: DATE.nullable(),
    period: z.number().int().describe('the current billing period, from 1; 0 before the first renewal'),
    periodStart: DATE.nullable(),
    periodPaid: z.boolean(),
    nextPeriodStart: DATE,
    nextRenewalDate: DATE.nullable(),
    creditedDaysTotal: z.number().int(),
    billing: z.enum(BILLING_STATES),
    billingReason: z.string().nullable(),
    dunning: z
      .object({
        period: z.number().int(),
        attempts: z.number().int(),
        retriesDone: z.number().int(),
        firstFailedAtMs: z.number().int(),
        nextRetryAtMs: z.number().int().nullable().describe('null when the retries are exhausted'),
        lastError: z.string(),
        pauseExceptionId: z.string().nullable(),
      })
      .nullable()
      .describe('while a renewal is being retried'),
    exceptions: z.array(ScheduleExceptionSchema),
    lastRejected: z
      .object({ request: z.string(), codes: z.array(z.string()), at: z.string() })
      .nullable()
      .describe('the last signal ignored as invalid'),
    runs: z.number().int(),
    periodAmount: z.number().int().nullable().describe('paise the current period costs; null before the first renewal'),
    stuckStep: z.string().nullable(),
    stuckReason: z.string().nullable(),
  })
  .meta({ id: 'SubscriptionWorkflowState', example: workflowExample });

export const SubscriptionDetailSchema = SubscriptionSchema.extend({
  exceptions: z.array(ScheduleExceptionSchema).describe('oldest first; never deleted, only ended'),
  streak: StreakSchema.describe('consecutive scheduled days delivered (vacations and holidays neither break nor extend it)'),
  credits: z.object({ count: z.number().int(), amount: z.number().int().describe('paise') }).describe('missed-delivery credits it carries'),
  deliveryAddress: DeliveryAddressSchema.nullable(),
  workflow: SubscriptionWorkflowStateSchema.nullable().describe('the workflow’s own view while it runs; null once finished or unreachable'),
}).meta({
  id: 'SubscriptionDetail',
  example: {
    ...subscriptionExample,
    exceptions: [exceptionExample],
    streak: { current: 12, longest: 40, since: '2026-12-25', lastDelivered: '2027-01-05', lastBreak: null },
    credits: { count: 1, amount: 6_800 },
    deliveryAddress: null,
    workflow: workflowExample,
  },
});

export const ExceptionAcceptedSchema = z
  .object({ exceptionId: z.string().describe('the exception the workflow recorded (E1, E2…)') })
  .meta({ id: 'SubscriptionExceptionAccepted', example: { exceptionId: 'E3' } });

export const ResumeResultSchema = z
  .object({ ended: z.array(z.string()).describe('the ids of the pauses that were ended') })
  .meta({ id: 'SubscriptionResumed', example: { ended: ['E1'] } });

export const CancelResultSchema = z
  .object({ cancelledFrom: DATE.describe('the first day without delivery') })
  .meta({ id: 'SubscriptionCancelled', example: { cancelledFrom: '2027-04-01' } });

export const PaymentMethodResultSchema = z
  .object({ retried: z.boolean().describe('a renewal in dunning was retried at once with the new method') })
  .meta({ id: 'SubscriptionPaymentMethodUpdated', example: { retried: false } });

export const DeliveryListSchema = z
  .object({
    subscriptionId: z.string(),
    from: DATE,
    to: DATE,
    deliveries: z.array(
      z.object({
        date: DATE,
        deliveryId: z.string(),
        quantity: z.number().int(),
        reason: z
          .enum(DECISION_REASONS)
          .nullable()
          .describe('why the schedule delivers; null for a recorded day the schedule no longer shows'),
        explanation: z.string(),
        status: z.enum([...DELIVERY_STATUSES, 'not_generated']).describe('not_generated: the nightly job has not made it yet'),
        failureReason: z.enum(FAILURE_REASONS).nullable(),
        outcomeAt: z.string().nullable(),
        corrected: z.boolean(),
        credit: z.object({ amount: z.number().int(), journalId: z.number().int() }).nullable(),
      }),
    ),
  })
  .meta({
    id: 'SubscriptionDeliveries',
    example: {
      subscriptionId: SUBSCRIPTION_ID,
      from: '2027-01-06',
      to: '2027-01-07',
      deliveries: [
        {
          date: '2027-01-06',
          deliveryId: `${SUBSCRIPTION_ID}-2027-01-06`,
          quantity: 2,
          reason: 'rule',
          explanation: 'deliver 2: rule on Mon, Tue, Wed, Thu, Fri, Sat',
          status: 'failed',
          failureReason: 'no_access',
          outcomeAt: '2027-01-06T01:40:00.000Z',
          corrected: false,
          credit: { amount: 6_800, journalId: 2051 },
        },
      ],
    },
  });

export const DeliveryExplanationSchema = z
  .object({
    subscriptionId: z.string(),
    date: DATE,
    deliver: z.boolean(),
    quantity: z.number().int().describe('units; 0 when not delivering'),
    reason: z.enum(DECISION_REASONS),
    decidedBy: z
      .discriminatedUnion('kind', [
        z.object({ kind: z.literal('rule') }),
        z.object({ kind: z.literal('exception'), exception: ScheduleExceptionSchema }),
      ])
      .describe('the recurrence rule, or the exception that overrode it'),
    explanation: z.string().describe('for people'),
    generatedDelivery: z
      .object({ quantity: z.number().int(), status: z.enum(DELIVERY_STATUSES) })
      .nullable()
      .describe('the delivery the nightly job made for the date; null before it has'),
    fulfilment: DeliveryFulfilmentSchema.nullable().describe('what happened to that delivery; null when none was made'),
  })
  .meta({
    id: 'SubscriptionDeliveryExplanation',
    example: {
      subscriptionId: SUBSCRIPTION_ID,
      date: '2027-01-06',
      deliver: true,
      quantity: 2,
      reason: 'rule',
      decidedBy: { kind: 'rule' },
      explanation: 'deliver 2: rule on Mon, Tue, Wed, Thu, Fri, Sat',
      generatedDelivery: { quantity: 2, status: 'failed' },
      fulfilment: { ...deliveryExample, history: [], creditJournals: [] },
    },
  });

export const RenewalListSchema = z
  .object({
    subscriptionId: z.string(),
    renewals: z
      .array(
        z.object({
          period: z.number().int(),
          periodStart: DATE,
          periodEnd: DATE.nullable().describe('null for the current period until it is paid'),
          amount: z.number().int().describe('paise'),
          status: z.enum(['pending', 'paid', 'retrying', 'payment_failed', 'refunded']),
          attempts: z.number().int(),
          paidVia: z.enum(['wallet', 'provider']).nullable(),
          paymentId: z.string().nullable().describe('the provider payment, when paid through the payment method'),
          journalId: z.number().int().nullable(),
          paidAt: z.string().nullable(),
          lastError: z.string().nullable(),
          nextRetryAt: z.string().nullable(),
          refundedAmount: z.number().int(),
        }),
      )
      .describe('newest period first'),
  })
  .meta({
    id: 'SubscriptionRenewals',
    example: {
      subscriptionId: SUBSCRIPTION_ID,
      renewals: [
        {
          period: 1,
          periodStart: '2027-01-06',
          periodEnd: '2027-02-05',
          amount: 176_800,
          status: 'paid',
          attempts: 1,
          paidVia: 'wallet',
          paymentId: null,
          journalId: 1990,
          paidAt: '2027-01-05T18:30:02.000Z',
          lastError: null,
          nextRetryAt: null,
          refundedAmount: 0,
        },
      ],
    },
  });

export const SubscribableProductSchema = z
  .object({
    productId: z.string(),
    sellerId: z.string(),
    name: z.string(),
    price: z.number().int().describe('paise per unit per delivery'),
    unit: z.string().nullable().describe('what one unit is, e.g. "500 ml"'),
    subscribable: z.boolean(),
    active: z.boolean(),
  })
  .meta({
    id: 'SubscribableProduct',
    example: {
      productId: 'milk-500ml',
      sellerId: 'dairy-fresh',
      name: 'Toned milk, 500 ml',
      price: 3_400,
      unit: '500 ml',
      subscribable: true,
      active: true,
    },
  });

export const HolidayAcceptedSchema = z
  .object({ workflowId: z.string().describe('the holiday workflow: adds and announces the skips'), region: z.string(), date: DATE })
  .meta({ id: 'RegionHolidayAccepted', example: { workflowId: 'holiday-default-2027-01-26', region: 'default', date: '2027-01-26' } });

/** How the charge per period was computed; null for subscriptions priced by the client before the catalog. */
function pricingBody(row: SubscriptionRow): z.output<typeof SubscriptionSchema>['pricing'] {
  if (row.unit_price == null) return null;
  return {
    unitPrice: Number(row.unit_price),
    unit: row.unit,
    quantity: row.quantity,
    deliveriesPerPeriod: row.deliveries_per_period,
    periodCharge: Number(row.price_per_period),
  };
}

export function subscriptionBody(row: SubscriptionRow): z.output<typeof SubscriptionSchema> {
  return {
    subscriptionId: row.id,
    workflowId: subscriptionWorkflowId(row.id),
    customerId: row.customer_id,
    productId: row.product_id,
    quantity: row.quantity,
    pricePerPeriod: Number(row.price_per_period),
    pricing: pricingBody(row),
    recurrence: row.recurrence,
    startDate: row.start_date,
    endDate: row.end_date,
    timezone: row.timezone,
    region: row.region,
    status: row.status,
    cancelledFrom: row.cancelled_from,
    paymentMethod: row.payment_method,
    billingState: row.billing_state as z.output<typeof SubscriptionSchema>['billingState'],
    billingReason: row.billing_reason,
    nextRenewalDate: row.next_renewal_date,
    paidThrough: row.paid_through,
    pausedDaysCredited: row.paused_days_credited,
  };
}
