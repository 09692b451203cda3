import { randomUUID } from 'node:crypto';
import { countFakePayoutCall, fakePayoutById, fakePayoutByKey, insertFakePayout, type FakePayoutRow } from '../db/fake-providers';
import type { Db } from '../db/knex';
import { PayoutProviderUnavailableError, type CreatePayoutRequest, type PayoutProvider, type ProviderPayout } from './payout-provider';

/**
 * A sandbox bank whose books live in `fake_provider.payouts`, so every process sees the same payouts.
 * The seller's bank account reference picks the behaviour (`<behaviour>` or `<behaviour>:<anything>`):
 *   ok                  paid at once
 *   fails               rejected at once (account_closed)
 *   flaky               the first call ACCEPTS the payout and then times out (the ambiguous case), the
 *                       second times out before reaching the bank, the third answers: paid. Only a
 *                       caller that reuses the idempotency key pays exactly once.
 *   pending-then-ok     accepted as pending; paid after `settleDelayMs`
 *   pending-then-fails  accepted as pending; rejected after `settleDelayMs` (beneficiary_bank_rejected)
 * Any other reference is rejected as an invalid account.
 */
export interface FakePayoutProviderOptions {
  settleDelayMs?: number;
}

type Behaviour = 'ok' | 'fails' | 'flaky' | 'pending-then-ok' | 'pending-then-fails' | 'invalid';

export function payoutBehaviour(bankAccount: string): Behaviour {
  const m = /^(ok|fails|flaky|pending-then-ok|pending-then-fails)(?::.*)?$/.exec(bankAccount);
  return m ? (m[1] as Behaviour) : 'invalid';
}

export class FakePayoutProvider implements PayoutProvider {
  private readonly settleDelayMs: number;

  constructor(
    private readonly db: Db,
    options: FakePayoutProviderOptions = {},
  ) {
    this.settleDelayMs = options.settleDelayMs ?? 500;
  }

  async createPayout(req: CreatePayoutRequest): Promise<ProviderPayout> {
    if (!Number.isSafeInteger(req.amount) || req.amount <= 0) throw new RangeError('payout amount must be positive paise');
    const behaviour = payoutBehaviour(req.bankAccount);
    const calls = behaviour === 'flaky' ? await this.countCall(req.idempotencyKey) : 0;
    if (behaviour === 'flaky' && calls === 2) throw new PayoutProviderUnavailableError('bank gateway timeout (request never arrived)');

    const [status, delay, failure] = ((): [string, number, string | null] => {
      switch (behaviour) {
        case 'ok':
        case 'flaky':
          return ['succeeded', 0, null];
        case 'fails':
          return ['failed', 0, 'account_closed'];
        case 'pending-then-ok':
          return ['succeeded', this.settleDelayMs, null];
        case 'pending-then-fails':
          return ['failed', this.settleDelayMs, 'beneficiary_bank_rejected'];
        default:
          return ['failed', 0, 'invalid_account'];
      }
    })();
    const id = `bpo_${randomUUID().replace(/-/g, '').slice(0, 20)}`;
    await insertFakePayout(this.db, {
      id,
      idempotencyKey: req.idempotencyKey,
      amount: req.amount,
      bankAccount: req.bankAccount,
      status: failure ? `failed:${failure}` : status,
      delayMs: delay,
    });
    if (behaviour === 'flaky' && calls === 1) throw new PayoutProviderUnavailableError('bank gateway timeout (after accepting)');
    const row = await fakePayoutByKey(this.db, req.idempotencyKey);
    if (!row) throw new PayoutProviderUnavailableError(`payout with key ${req.idempotencyKey} not found`);
    return this.view(row);
  }

  async getPayout(payoutId: string): Promise<ProviderPayout> {
    const row = await fakePayoutById(this.db, payoutId);
    if (!row) throw new PayoutProviderUnavailableError(`payout ${payoutId} not found`);
    return this.view(row);
  }

  private async countCall(key: string): Promise<number> {
    return countFakePayoutCall(this.db, key);
  }

  private view(row: FakePayoutRow): ProviderPayout {
    const settled = new Date(row.settles_at).getTime() <= Date.now();
    if (!settled) return { id: row.id, status: 'pending', amount: row.amount, bankAccount: row.bank_account };
    if (row.status.startsWith('failed')) {
      return {
        id: row.id,
        status: 'failed',
        amount: row.amount,
        bankAccount: row.bank_account,
        failureCode: row.status.split(':')[1] ?? 'failed',
      };
    }
    return { id: row.id, status: 'succeeded', amount: row.amount, bankAccount: row.bank_account };
  }
}
