import { z } from 'zod';
import type { ApiRouter } from '../router';

const AlertsQuery = z.strictObject({
  open: z.enum(['true', 'false']).default('true').describe('true: only alerts whose market still awaits its result'),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

/** What operations must act on, newest first (the same markets show FlowStatus resolution_overdue in the Temporal UI). */
export function registerOpsRoutes(api: ApiRouter): void {
  api.route({
    method: 'get',
    path: '/v1/ops/alerts',
    summary: 'Operational alerts, e.g. a market closed too long without a result (support, admin)',
    tag: 'ops',
    capability: 'ops:read',
    query: AlertsQuery,
    responses: { 200: { description: 'Alerts, newest first' } },
    handler: async ({ query, deps }) => {
      const rows = await deps
        .db('market_alerts as a')
        .join('markets as m', 'm.id', 'a.market_id')
        .modify((q) => {
          if (query.open === 'true') q.where('m.status', 'closed');
        })
        .orderBy('a.id', 'desc')
        .limit(query.limit)
        .select('a.id', 'a.kind', 'a.message', 'a.created_at', 'a.market_id', 'm.status as market_status', 'm.question');
      const alerts = rows.map((r: Record<string, any>) => ({
        alertId: r.id,
        kind: r.kind,
        message: r.message,
        raisedAt: new Date(r.created_at).toISOString(),
        market: { marketId: r.market_id, question: r.question, status: r.market_status },
      }));
      return { status: 200, body: { alerts } };
    },
  });
}
