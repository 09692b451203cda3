/**
 * What the delivery routes answer with (api/routes/delivery.ts), as documented in the OpenAPI:
 * areas and their staff, the route sheet, the answer to an outcome report or a sync, and the day's
 * summary. The delivery record itself is shared with the subscription routes (./fulfilment.ts).
 */
import { z } from 'zod';
import { DELIVERY_STATUSES, FAILURE_REASONS } from '../../domain/fulfilment';
import { DeliveryAddressSchema } from './fulfilment';

const DATE = z.string().describe('YYYY-MM-DD, in the area’s time zone');
const INSTANT = z.string().describe('ISO instant');

const areaExample = {
  areaId: 'blr-south',
  name: 'Bengaluru South',
  timezone: 'Asia/Kolkata',
  cutoff: '10:00',
  creditPolicy: { creditNotHome: false, creditNoAccess: true },
  createdAt: '2026-11-01T04:30:00.000Z',
  updatedAt: '2026-11-20T04:30:00.000Z',
};
const staffExample = [{ userId: 'usr_ravi', assignedBy: 'admin:usr_meera', assignedAt: '2026-11-02T05:00:00.000Z' }];
const outcomeViewExample = {
  deliveryId: 'sub_6f1d3c2b9a8e7d6c5b4a3f2e-2027-01-06',
  subscriptionId: 'sub_6f1d3c2b9a8e7d6c5b4a3f2e',
  date: '2027-01-06',
  areaId: 'blr-south',
  status: 'failed' as const,
  failureReason: 'no_access' as const,
  outcomeAt: '2027-01-06T01:40:00.000Z',
  outcomeBy: 'usr_ravi',
  source: 'staff' as const,
  corrected: false,
  revision: 1,
  credit: { amount: 6_800, journalId: 2051 },
};

export const DeliveryAreaSchema = z
  .object({
    areaId: z.string().describe('the holiday region it serves'),
    name: z.string(),
    timezone: z.string().describe('IANA time zone'),
    cutoff: z.string().describe('local HH:mm after which the day’s unreported deliveries become unconfirmed'),
    creditPolicy: z
      .object({ creditNotHome: z.boolean(), creditNoAccess: z.boolean() })
      .describe('which failure reasons credit the customer'),
    createdAt: INSTANT,
    updatedAt: INSTANT,
  })
  .meta({ id: 'DeliveryArea', example: areaExample });

export const DeliveryAreaListSchema = z
  .object({ areas: z.array(DeliveryAreaSchema) })
  .meta({ id: 'DeliveryAreaList', example: { areas: [areaExample] } });

const AreaStaffSchema = z
  .array(z.object({ userId: z.string(), assignedBy: z.string(), assignedAt: INSTANT }))
  .describe('the delivery people assigned to the area, by user id');

export const DeliveryAreaSavedSchema = z
  .object({ area: DeliveryAreaSchema, scheduleId: z.string().describe('its end-of-day close Schedule'), staff: AreaStaffSchema })
  .meta({
    id: 'DeliveryAreaSaved',
    example: { area: areaExample, scheduleId: 'delivery-day-close-blr-south', staff: staffExample },
  });

export const DeliveryAreaStaffSchema = z
  .object({ areaId: z.string(), changed: z.boolean().describe('false when it already was so'), staff: AreaStaffSchema })
  .meta({ id: 'DeliveryAreaStaff', example: { areaId: 'blr-south', changed: true, staff: staffExample } });

const routeEntryExample = {
  deliveryId: 'sub_6f1d3c2b9a8e7d6c5b4a3f2e-2027-01-06',
  subscriptionId: 'sub_6f1d3c2b9a8e7d6c5b4a3f2e',
  sequence: 7,
  quantity: 2,
  product: { productId: 'milk-500ml', name: 'Toned milk 500 ml', unit: 'packet' },
  address: { addressId: 'adr_5a4b3c2d1e0f9a8b7c6d5e4f', line: 'Flat 4B, Lake View, 12th Main', notes: 'Ring twice' },
  status: 'scheduled' as const,
  failureReason: null,
  outcomeAt: null,
  revision: 0,
};

const RouteEntrySchema = z
  .object({
    deliveryId: z.string(),
    subscriptionId: z.string(),
    sequence: z.number().int().nullable().describe('its place on the route; null: not placed yet (listed last)'),
    quantity: z.number().int(),
    product: z.object({ productId: z.string(), name: z.string().nullable(), unit: z.string().nullable() }),
    address: z.object({ addressId: z.string(), line: z.string(), notes: z.string().nullable() }).nullable(),
    status: z.enum(DELIVERY_STATUSES),
    failureReason: z.enum(FAILURE_REASONS).nullable(),
    outcomeAt: z.string().nullable(),
    revision: z.number().int(),
  })
  .meta({ id: 'RouteSheetEntry', example: routeEntryExample });

export const RouteSheetSchema = z
  .object({
    areaId: z.string(),
    date: DATE,
    timezone: z.string(),
    cutoff: z.string(),
    version: z.string().describe('covers what is to be delivered; send it back as `since`'),
    unchanged: z.boolean().describe('true: `since` is still current, and the deliveries are left out'),
    count: z.number().int().optional(),
    deliveries: z.array(RouteEntrySchema).optional().describe('in route order; absent when unchanged'),
  })
  .meta({
    id: 'RouteSheet',
    example: {
      areaId: 'blr-south',
      date: '2027-01-06',
      timezone: 'Asia/Kolkata',
      cutoff: '10:00',
      version: 'r1-9c2f0e7a',
      unchanged: false,
      count: 1,
      deliveries: [routeEntryExample],
    },
  });

const OutcomeViewSchema = z
  .object({
    deliveryId: z.string(),
    subscriptionId: z.string(),
    date: DATE,
    areaId: z.string(),
    status: z.enum(DELIVERY_STATUSES),
    failureReason: z.enum(FAILURE_REASONS).nullable(),
    outcomeAt: z.string().nullable(),
    outcomeBy: z.string().nullable(),
    source: z.enum(['staff', 'ops', 'system']).nullable(),
    corrected: z.boolean().describe('ops corrected it: field reports can no longer change it'),
    revision: z.number().int(),
    credit: z.object({ amount: z.number().int(), journalId: z.number().int() }).nullable(),
  })
  .meta({ id: 'DeliveryOutcome', example: outcomeViewExample });

export const OutcomeAnswerSchema = z
  .object({
    deliveryId: z.string(),
    result: z
      .enum(['applied', 'duplicate', 'superseded', 'rejected'])
      .describe('rejected only inside a sync; a single report is refused with its 4xx instead'),
    error: z.object({ kind: z.string(), code: z.string(), message: z.string() }).optional().describe('why it was rejected'),
    delivery: OutcomeViewSchema.optional().describe('the delivery after the call; absent when there is no such delivery for you'),
  })
  .meta({
    id: 'DeliveryOutcomeAnswer',
    example: { deliveryId: outcomeViewExample.deliveryId, result: 'applied', delivery: outcomeViewExample },
  });

export const SyncAnswerSchema = z
  .object({
    applied: z.number().int(),
    results: z.array(OutcomeAnswerSchema).describe('one per outcome sent, in order'),
    route: z
      .object({ areaId: z.string(), date: DATE, version: z.string(), changed: z.boolean() })
      .optional()
      .describe('present when the sync named the sheet it holds: `changed` true means fetch it again'),
  })
  .meta({
    id: 'DeliverySyncAnswer',
    example: {
      applied: 1,
      results: [{ deliveryId: outcomeViewExample.deliveryId, result: 'applied', delivery: outcomeViewExample }],
      route: { areaId: 'blr-south', date: '2027-01-06', version: 'r1-9c2f0e7a', changed: false },
    },
  });

export const SubscriptionAddressAnswerSchema = z.object({ subscriptionId: z.string(), address: DeliveryAddressSchema }).meta({
  id: 'SubscriptionAddressAnswer',
  example: {
    subscriptionId: 'sub_6f1d3c2b9a8e7d6c5b4a3f2e',
    address: {
      addressId: 'adr_5a4b3c2d1e0f9a8b7c6d5e4f',
      areaId: 'blr-south',
      customerId: 'usr_asha',
      line: 'Flat 4B, Lake View, 12th Main',
      notes: 'Ring twice',
      sequence: null,
    },
  },
});

export const SequenceAnswerSchema = z
  .object({ areaId: z.string(), updated: z.number().int().describe('addresses placed') })
  .meta({ id: 'DeliverySequenceAnswer', example: { areaId: 'blr-south', updated: 42 } });

const failedByReason = Object.fromEntries(FAILURE_REASONS.map((r) => [r, r === 'no_access' ? 1 : 0]));
const FailedByReasonSchema = z.object(Object.fromEntries(FAILURE_REASONS.map((r) => [r, z.number().int()])));
const COUNTS = {
  total: z.number().int(),
  delivered: z.number().int(),
  failed: z.number().int(),
  failedByReason: FailedByReasonSchema,
  unconfirmed: z.number().int(),
  credits: z.number().int().describe('deliveries carrying a missed-delivery credit'),
  creditedAmount: z.number().int().describe('paise credited'),
};
const countsExample = { total: 40, delivered: 38, failed: 1, failedByReason, unconfirmed: 1, credits: 1, creditedAmount: 6_800 };

export const DaySummaryAnswerSchema = z
  .object({
    date: DATE,
    areas: z.array(
      z.object({
        areaId: z.string(),
        date: DATE,
        ...COUNTS,
        scheduled: z.number().int().describe('still scheduled (none once the day has closed)'),
        closedAt: INSTANT,
        updatedAt: INSTANT,
      }),
    ),
    totals: z.object(COUNTS),
    notClosed: z.array(z.string()).describe('areas whose day has not closed yet'),
  })
  .meta({
    id: 'DeliveryDaySummary',
    example: {
      date: '2027-01-06',
      areas: [
        {
          areaId: 'blr-south',
          date: '2027-01-06',
          ...countsExample,
          scheduled: 0,
          closedAt: '2027-01-06T04:30:05.000Z',
          updatedAt: '2027-01-06T04:30:05.000Z',
        },
      ],
      totals: countsExample,
      notClosed: ['blr-north'],
    },
  });
