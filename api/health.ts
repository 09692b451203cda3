import type { RequestHandler, Router } from 'express';
import { pingDatabase } from '../db/health';
import type { ApiDeps } from './deps';
import { ApiError } from './errors';

const CHECK_TIMEOUT_MS = 2000;

function withTimeout<T>(promise: Promise<T>): Promise<T> {
  return Promise.race([promise, new Promise<T>((_, reject) => setTimeout(() => reject(new Error('timed out')), CHECK_TIMEOUT_MS).unref())]);
}

/** Like every other route, the probes take no parameters they do not know (they know none). */
const noQuery: RequestHandler = (req, _res, next) => {
  const names = Object.keys(req.query);
  next(
    names.length ? new ApiError(400, 'validation_failed', `Unknown query parameter: ${names.join(', ')}`, { unknown: names }) : undefined,
  );
};

/** /healthz: the process is alive. /readyz: Temporal, Postgres and Redis answer; 503 names what is down. */
export function mountHealth(router: Router, deps: ApiDeps): void {
  router.get('/healthz', noQuery, (_req, res) => {
    res.json({ status: 'ok' });
  });

  router.get('/readyz', noQuery, async (_req, res) => {
    const checks: Record<string, () => Promise<unknown>> = {
      postgres: () => pingDatabase(deps.db),
      temporal: () => deps.temporal.connection.workflowService.getSystemInfo({}),
      redis: () => deps.pubsub.ping(),
    };
    const results = await Promise.all(
      Object.entries(checks).map(async ([name, check]) => {
        try {
          await withTimeout(check());
          return [name, 'up'] as const;
        } catch {
          return [name, 'down'] as const;
        }
      }),
    );
    const down = results.filter(([, s]) => s === 'down').map(([n]) => n);
    const body = { status: down.length ? 'unavailable' : 'ready', checks: Object.fromEntries(results) };
    if (down.length) {
      res.status(503).json({ ...body, error: { code: 'not_ready', message: `Not ready: ${down.join(', ')} down`, details: { down } } });
    } else {
      res.json(body);
    }
  });
}
