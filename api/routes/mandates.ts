/**
 * Recurring-debit mandates of a subscription (UPI Autopay, card and e-mandates):
 *   POST /v1/subscriptions/:id/mandate/authorisation  a provider customer and an authorisation order
 *        with the mandate's limit; the app opens the provider's Checkout on `orderId` (`recurring: 1`)
 *   POST /v1/subscriptions/:id/mandate                 after the customer approved it: the token is read
 *        from the provider, must be confirmed, is recorded, and becomes the subscription's payment
 *        method (`pm_mandate_…`), exactly as a payment-method update (a renewal in dunning is retried,
 *        with its own pre-debit notice).
 * The debits themselves are the subscription workflow's (workflows/subscription/mandate.ts).
 */
import { createHash } from 'node:crypto';
import { WorkflowNotFoundError } from '@temporalio/client';
import { z } from 'zod';
import { paymentMethodUpdate, subscriptionWorkflowId } from '../../contracts/subscription';
import { rejection } from '../../domain/rejection';
import { insertMandate, insertMandateAuthorisation, mandateAuthorisation } from '../../db/mandates';
import { loadSubscriptionRow } from '../../db/subscriptions';
import type { MandateRails } from '../../infra/payment-provider';
import { createMoneyRails } from '../../infra/providers';
import { assertOwnerOr } from '../auth';
import type { ApiDeps } from '../deps';
import { ApiError, notFound } from '../errors';
import type { ApiRouter, RouteContext } from '../router';

const IdParams = z.strictObject({ subscriptionId: z.string().regex(/^sub_[a-z0-9]{8,40}$/) });
const ProviderId = z.string().regex(/^[A-Za-z0-9_]{1,64}$/);
/** The most a mandate may allow per debit here (₹1,00,000; NPCI's ceiling for most categories without extra authentication is lower). */
const MAX_MANDATE_AMOUNT = 10_000_000;
const MANDATE_DAYS = 365 * 5;

const AuthorisationBody = z.strictObject({
  method: z.enum(['upi', 'card', 'emandate']).default('upi'),
  maxAmount: z.number().int().min(100).max(MAX_MANDATE_AMOUNT).describe('paise: the most one debit may take'),
  customer: z.strictObject({
    name: z.string().min(1).max(100),
    // A pattern rather than z.email(): the same shape, and one request generators can satisfy.
    email: z
      .string()
      .max(200)
      .regex(/^[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}\.[A-Za-z0-9.-]{2,190}$/),
    contact: z.string().regex(/^\+?[0-9]{10,15}$/),
  }),
});
const AttachBody = z.strictObject({ orderId: ProviderId.describe('the authorisation order the customer approved') });

const AuthorisationSchema = z
  .object({
    orderId: z.string(),
    providerCustomerId: z.string(),
    method: z.enum(['upi', 'card', 'emandate']),
    maxAmount: z.number().int(),
  })
  .meta({
    id: 'MandateAuthorisation',
    example: { orderId: 'order_Mx1a2b3c4d5e6f', providerCustomerId: 'cust_Mx1a2b3c4d5e6f', method: 'upi', maxAmount: 200_000 },
  });
const MandateSchema = z
  .object({
    mandateId: z.string().describe('the payment-method token the subscription now charges'),
    tokenId: z.string(),
    method: z.enum(['upi', 'card', 'emandate']),
    maxAmount: z.number().int(),
    status: z.enum(['active', 'paused', 'cancelled']),
    retried: z.boolean().describe('a renewal in dunning is retried through the mandate (after its pre-debit notice)'),
  })
  .meta({
    id: 'SubscriptionMandate',
    example: {
      mandateId: 'pm_mandate_3f9c2a1b7d6e5f40',
      tokenId: 'token_Mx1a2b3c4d5e6f',
      method: 'upi',
      maxAmount: 200_000,
      status: 'active',
      retried: false,
    },
  });

/** The configured provider's mandate calls (the API holds no provider of its own: made once per deps from the config). */
const railsOf = new WeakMap<ApiDeps, MandateRails | null>();
const mandateRails = (deps: ApiDeps): MandateRails => {
  if (!railsOf.has(deps)) {
    const publicUrl = deps.config.PUBLIC_URL ?? `http://127.0.0.1:${deps.config.PORT}`;
    railsOf.set(deps, createMoneyRails(deps.config, deps.db, publicUrl).payments.mandates ?? null);
  }
  const rails = railsOf.get(deps);
  if (!rails) throw new ApiError(409, 'mandates_unavailable', 'The configured payment provider takes no mandates');
  return rails;
};

async function ownedSubscription(ctx: RouteContext<unknown, unknown, { subscriptionId: string }>) {
  const row = await loadSubscriptionRow(ctx.deps.db, ctx.params.subscriptionId);
  if (!row) throw notFound('subscription');
  assertOwnerOr(ctx.principal, row.customer_id, 'subscription:manage:any');
  if (row.status === 'cancelled')
    throw rejection('conflict', 'subscription_cancelled', `The subscription is cancelled from ${row.cancelled_from}`);
  return row;
}

const hash = (s: string, n: number) => createHash('sha256').update(s).digest('hex').slice(0, n);

export function registerMandateRoutes(api: ApiRouter): void {
  api.route({
    method: 'post',
    path: '/v1/subscriptions/:subscriptionId/mandate/authorisation',
    summary: 'Start a mandate registration (UPI Autopay / card e-mandate): the order the customer approves on Checkout',
    tag: 'subscriptions',
    capability: ['subscription:manage', 'subscription:manage:any'],
    idempotent: 'optional',
    params: IdParams,
    body: AuthorisationBody,
    responses: {
      200: { description: 'The authorisation order to open Checkout on (`recurring: 1`)', schema: AuthorisationSchema },
      409: { description: 'The subscription is cancelled, or the provider takes no mandates (`mandates_unavailable`)' },
      422: { description: 'The limit is below what one renewal costs (`max_amount_below_renewal`)' },
    },
    handler: async (ctx) => {
      const row = await ownedSubscription(ctx);
      const rails = mandateRails(ctx.deps);
      const { method, maxAmount, customer } = ctx.body;
      if (maxAmount < Number(row.price_per_period)) {
        throw rejection('invalid', 'max_amount_below_renewal', `The limit must cover one renewal (${row.price_per_period} paise)`, {
          codes: ['max_amount_below_renewal'],
        });
      }
      // The same request makes the same authorisation (the provider order's receipt is this key).
      const key = `mandate-${row.id}:${hash(`${method}:${maxAmount}:${customer.email}:${customer.contact}`, 12)}`;
      const auth = await rails.createMandateAuthorisation({
        idempotencyKey: key,
        customer,
        method,
        maxAmount,
        expireAtMs: Date.now() + MANDATE_DAYS * 86_400_000,
        notes: { subscriptionId: row.id },
      });
      await insertMandateAuthorisation(ctx.deps.db, { ...auth, subscriptionId: row.id, method, maxAmount });
      await ctx.audit(
        'subscription.mandate_authorisation',
        { type: 'subscription', id: row.id },
        { orderId: auth.orderId, method, maxAmount },
      );
      return { status: 200, body: { orderId: auth.orderId, providerCustomerId: auth.providerCustomerId, method, maxAmount } };
    },
  });

  api.route({
    method: 'post',
    path: '/v1/subscriptions/:subscriptionId/mandate',
    summary: 'Attach the mandate the customer approved: its token becomes the payment method renewals debit',
    tag: 'subscriptions',
    capability: ['subscription:manage', 'subscription:manage:any'],
    idempotent: 'optional',
    params: IdParams,
    body: AttachBody,
    responses: {
      200: { description: 'Attached; renewals are debited through it, each after a pre-debit notice', schema: MandateSchema },
      404: { description: 'No authorisation with this order was started for the subscription' },
      409: {
        description:
          'Not approved yet or not confirmed by the bank (`mandate_not_confirmed`), paused or revoked since (`mandate_not_active`), the subscription is cancelled or no longer running, or the provider takes no mandates',
      },
    },
    handler: async (ctx) => {
      const row = await ownedSubscription(ctx);
      const rails = mandateRails(ctx.deps);
      const auth = await mandateAuthorisation(ctx.deps.db, row.id, ctx.body.orderId);
      if (!auth) throw notFound('mandate authorisation');
      const token = await rails.tokenOfAuthorisation(auth.orderId);
      if (!token || token.status !== 'confirmed' || token.providerCustomerId !== auth.providerCustomerId) {
        throw rejection('conflict', 'mandate_not_confirmed', `The mandate is ${token?.status ?? 'not approved yet'}`);
      }
      const mandate = await insertMandate(ctx.deps.db, {
        id: `pm_mandate_${hash(token.tokenId, 16)}`,
        subscriptionId: row.id,
        customerId: row.customer_id,
        providerCustomerId: token.providerCustomerId,
        tokenId: token.tokenId,
        method: auth.method,
        maxAmount: token.maxAmount,
        status: 'active',
      });
      // A token recorded before keeps its state: one the customer paused or revoked is not attached again.
      if (mandate.status !== 'active' || mandate.subscriptionId !== row.id) {
        throw rejection('conflict', 'mandate_not_active', `The mandate is ${mandate.status}; authorise a new one`);
      }
      try {
        const { retried } = await ctx.deps.temporal.workflow
          .getHandle(subscriptionWorkflowId(row.id))
          .executeUpdate(paymentMethodUpdate, { args: [{ paymentMethod: mandate.id, createdBy: `customer:${row.customer_id}` }] });
        await ctx.audit('subscription.mandate', { type: 'subscription', id: row.id }, { mandateId: mandate.id, tokenId: token.tokenId });
        const { id, tokenId, method, maxAmount, status } = mandate;
        return { status: 200, body: { mandateId: id, tokenId, method, maxAmount, status, retried } };
      } catch (err) {
        if (err instanceof WorkflowNotFoundError)
          throw rejection('conflict', 'subscription_not_running', 'The subscription is no longer running');
        throw err;
      }
    },
  });
}
