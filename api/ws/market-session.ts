/**
 * Cancel-on-disconnect for a WebSocket session, opt-in: a trader's app sends
 * `{op:"cancelOnDisconnect", timeoutSeconds: N}` and then `{op:"heartbeat"}` at least every N
 * seconds. When N seconds pass without one — the app crashed, the phone lost its network, the
 * socket closed — every live order of the user, in every open market, is queued for cancelling
 * (the engines release their holds). Closing the socket does not cancel at once: the heartbeat
 * timeout is the grace period, so a dropped socket cancels N seconds after its last heartbeat.
 * `{op:"cancelOnDisconnect", enabled:false}` turns it off.
 *
 * Session state lives with the socket on the API instance that serves it (a reconnect is a new
 * session, which opts in again); the cancel itself goes through Postgres and the engines, so it
 * holds whichever instance runs it. The gateway (api/ws/gateway.ts) hands this module the frames
 * it recognises (isMarketSessionFrame) and tells it when the socket closes.
 */
import { z } from 'zod';
import { can } from '../../domain/capabilities';
import type { Principal } from '../auth';
import type { ApiDeps } from '../deps';
import { cancelAllOrdersOf } from '../routes/markets';

/** The longest heartbeat timeout a session may ask for. */
export const MAX_HEARTBEAT_TIMEOUT_SECONDS = 60;

const SessionFrame = z.union([
  z.strictObject({
    op: z.literal('cancelOnDisconnect'),
    timeoutSeconds: z.number().int().min(1).max(MAX_HEARTBEAT_TIMEOUT_SECONDS),
  }),
  z.strictObject({ op: z.literal('cancelOnDisconnect'), enabled: z.literal(false) }),
  z.strictObject({ op: z.literal('heartbeat') }),
]);
const FIRE_ATTEMPTS = 5;
const SESSION_OPS = new Set(['cancelOnDisconnect', 'heartbeat']);
const BAD_FRAME =
  `expected {op:"cancelOnDisconnect", timeoutSeconds: 1..${MAX_HEARTBEAT_TIMEOUT_SECONDS}}, ` +
  '{op:"cancelOnDisconnect", enabled:false} or {op:"heartbeat"}';

/** True for the frames this module handles (the gateway passes them on instead of parsing them). */
export function isMarketSessionFrame(frame: unknown): boolean {
  return typeof frame === 'object' && frame !== null && SESSION_OPS.has((frame as { op?: unknown }).op as string);
}

type Deps = Pick<ApiDeps, 'db' | 'pubsub' | 'logger'>;

export class MarketSession {
  private armed: { userId: string; timeoutMs: number } | null = null;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(
    private readonly deps: Deps,
    private readonly send: (frame: Record<string, unknown>) => void,
  ) {}

  /** One frame from the client (isMarketSessionFrame was true), with whoever the socket is authenticated as. */
  async handle(principal: Principal | null, frame: unknown): Promise<void> {
    const parsed = SessionFrame.safeParse(frame);
    if (!parsed.success) return this.send({ type: 'error', code: 'bad_message', message: BAD_FRAME });
    const m = parsed.data;
    if (m.op === 'heartbeat') {
      if (!this.armed)
        return this.send({ type: 'error', code: 'not_armed', message: 'send {op:"cancelOnDisconnect", timeoutSeconds} first' });
      this.restartTimer();
      return this.send({ type: 'heartbeat', timeoutSeconds: this.armed.timeoutMs / 1000 });
    }
    if ('enabled' in m) {
      this.disarm();
      return this.send({ type: 'cancelOnDisconnect', enabled: false });
    }
    if (!principal || !can(principal.roles, 'market:trade'))
      return this.send({
        type: 'error',
        code: 'forbidden',
        message: 'cancel-on-disconnect needs a token with the market:trade capability',
      });
    this.armed = { userId: principal.userId, timeoutMs: m.timeoutSeconds * 1000 };
    this.restartTimer();
    this.send({ type: 'cancelOnDisconnect', enabled: true, timeoutSeconds: m.timeoutSeconds, userId: principal.userId });
  }

  /**
   * The socket closed: nothing more can arrive, so the timer set by the last heartbeat decides
   * (the grace period). Sends nothing.
   */
  close(): void {
    this.closed = true;
  }

  private disarm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.armed = null;
  }

  private restartTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    const armed = this.armed!;
    this.timer = setTimeout(() => void this.fire(armed.userId), armed.timeoutMs);
    // A pending cancel must not keep a shutting-down process alive; orders then stay as they are.
    this.timer.unref();
  }

  /** Cancels everything of the user; a failure (Postgres unreachable) is tried again a few times, a second apart. */
  private async fire(userId: string, attempt = 1): Promise<void> {
    this.timer = null;
    this.armed = null;
    try {
      const orders = await cancelAllOrdersOf(this.deps, userId);
      this.deps.logger.info({ userId, orders: orders.length }, 'cancel-on-disconnect: heartbeat timed out, orders cancelled');
      if (!this.closed) this.send({ type: 'cancelledOnDisconnect', reason: 'heartbeat_timeout', cancelRequested: orders.length, orders });
    } catch (err) {
      this.deps.logger.error({ err, userId, attempt }, 'cancel-on-disconnect failed');
      if (attempt < FIRE_ATTEMPTS) setTimeout(() => void this.fire(userId, attempt + 1), 1000).unref();
    }
  }
}
