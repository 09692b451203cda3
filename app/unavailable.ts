/**
 * Errors that mean a service a request needs is away for a moment, not that something is wrong
 * with the request or with Mandi: Postgres refusing connections or restarting, the pool's wait for
 * a connection running out, Temporal's frontend unreachable. They answer 503 with Retry-After, so a
 * client retries (with the same Idempotency-Key) instead of treating the request as failed.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { isGrpcServiceError } from '@temporalio/client';

export type Dependency = 'database' | 'workflow engine' | 'network';

/** SQLSTATE class 08 (connection exception), too_many_connections, and the three shutdown codes. */
const PG_UNAVAILABLE = /^(08...|53300|57P0[123])$/;
/** gRPC's UNAVAILABLE (14) and DEADLINE_EXCEEDED (4). */
const GRPC_UNAVAILABLE = [14, 4];
/** A connection to anything (Postgres before it answers, Redis, a provider) refused, reset or timed out. */
const SOCKET_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE']);

/** The dependency that was unavailable, looking through an error and its causes; null for any other error. */
export function unavailableDependency(err: unknown): Dependency | null {
  let e = err as { name?: unknown; code?: unknown; severity?: unknown; cause?: unknown } | null | undefined;
  for (let depth = 0; e && depth < 5; depth++, e = e.cause as typeof e) {
    if (e.name === 'KnexTimeoutError') return 'database';
    // node-postgres errors carry the server's severity; a bare connection error (ECONNREFUSED) does not.
    if (typeof e.code === 'string' && PG_UNAVAILABLE.test(e.code) && e.severity !== undefined) return 'database';
    if (isGrpcServiceError(e) && GRPC_UNAVAILABLE.includes(e.code)) return 'workflow engine';
    if (typeof e.code === 'string' && SOCKET_ERRORS.has(e.code)) return 'network';
  }
  return null;
}

/**
 * Runs `attempt` until it gets through while the dependency it needs is away (at most `forMs`):
 * a process started while Postgres is full or restarting waits for it instead of exiting, so a
 * supervisor's restart does not meet the same wall in a loop. Any other error is thrown at once.
 */
export async function whenReachable<T>(
  what: string,
  attempt: () => Promise<T>,
  logger: { warn(obj: object, msg: string): void },
  forMs = 60_000,
): Promise<T> {
  const giveUpAt = Date.now() + forMs;
  for (let tries = 1; ; tries++) {
    try {
      return await attempt();
    } catch (err) {
      const away = unavailableDependency(err);
      if (!away || Date.now() >= giveUpAt) throw err;
      logger.warn({ dependency: away, tries, err: (err as Error).message }, `${what}: not reachable yet, trying again`);
      await sleep(Math.min(2_000, 100 * 2 ** tries));
    }
  }
}
