import type { Middleware } from 'openapi-fetch';
import { createMandiClient, type MandiClient, type operations } from '../../clients/ts';
import type { TestResponse } from './api';
import type { ContractAnswer, contractChecker } from './contract';

export type ContractChecker = ReturnType<typeof contractChecker>;

/** The JSON body an operation takes, as the document declares it: `RequestBody<'placeMarketOrder'>`. */
export type RequestBody<Op extends keyof operations> =
  NonNullable<operations[Op]['requestBody']> extends {
    content: { 'application/json': infer Body };
  }
    ? Body
    : never;

/** An answer's body as a test reads it: parsed when it is JSON, the text otherwise (e.g. /metrics), null when empty. */
export function parseBody(text: string): unknown {
  try {
    return text ? JSON.parse(text) : null;
  } catch {
    return text;
  }
}

/** Fails the request, naming what is wrong, when the answer breaks the OpenAPI document. */
export function expectHeldToContract(contract: ContractChecker, method: string, path: string, answer: ContractAnswer): void {
  const problem = contract.problem(method, path, answer);
  if (problem) throw new Error(`The answer breaks the API contract: ${problem}`);
}

/** Holds every answer the typed client receives to the document, as `api.request` does for raw calls. */
export function contractMiddleware(contract: ContractChecker): Middleware {
  return {
    async onResponse({ request, response }) {
      const { pathname, search } = new URL(request.url);
      const body = parseBody(await response.clone().text());
      expectHeldToContract(contract, request.method, `${pathname}${search}`, { status: response.status, body, headers: response.headers });
    },
  };
}

/** The generated client (clients/ts) acting with `token`, every answer held to the document. */
export function contractClient(options: {
  baseUrl: string;
  contract: ContractChecker;
  token?: string;
  headers?: Record<string, string>;
}): MandiClient {
  const client = createMandiClient({ baseUrl: options.baseUrl, token: options.token, headers: options.headers });
  client.use(contractMiddleware(options.contract));
  return client;
}

/**
 * What a test asserts on: the status, the body (the data or the error, typed loosely so that the
 * response schemas can grow without breaking the tests that read them) and the headers. The
 * request itself stays typed by the client.
 *
 *   const res = await answer(mandi.GET('/v1/orders/{orderId}', { params: { path: { orderId } } }));
 */
export async function answer(call: Promise<{ data?: unknown; error?: unknown; response: Response }>): Promise<TestResponse> {
  const { data, error, response } = await call;
  return { status: response.status, body: data ?? error ?? null, headers: response.headers };
}
