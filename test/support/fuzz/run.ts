import http, { type IncomingHttpHeaders } from 'node:http';
import type { FuzzCase } from './cases';

export interface Outcome {
  c: FuzzCase;
  /** null: no HTTP answer at all (see `error`). */
  status: number | null;
  headers: IncomingHttpHeaders;
  text: string;
  body: any;
  error?: string;
  problem: string | null;
}

const TIMEOUT_MS = 15_000;

/**
 * Sends every case with at most `concurrency` in flight, on raw HTTP so that paths, headers and
 * body bytes go out exactly as built (fetch would normalise the URL and re-encode text).
 */
export async function runCases(
  baseUrl: string,
  cases: FuzzCase[],
  headersFor: (c: FuzzCase) => Record<string, string>,
  concurrency: number,
  judge: (o: Omit<Outcome, 'problem'>) => string | null = problemOf,
): Promise<Outcome[]> {
  const url = new URL(baseUrl);
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const outcomes: Outcome[] = new Array(cases.length);
  let next = 0;
  const lane = async () => {
    while (next < cases.length) {
      const i = next++;
      const outcome = await send(url, agent, cases[i], headersFor(cases[i]));
      outcomes[i] = { ...outcome, problem: judge(outcome) };
    }
  };
  try {
    await Promise.all(Array.from({ length: concurrency }, lane));
  } finally {
    agent.destroy();
  }
  return outcomes;
}

function send(url: URL, agent: http.Agent, c: FuzzCase, extra: Record<string, string>): Promise<Omit<Outcome, 'problem'>> {
  return new Promise((resolve) => {
    let settled = false;
    const done = (o: Omit<Outcome, 'problem' | 'c'>) => {
      if (settled) return;
      settled = true;
      resolve({ c, ...o });
    };
    const headers: Record<string, string | number> = { ...c.headers, ...extra };
    if (c.body) headers['content-length'] = c.body.length;
    const req = http.request({
      hostname: url.hostname === 'localhost' ? '127.0.0.1' : url.hostname,
      port: url.port,
      method: c.op.method,
      path: c.url,
      headers,
      agent,
    });
    req.setTimeout(TIMEOUT_MS, () => req.destroy(new Error(`no answer within ${TIMEOUT_MS} ms`)));
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown = undefined;
        try {
          body = text ? JSON.parse(text) : undefined;
        } catch {
          // judged below: not JSON
        }
        done({ status: res.statusCode ?? null, headers: res.headers, text, body });
      });
      res.on('error', (err) =>
        done({ status: res.statusCode ?? null, headers: res.headers, text: '', body: undefined, error: err.message }),
      );
    });
    // A server that answers early (a too-large URL) may reset the socket while we still write:
    // that is only a failure if no answer came.
    req.on('error', (err) =>
      done({ status: null, headers: {}, text: '', body: undefined, error: (err as NodeJS.ErrnoException).code ?? err.message }),
    );
    req.end(c.body);
  });
}

/** Why an answer is wrong for a bad request, or null when it is a proper JSON 4xx. */
export function problemOf(o: Omit<Outcome, 'problem'>): string | null {
  if (o.status === null) return `no answer (${o.error})`;
  if (o.status >= 500) return `${o.status}`;
  if (o.status < 400) return `accepted (${o.status})`;
  // With the tokens and keys the suite sends these mean the value was never judged.
  if (o.status === 401 || o.status === 403) return 'refused before the value was judged (auth)';
  if (o.status === 429) return 'refused before the value was judged (rate limit)';
  if (!String(o.headers['content-type'] ?? '').startsWith('application/json') || !isErrorBody(o.body))
    return 'not a JSON {error:{code,message,details}} body';
  if (o.c.requestIdSent && o.headers['x-request-id'] === o.c.requestIdSent) return 'echoed the oversize X-Request-Id';
  return null;
}

/**
 * Why the valid request an operation's cases start from was not accepted, or null. A business
 * refusal (404 for an id of nothing, 409/422 for the fixture's state) still shows that the
 * request passed validation; a 400 or an auth refusal means its cases proved nothing.
 */
export function controlProblemOf(o: Omit<Outcome, 'problem'>): string | null {
  if (o.status === null) return `no answer (${o.error})`;
  if (o.status < 400) return null;
  const business =
    o.status === 409 ||
    o.status === 422 ||
    (o.status === 404 && o.body?.error?.code !== 'route_not_found') ||
    CREDENTIAL_REFUSALS.has(o.body?.error?.code);
  if (!business) return `valid request refused (${o.status})`;
  // A refusal is still an error answer, held to the same shape.
  return isErrorBody(o.body) ? null : 'business refusal without a JSON {error:{code,message,details}} body';
}

/**
 * The login steps' valid requests carry a one-time secret (a code sent by SMS, a refresh token, a
 * login session) that a request built from the document cannot hold; their control shows that
 * validation passed when the handler refuses the secret itself.
 */
const CREDENTIAL_REFUSALS = new Set(['invalid_code', 'invalid_refresh_token', 'no_session']);

function isErrorBody(body: any): boolean {
  const e = body?.error;
  const details = e?.details;
  return (
    typeof e?.code === 'string' &&
    typeof e?.message === 'string' &&
    details !== null &&
    typeof details === 'object' &&
    !Array.isArray(details)
  );
}

/** One line per case: what was sent and what came back. */
export function describeOutcome(o: Outcome): string {
  const answer = o.status === null ? `no answer (${o.error})` : `${o.status} ${answerSummary(o)}`;
  return `#${o.c.n} ${o.c.op.key} ${o.c.target} «${o.c.label}» → ${answer}`;
}

function answerSummary(o: Outcome): string {
  const e = o.body?.error;
  if (e && typeof e === 'object') {
    const details =
      e.details === undefined
        ? 'details missing'
        : Array.isArray(e.details)
          ? 'details is an array'
          : e.details === null
            ? 'details null'
            : '';
    return [e.code, String(e.message ?? '').slice(0, 80), details].filter(Boolean).join(': ');
  }
  return JSON.stringify(o.body ?? o.text).slice(0, 100);
}
