/**
 * A local stand-in for api.razorpay.com (Orders, Payments, Refunds) and RazorpayX (Payouts), speaking
 * their documented shapes: entities with `id`/`entity`, amounts in paise, lists as
 * `{ entity: 'collection', count, items }`, errors as `{ error: { code, description, reason, source, step } }`
 * with 400/401/5xx. Tests point the real `razorpay` SDK at it (RAZORPAY_API_URL). The payment method
 * in the order's notes picks what the customer "does", like the sandbox's tokens:
 *   pm_ok            paid at once (authorised, then captured by Mandi's first poll)
 *   pm_declined      the payment fails (payment_declined)
 *   pm_flaky_N       the first N order creations with a receipt answer 502 SERVER_ERROR
 *   pm_slow          the first order creation hangs longer than the client's timeout (and is made)
 *   pm_refund_reject every refund answers 400 (more than captured)
 *   pm_refund_flaky_N each refund (by its X-Refund-Idempotency key) answers 502 for its first N calls
 *   pm_insufficient_funds the payment fails (error_reason insufficient_funds)
 *   pm_timeout       like pm_ok (this fake sends no webhooks: Mandi's polling finds every payment)
 * (the sandbox's tokens, infra/fake-payment-provider.ts, behave the same)
 * Recurring payments (the decoupled flow, test/workflows/mandate-debits.test.ts): customers, an
 * authorisation order (`token { max_amount, … }`) that the customer approves at once (an authorised
 * payment carrying `token_id`; the token `confirmed`), debit orders carrying `notification { token_id,
 * payment_after }` (the pre-debit notification, recorded with when it went out) and
 * POST /v1/payments/create/recurring, refused (400) before payment_after, on a token that is not
 * confirmed or above its max_amount, and at most one payment per order. The customer's email picks
 * what debits do, as in the sandbox (infra/fake-payment-provider.ts#mandateTokenPrefix).
 * Payout fund accounts: `fa_ok…` processed, `fa_reverse…` processed then reversed on the next read,
 * `fa_fail…` failed, `fa_pending…` processing on the first read then processed, `fa_pendfail…` processing
 * on the first read then failed, `fa_flaky…` made by the first call whose answer never arrives (it hangs
 * past the client's timeout), the second call answers 502 before reaching the bank, the third answers
 * the payout made by the first (the sandbox bank's `flaky`), `fa_hold…` processing
 * until the test calls `processPayout` (as the bank's answer that a payout.processed webhook announces).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { mandateDebitFails, mandateTokenPrefix } from '../../../infra/fake-payment-provider';

interface Order {
  id: string;
  entity: 'order';
  amount: number;
  currency: string;
  receipt: string;
  status: 'created' | 'attempted' | 'paid';
  notes: Record<string, string>;
  created_at: number;
  customer_id?: string;
  notification?: { token_id: string; payment_after: number } | null;
  /** When the pre-debit notification went out (ms), for a debit order. */
  notified_at_ms?: number;
}
interface Customer {
  id: string;
  entity: 'customer';
  name: string;
  email: string;
  contact: string;
}
interface Token {
  id: string;
  entity: 'token';
  method: 'upi';
  customer_id: string;
  max_amount: number;
  recurring: true;
  recurring_details: { status: string; failure_reason: string | null };
  debits: number;
}
interface Payment {
  id: string;
  entity: 'payment';
  amount: number;
  currency: string;
  status: 'authorized' | 'captured' | 'failed' | 'refunded';
  order_id: string;
  captured: boolean;
  amount_refunded: number;
  error_reason?: string | null;
  customer_id?: string | null;
  token_id?: string | null;
  recurring?: boolean;
  /** When a recurring payment was made (ms). */
  created_at_ms?: number;
}
interface Refund {
  id: string;
  entity: 'refund';
  amount: number;
  payment_id: string;
  status: 'processed';
  receipt: string | null;
}
interface Payout {
  id: string;
  entity: 'payout';
  fund_account_id: string;
  amount: number;
  currency: string;
  status: string;
  utr: string | null;
  reference_id: string | null;
  reads: number;
  status_details: { reason: string | null; description: string | null } | null;
}

const rid = (prefix: string) => `${prefix}_${randomBytes(7).toString('hex')}`;

export class RazorpayFake {
  readonly orders = new Map<string, Order>();
  readonly payments = new Map<string, Payment>();
  readonly refunds = new Map<string, Refund>();
  readonly refundKeys = new Map<string, string>();
  readonly payouts = new Map<string, Payout>();
  readonly payoutKeys = new Map<string, string>();
  readonly calls = new Map<string, number>();
  readonly customers = new Map<string, Customer>();
  readonly tokens = new Map<string, Token>();
  /** Recurring payments refused, with why (a debit before its window would show here). */
  readonly refusedDebits: Array<{ orderId: string; reason: string }> = [];
  /** Every request seen: method, path and the idempotency headers. */
  readonly log: Array<{ method: string; path: string; headers: Record<string, string | undefined> }> = [];
  private server: Server | null = null;
  url = '';
  /** How long a "slow" call hangs (above the client's timeout). */
  hangMs = 1_500;

  async start(): Promise<void> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((r) => this.server?.close(() => r()) ?? r());
  }

  /** What the fake's books say money did: captured minus refunded, and payouts processed and not reversed. */
  books(): { captured: number; refunded: number; paidOut: number } {
    let captured = 0;
    let refunded = 0;
    for (const p of this.payments.values()) if (p.captured) captured += p.amount;
    for (const r of this.refunds.values()) refunded += r.amount;
    let paidOut = 0;
    for (const p of this.payouts.values()) if (p.status === 'processed') paidOut += p.amount;
    return { captured, refunded, paidOut };
  }

  private count(key: string): number {
    const n = (this.calls.get(key) ?? 0) + 1;
    this.calls.set(key, n);
    return n;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const body = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
    const url = new URL(req.url ?? '/', 'http://fake');
    this.log.push({
      method: req.method ?? '',
      path: url.pathname,
      headers: { refund: req.headers['x-refund-idempotency'] as string, payout: req.headers['x-payout-idempotency'] as string },
    });
    const send = (status: number, json: unknown) => {
      if (res.destroyed) return;
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(json));
    };
    const error = (status: number, code: string, description: string, reason: string) =>
      send(status, { error: { code, description, source: 'business', step: 'payment_initiation', reason, metadata: {} } });
    if (!req.headers.authorization?.startsWith('Basic '))
      return error(401, 'BAD_REQUEST_ERROR', 'Authentication failed', 'authentication_failed');
    const path = url.pathname;
    let m: RegExpExecArray | null;

    if (req.method === 'POST' && path === '/v1/customers') {
      const email = String(body.email ?? '');
      const existing = [...this.customers.values()].find((c) => c.email === email && c.contact === String(body.contact ?? ''));
      if (existing) return send(200, existing);
      const customer: Customer = {
        id: rid('cust'),
        entity: 'customer',
        name: String(body.name ?? ''),
        email,
        contact: String(body.contact ?? ''),
      };
      this.customers.set(customer.id, customer);
      return send(200, customer);
    }
    if ((m = /^\/v1\/customers\/([^/]+)(?:\/tokens\/([^/]+))?$/.exec(path)) && req.method === 'GET') {
      const customer = this.customers.get(m[1]);
      if (!customer) return error(400, 'BAD_REQUEST_ERROR', 'The id provided does not exist', 'input_validation_failed');
      if (!m[2]) return send(200, customer);
      const token = this.tokens.get(m[2]);
      if (!token || token.customer_id !== customer.id)
        return error(400, 'BAD_REQUEST_ERROR', 'The id provided does not exist', 'input_validation_failed');
      return send(200, this.tokenView(token));
    }
    if (req.method === 'POST' && path === '/v1/payments/create/recurring') return this.recurringPayment(body, send, error);
    if (req.method === 'POST' && path === '/v1/orders' && (body.token || body.notification)) {
      const notes = (body.notes ?? {}) as Record<string, string>;
      const order: Order = {
        id: rid('order'),
        entity: 'order',
        amount: Number(body.amount),
        currency: 'INR',
        receipt: String(body.receipt),
        status: 'created',
        notes,
        created_at: Math.floor(Date.now() / 1000),
      };
      if (body.token) {
        const customer = this.customers.get(String(body.customer_id));
        if (!customer) return error(400, 'BAD_REQUEST_ERROR', 'customer_id is invalid', 'input_validation_failed');
        order.customer_id = customer.id;
        this.orders.set(order.id, order);
        // The customer approves the mandate on Checkout at once: the token and the authorisation payment.
        const token: Token = {
          id: `${mandateTokenPrefix(customer.email)}${randomBytes(6).toString('hex')}`,
          entity: 'token',
          method: 'upi',
          customer_id: customer.id,
          max_amount: Number((body.token as { max_amount: number }).max_amount),
          recurring: true,
          recurring_details: { status: 'confirmed', failure_reason: null },
          debits: 0,
        };
        this.tokens.set(token.id, token);
        const payment: Payment = {
          id: rid('pay'),
          entity: 'payment',
          amount: order.amount,
          currency: 'INR',
          order_id: order.id,
          status: 'authorized',
          captured: false,
          amount_refunded: 0,
          customer_id: customer.id,
          token_id: token.id,
        };
        this.payments.set(payment.id, payment);
        order.status = 'attempted';
        return send(200, order);
      }
      const n = body.notification as { token_id: string; payment_after?: number };
      const token = this.tokens.get(String(n.token_id));
      if (!token) return error(400, 'BAD_REQUEST_ERROR', 'The token id provided does not exist', 'input_validation_failed');
      if (token.recurring_details.status !== 'confirmed')
        return error(400, 'BAD_REQUEST_ERROR', `The token is ${token.recurring_details.status}`, 'token_not_active');
      if (order.amount > token.max_amount)
        return error(400, 'BAD_REQUEST_ERROR', 'Amount exceeds the max_amount of the token', 'input_validation_failed');
      const now = Date.now();
      order.notification = { token_id: token.id, payment_after: n.payment_after ?? Math.ceil((now + 25 * 3_600_000) / 1000) };
      order.notified_at_ms = now;
      this.orders.set(order.id, order);
      return send(200, order);
    }
    if (req.method === 'POST' && path === '/v1/orders') {
      const notes = (body.notes ?? {}) as Record<string, string>;
      const method = notes.mandi_payment_method ?? 'pm_ok';
      const receipt = String(body.receipt);
      const flaky = /^pm_flaky(?:_(\d+))?$/.exec(method);
      const n = this.count(`order:${receipt}`);
      if (flaky && n <= Number(flaky[1] ?? 2)) return error(502, 'SERVER_ERROR', 'The server encountered an error', 'server_error');
      const order: Order = {
        id: rid('order'),
        entity: 'order',
        amount: Number(body.amount),
        currency: 'INR',
        receipt,
        status: 'created',
        notes,
        created_at: Math.floor(Date.now() / 1000),
      };
      this.orders.set(order.id, order);
      this.customerPays(order, method);
      if (method === 'pm_slow' && n === 1) {
        // Made, but the answer never arrives before the client gives up: the retry must find it by receipt.
        await new Promise((r) => setTimeout(r, this.hangMs));
      }
      return send(200, order);
    }
    if (req.method === 'GET' && path === '/v1/orders') {
      const receipt = url.searchParams.get('receipt');
      const items = [...this.orders.values()].filter((o) => receipt === null || o.receipt === receipt);
      return send(200, { entity: 'collection', count: items.length, items });
    }
    if ((m = /^\/v1\/orders\/([^/]+)(\/payments)?$/.exec(path)) && req.method === 'GET') {
      const order = this.orders.get(m[1]);
      if (!order) return error(400, 'BAD_REQUEST_ERROR', 'The id provided does not exist', 'input_validation_failed');
      if (!m[2]) return send(200, order);
      const items = [...this.payments.values()].filter((p) => p.order_id === order.id);
      return send(200, { entity: 'collection', count: items.length, items });
    }
    if ((m = /^\/v1\/payments\/([^/]+)\/capture$/.exec(path)) && req.method === 'POST') {
      const p = this.payments.get(m[1]);
      if (!p) return error(400, 'BAD_REQUEST_ERROR', 'The id provided does not exist', 'input_validation_failed');
      if (p.status !== 'authorized')
        return error(400, 'BAD_REQUEST_ERROR', 'This payment has already been captured', 'input_validation_failed');
      Object.assign(p, { status: 'captured', captured: true });
      this.orders.get(p.order_id)!.status = 'paid';
      return send(200, p);
    }
    if ((m = /^\/v1\/payments\/([^/]+)\/refund$/.exec(path)) && req.method === 'POST') {
      const p = this.payments.get(m[1]);
      const key = req.headers['x-refund-idempotency'] as string | undefined;
      if (key && this.refundKeys.has(key)) return send(200, this.refunds.get(this.refundKeys.get(key)!));
      const amount = Number(body.amount ?? p?.amount);
      const method = p ? this.orders.get(p.order_id)?.notes.mandi_payment_method : undefined;
      const refundFlaky = /^pm_refund_flaky(?:_(\d+))?$/.exec(method ?? '');
      if (refundFlaky && this.count(`refund:${key}`) <= Number(refundFlaky[1] ?? 2)) {
        return error(502, 'SERVER_ERROR', 'The server encountered an error', 'server_error');
      }
      if (!p || !p.captured || method === 'pm_refund_reject' || p.amount_refunded + amount > p.amount) {
        return error(400, 'BAD_REQUEST_ERROR', 'The refund amount provided is greater than amount captured', 'input_validation_failed');
      }
      const refund: Refund = {
        id: rid('rfnd'),
        entity: 'refund',
        amount,
        payment_id: p.id,
        status: 'processed',
        receipt: (body.receipt as string) ?? null,
      };
      this.refunds.set(refund.id, refund);
      if (key) this.refundKeys.set(key, refund.id);
      p.amount_refunded += amount;
      return send(200, refund);
    }
    if (req.method === 'POST' && path === '/v1/payouts') {
      const key = req.headers['x-payout-idempotency'] as string | undefined;
      if (!key) return error(400, 'BAD_REQUEST_ERROR', 'X-Payout-Idempotency header is required', 'input_validation_failed');
      const fa = String(body.fund_account_id);
      const call = fa.startsWith('fa_flaky') ? this.count(`payout:${key}`) : 0;
      if (call === 2) return error(502, 'SERVER_ERROR', 'The server encountered an error', 'server_error');
      const existing = this.payoutKeys.get(key);
      if (existing) return send(200, this.view(this.payouts.get(existing)!));
      const status = fa.startsWith('fa_fail')
        ? 'failed'
        : fa.startsWith('fa_pending') || fa.startsWith('fa_pendfail') || fa.startsWith('fa_hold')
          ? 'processing'
          : 'processed';
      const payout: Payout = {
        id: rid('pout'),
        entity: 'payout',
        fund_account_id: fa,
        amount: Number(body.amount),
        currency: 'INR',
        status,
        utr: status === 'processed' ? `UTR${randomBytes(5).toString('hex').toUpperCase()}` : null,
        reference_id: (body.reference_id as string) ?? null,
        reads: 0,
        status_details:
          status === 'failed' ? { reason: 'beneficiary_bank_rejected', description: 'Beneficiary bank rejected the payout' } : null,
      };
      this.payouts.set(payout.id, payout);
      this.payoutKeys.set(key, payout.id);
      // Made, but the answer is lost: only a retry with the same key finds it.
      if (call === 1) await new Promise((r) => setTimeout(r, this.hangMs));
      return send(200, this.view(payout));
    }
    if ((m = /^\/v1\/payouts\/([^/]+)$/.exec(path)) && req.method === 'GET') {
      const p = this.payouts.get(m[1]);
      if (!p) return error(400, 'BAD_REQUEST_ERROR', 'The id provided does not exist', 'input_validation_failed');
      p.reads += 1;
      if (p.status === 'processing' && p.fund_account_id.startsWith('fa_hold')) {
        // held: stays processing until processPayout
      } else if (p.status === 'processing' && p.fund_account_id.startsWith('fa_pendfail')) {
        Object.assign(p, {
          status: 'failed',
          status_details: { reason: 'beneficiary_bank_rejected', description: 'Beneficiary bank rejected the payout' },
        });
      } else if (p.status === 'processing')
        Object.assign(p, { status: 'processed', utr: `UTR${randomBytes(5).toString('hex').toUpperCase()}` });
      else if (p.fund_account_id.startsWith('fa_reverse') && p.status === 'processed') p.status = 'reversed';
      return send(200, this.view(p));
    }
    return error(400, 'BAD_REQUEST_ERROR', `The requested URL was not found on the server: ${path}`, 'input_validation_failed');
  }

  /** The bank paid a held payout (`fa_hold…`): processed with a UTR from now on. */
  processPayout(id: string): void {
    const p = this.payouts.get(id);
    if (p) Object.assign(p, { status: 'processed', utr: `UTR${randomBytes(5).toString('hex').toUpperCase()}` });
  }

  private tokenView(t: Token) {
    const { debits: _debits, ...rest } = t;
    void _debits;
    return rest;
  }

  /** POST /v1/payments/create/recurring: one debit of a noticed order, no earlier than its payment_after. */
  private recurringPayment(
    body: Record<string, unknown>,
    send: (status: number, json: unknown) => void,
    error: (status: number, code: string, description: string, reason: string) => void,
  ): void {
    const order = this.orders.get(String(body.order_id));
    const refuse = (description: string, reason: string) => {
      this.refusedDebits.push({ orderId: String(body.order_id), reason });
      error(400, 'BAD_REQUEST_ERROR', description, reason);
    };
    if (!order?.notification) return refuse('The order has no pre-debit notification', 'input_validation_failed');
    const token = this.tokens.get(String(body.token));
    if (!token || token.id !== order.notification.token_id || token.customer_id !== body.customer_id) {
      return refuse('The token id provided does not exist', 'input_validation_failed');
    }
    if (Date.now() < order.notification.payment_after * 1000)
      return refuse('Debit attempted before payment_after of the pre-debit notification', 'pre_debit_window');
    if (token.recurring_details.status !== 'confirmed') return refuse(`The token is ${token.recurring_details.status}`, 'token_not_active');
    if (Number(body.amount) > token.max_amount) return refuse('Amount exceeds the max_amount of the token', 'max_amount_exceeded');
    if ([...this.payments.values()].some((p) => p.order_id === order.id))
      return refuse('A payment for this order is already in progress', 'input_validation_failed');
    const fails = mandateDebitFails(token.id, token.debits);
    token.debits += 1;
    const payment: Payment = {
      id: rid('pay'),
      entity: 'payment',
      amount: order.amount,
      currency: 'INR',
      order_id: order.id,
      status: fails ? 'failed' : 'captured',
      captured: !fails,
      amount_refunded: 0,
      error_reason: fails ? 'payment_failed' : null,
      customer_id: token.customer_id,
      token_id: token.id,
      recurring: true,
      created_at_ms: Date.now(),
    };
    this.payments.set(payment.id, payment);
    order.status = fails ? 'attempted' : 'paid';
    send(200, { razorpay_payment_id: payment.id, razorpay_order_id: order.id });
  }

  private view(p: Payout) {
    const { reads: _reads, ...rest } = p;
    void _reads;
    return rest;
  }

  /** What the customer does on Checkout for this order. */
  private customerPays(order: Order, method: string): void {
    const declined = method === 'pm_declined' || method === 'pm_insufficient_funds';
    const payment: Payment = {
      id: rid('pay'),
      entity: 'payment',
      amount: order.amount,
      currency: 'INR',
      order_id: order.id,
      status: declined ? 'failed' : 'authorized',
      captured: false,
      amount_refunded: 0,
      error_reason: declined ? (method === 'pm_insufficient_funds' ? 'insufficient_funds' : 'payment_declined') : null,
    };
    this.payments.set(payment.id, payment);
    order.status = 'attempted';
  }
}
