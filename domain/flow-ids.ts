/**
 * Which kinds of flow exist and what their workflow ids look like, for the support endpoints that
 * take any flow's id. Each flow's id helper lives in its contract (contracts/<flow>.ts).
 */
export const FLOW_TYPES = [
  'topup',
  'subscription',
  'checkout',
  'refund',
  'payout',
  'market',
  'holiday',
  'generation',
  'account-deletion',
  'auction',
  'show',
] as const;
export type FlowType = (typeof FLOW_TYPES)[number];

/**
 * Every form a flow's workflow id takes, so a support endpoint can refuse anything else before it
 * reaches Temporal. The ids inside follow the API's own id patterns.
 */
const FLOW_ID_FORMS: Array<[FlowType, RegExp]> = [
  ['topup', /^topup-tu_[a-z0-9]{8,40}$/],
  ['subscription', /^subscription-sub_[a-z0-9]{8,40}$/],
  ['checkout', /^checkout-ord_[a-f0-9]{24}$/],
  // A refund after settlement (domain/checkout/status.ts#orderRefundWorkflowId).
  ['refund', /^refund-rf_[a-f0-9]{24}$/],
  ['payout', /^payout-po_[a-f0-9]{24}$/],
  ['market', /^market-mk_[a-z0-9]{8,40}$/],
  ['auction', /^auction-lot_[a-z0-9]{8,40}$/],
  ['show', /^show-show_[a-z0-9]{8,40}$/],
  ['holiday', /^holiday-[a-z0-9_-]{1,32}-\d{4}-\d{2}-\d{2}$/],
  // Runs started by the nightly Schedule get `<scheduleId>-<scheduled instant>`.
  [
    'generation',
    /^(generation-[a-z0-9-]{1,40}-\d{4}-\d{2}-\d{2}|subscriptions-nightly-orders-[a-z0-9-]{1,40}-\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z)$/,
  ],
];

/** Which flow a workflow id belongs to, or null when it is none of ours. */
export function flowTypeOf(workflowId: string): FlowType | null {
  if (typeof workflowId !== 'string' || workflowId.length > 120) return null;
  return FLOW_ID_FORMS.find(([, form]) => form.test(workflowId))?.[0] ?? null;
}

/**
 * The ApplicationFailure type of an activity failure that retrying cannot fix (bad data, a bug):
 * activities raise it (activities/failures.ts), workflows park on it (workflows/stuck.ts).
 */
export const UNFIXABLE_FAILURE = 'UnfixableData';

/** What an UnfixableData failure carries in its details. */
export interface UnfixableDetails {
  /** The Postgres SQLSTATE (e.g. `22021`), or the JS error name (e.g. `RangeError`). */
  code: string;
  message: string;
  activity?: string;
  table?: string;
  constraint?: string;
}
