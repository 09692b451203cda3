import type { Pool } from 'undici';

/** One bid as the bench saw it through: accepted after `attempts` tries, or given up. */
export interface BidOutcome {
  accepted: boolean;
  /** The lot's version right after the accepted bid (what watchers must see). */
  version: number;
  /** performance.now() when its 2xx was read. */
  acceptedAt: number;
  /** The accepted request's round trip, ms. */
  roundTripMs: number;
  attempts: number;
}

export interface BidTally {
  accepted: number;
  /** Refusals by error code (bid_too_low races are expected under contention), and transport failures as `status_<n>`/`network`. */
  rejected: Record<string, number>;
}

export const rejectedCount = (t: BidTally) => Object.values(t.rejected).reduce((s, n) => s + n, 0);

/**
 * A funded bidder on one lot. It bids the lot's next minimum as it last saw it — from its own last
 * answer: the lot's `nextMinimum` after an accepted bid, `details.nextMinimum` after a bid_too_low
 * — plus a random jump of 0 to `jumpSteps` − 1 increments, and on bid_too_low tries again from the
 * new minimum. Bidders in a duel outbid each other by different amounts; if all of them bid the
 * very same minimum, at most one bid per round trip can be accepted whatever the server does.
 */
export class LotBidder {
  private nextMinimum: number;
  private seq = 0;

  constructor(
    private readonly pool: Pool,
    private readonly path: string,
    private readonly token: string,
    private readonly tag: string,
    startingPrice: number,
    private readonly tally: BidTally,
    private readonly jumpSteps = 1,
    private readonly increment = 100,
  ) {
    this.nextMinimum = startingPrice;
  }

  /** The lot's next minimum as this bidder last saw it. */
  get lastSeenMinimum(): number {
    return this.nextMinimum;
  }

  /** Tells the bidder the lot's current minimum (as if it had just looked at the lot). */
  sees(nextMinimum: number): void {
    this.nextMinimum = nextMinimum;
  }

  /** One request: accepted, too low (try again with the minimum it named), or refused otherwise. */
  async bidOnce(attempts = 1): Promise<BidOutcome | 'too_low' | 'refused'> {
    const sentAt = performance.now();
    let status: number;
    let body: any;
    try {
      const res = await this.pool.request({
        path: this.path,
        method: 'POST',
        headers: { authorization: `Bearer ${this.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          amount: this.nextMinimum + this.increment * Math.floor(Math.random() * this.jumpSteps),
          clientBidId: `${this.tag}-${this.seq++}`,
        }),
      });
      status = res.statusCode;
      body = await res.body.json();
    } catch {
      this.count('network');
      return 'refused';
    }
    const at = performance.now();
    if (status === 201) {
      this.tally.accepted++;
      if (body.lot.nextMinimum !== null) this.nextMinimum = body.lot.nextMinimum;
      return { accepted: true, version: body.lot.version, acceptedAt: at, roundTripMs: at - sentAt, attempts };
    }
    const code: string = body?.error?.code ?? `status_${status}`;
    this.count(code);
    const seen = body?.error?.details?.nextMinimum;
    if (typeof seen === 'number') this.nextMinimum = seen;
    return code === 'bid_too_low' ? 'too_low' : 'refused';
  }

  private count(code: string): void {
    this.tally.rejected[code] = (this.tally.rejected[code] ?? 0) + 1;
  }

  /**
   * Bids until one is accepted, retrying with the minimum each bid_too_low names, at most
   * `maxAttempts` times; any other refusal (e.g. not_above_own_max: it already leads) ends the try.
   */
  async bidUntilAccepted(maxAttempts = 20): Promise<BidOutcome> {
    for (let attempts = 1; attempts <= maxAttempts; attempts++) {
      const r = await this.bidOnce(attempts);
      if (typeof r === 'object') return r;
      if (r === 'refused') return { accepted: false, version: -1, acceptedAt: NaN, roundTripMs: NaN, attempts };
    }
    return { accepted: false, version: -1, acceptedAt: NaN, roundTripMs: NaN, attempts: maxAttempts };
  }
}
