import type { Queryable } from './knex';

export interface FlowAlert {
  workflowId: string;
  flowType: string;
  step: string;
  reason: string;
  code: string | null;
}

export interface FlowAlertRow extends FlowAlert {
  id: number;
  raisedAt: Date;
  resolvedAt: Date | null;
  resolution: string | null;
}

/** retried / abandoned by support, decided by the flow itself (a cancel, a void), or the workflow was cancelled. */
export type FlowAlertResolution = 'retried' | 'abandoned' | 'decided' | 'cancelled';

/**
 * The alert row must never be the next thing that fails: whatever text the failure carried is
 * stored without control characters (NUL above all) or lone surrogates, and bounded.
 */
function storable(text: string, max: number): string {
  const clean = String(text)
    .replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ')
    .replace(/[\ud800-\udfff]/g, '\ufffd');
  return clean.length > max ? `${clean.slice(0, max - 1)}…` : clean;
}

/** Opens the alert for a parked step; false when it is already open (a repeat of the same park). */
export async function raiseFlowAlert(q: Queryable, a: FlowAlert): Promise<boolean> {
  const { rows } = await q.raw(
    `INSERT INTO flow_alerts (workflow_id, flow_type, step, reason, code) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (workflow_id, step) WHERE resolved_at IS NULL DO NOTHING RETURNING id`,
    [
      storable(a.workflowId, 200),
      storable(a.flowType, 40),
      storable(a.step, 100),
      storable(a.reason, 1000),
      a.code === null ? null : storable(a.code, 40),
    ],
  );
  return rows.length > 0;
}

/** Closes the open alert of a step (no-op when there is none, e.g. a repeat). */
export async function resolveFlowAlert(q: Queryable, workflowId: string, step: string, resolution: FlowAlertResolution): Promise<number> {
  return q('flow_alerts')
    .where({ workflow_id: storable(workflowId, 200), step: storable(step, 100) })
    .whereNull('resolved_at')
    .update({ resolved_at: q.fn.now(), resolution });
}

interface FlowAlertDbRow {
  id: number | string;
  workflow_id: string;
  flow_type: string;
  step: string;
  reason: string;
  code: string | null;
  raised_at: Date;
  resolved_at: Date | null;
  resolution: string | null;
}

/** Newest first; `open` = only the flows still parked. */
export async function listFlowAlerts(q: Queryable, opts: { open: boolean; limit: number; workflowId?: string }): Promise<FlowAlertRow[]> {
  const rows: FlowAlertDbRow[] = await q('flow_alerts')
    .modify((b) => {
      if (opts.open) b.whereNull('resolved_at');
      if (opts.workflowId) b.where({ workflow_id: opts.workflowId });
    })
    .orderBy([
      { column: 'raised_at', order: 'desc' },
      { column: 'id', order: 'desc' },
    ])
    .limit(opts.limit)
    .select('*');
  return rows.map((r) => ({
    id: Number(r.id),
    workflowId: r.workflow_id,
    flowType: r.flow_type,
    step: r.step,
    reason: r.reason,
    code: r.code,
    raisedAt: new Date(r.raised_at),
    resolvedAt: r.resolved_at ? new Date(r.resolved_at) : null,
    resolution: r.resolution,
  }));
}

// --- market alerts (raised by the market flow, listed with the flow alerts for ops) -----------

export interface MarketAlertRow {
  id: number;
  kind: string;
  message: string;
  raisedAt: Date;
  marketId: string;
  marketStatus: string;
  question: string;
}

interface MarketAlertDbRow {
  id: number;
  kind: string;
  message: string;
  created_at: Date;
  market_id: string;
  market_status: string;
  question: string;
}

/** Newest first; `open` = only markets still closed without a result. */
export async function listMarketAlerts(q: Queryable, opts: { open: boolean; limit: number }): Promise<MarketAlertRow[]> {
  const rows: MarketAlertDbRow[] = await q('market_alerts as a')
    .join('markets as m', 'm.id', 'a.market_id')
    .modify((b) => {
      if (opts.open) b.where('m.status', 'closed');
    })
    .orderBy('a.id', 'desc')
    .limit(opts.limit)
    .select('a.id', 'a.kind', 'a.message', 'a.created_at', 'a.market_id', 'm.status as market_status', 'm.question');
  return rows.map((r) => ({
    id: r.id,
    kind: r.kind,
    message: r.message,
    raisedAt: new Date(r.created_at),
    marketId: r.market_id,
    marketStatus: r.market_status,
    question: r.question,
  }));
}
