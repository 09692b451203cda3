/**
 * One checkout's carried state: what the saga shows (its `state` query, FlowStatus, the memo
 * summary), what the messages have asked for (an abort, a dispatch, a delivery), and the stuck-step
 * mechanism it parks through. The steps (workflows/checkout.ts) and the message handlers
 * (./messages.ts) both work on it.
 */
import { CancellationScope, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import type { CheckoutInput, CheckoutState, OrderStatus } from '../../contracts/checkout';
import { isTerminal } from '../../domain/checkout/status';
import { formatRupees } from '../../domain/money';
import { CustomerId, FlowStatus, OrderId, SellerId } from '../search-attributes';
import { flowControl, type FlowControl } from '../stuck';
import { workflowCancelled, type CheckoutAbort } from './abort';

// FlowStatus is upserted on every status a flow can rest in (and so be found by ops in the UI):
// the sub-second hops validating → reserving → charging (wallet) are not, as each upsert is a
// visibility write on the Temporal server; a provider charge, which can wait, is.
const TRANSIENT: readonly OrderStatus[] = ['validating', 'reserving'];

const initialState = (orderId: string): CheckoutState => ({
  orderId,
  status: 'pending',
  step: null,
  stuckStep: null,
  stuckReason: null,
  stuckError: null,
  fundingSource: null,
  paymentId: null,
  confirmed: false,
  dispatched: false,
  delivered: false,
  compensationsRegistered: [],
  compensationsRun: [],
  abort: null,
  failureCode: null,
  failureMessage: null,
});

export class CheckoutOrder {
  readonly state: CheckoutState;
  /** Set by a cancel, return or refund (or a step's business failure): the saga compensates. */
  abort: CheckoutAbort | null = null;
  deliveredBy: string | null = null;
  dispatchedBy: string | null = null;
  /** Decided once by the wallet charge: the wallet paid, or the provider must. */
  chargeRoute: 'wallet' | 'provider' | null = null;
  /** A stuck step parks the order (FlowStatus and order row `stuck`) through the shared mechanism. */
  readonly flow: FlowControl;
  /** The saga revision the run was started for (CheckoutInput.sagaRevision); 0: before revisions. */
  readonly revision: number;
  private shownStatus: string | null = null;

  constructor(readonly input: CheckoutInput) {
    this.state = initialState(input.orderId);
    this.revision = input.sagaRevision ?? 0;
    // Sold at auction: the sale wrote the order confirmed and paid, so the seller may dispatch it at
    // once, also by an update that reaches the flow with its start (validated as its handler is set).
    // State only, no command: recorded histories replay.
    this.state.confirmed = input.auctionLotId !== undefined;
    this.flow = flowControl({
      flowType: 'checkout',
      state: this.state,
      writesMemo: this.revision >= 1,
      // While compensating the order stays `compensating` (its fence); FlowStatus alone says stuck.
      show: (status) => {
        if (status === 'stuck' && this.state.step !== 'compensate') this.setStatus('stuck');
        else if (status !== this.shownStatus) this.show(status);
      },
    });
    // The API starts the flow with these set; a flow started another way (CLI, tests) gets them here.
    const given = workflowInfo().typedSearchAttributes;
    if (given.get(OrderId) !== input.orderId || given.get(CustomerId) !== input.buyerId || given.get(SellerId) !== input.sellerId) {
      upsertSearchAttributes([
        { key: OrderId, value: input.orderId },
        { key: CustomerId, value: input.buyerId },
        { key: SellerId, value: input.sellerId },
        { key: FlowStatus, value: 'pending' },
      ]);
    }
    this.shownStatus = given.get(FlowStatus) ?? 'pending';
  }

  setStatus(status: OrderStatus): void {
    this.state.status = status;
    if (TRANSIENT.includes(status) || status === this.shownStatus) return;
    if (status === 'charging' && this.chargeRoute !== 'provider') return;
    this.show(status);
    const failure = this.state.failureCode ? ` (${this.state.failureCode})` : '';
    this.flow.summary(`Order ${this.input.orderId} of ${formatRupees(this.input.total)}: ${status}${failure}`);
  }

  private show(status: string): void {
    this.shownStatus = status;
    upsertSearchAttributes([{ key: FlowStatus, value: status }]);
  }

  /** Settling, closed or compensating: no action may change the order any more. */
  settlingOrDone(): boolean {
    return this.state.status === 'settling' || isTerminal(this.state.status) || this.state.status === 'compensating';
  }

  /** Between steps: stop going forward once an abort was asked for (or the workflow was cancelled). */
  checkAbort(): void {
    if (this.abort) throw this.abort;
    if (CancellationScope.current().consideredCancelled) throw workflowCancelled();
  }

  /** What the `state` query answers. */
  view(): CheckoutState {
    const a = this.abort;
    return { ...this.state, stuckError: this.state.stuckReason, abort: a ? { kind: a.kind, code: a.code, by: a.by } : null };
  }
}
