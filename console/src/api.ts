/**
 * The console talks to the same REST API as every other client, through the typed client
 * generated from its OpenAPI document (clients/ts): same origin, the staff member's bearer token,
 * and a fresh Idempotency-Key for every click that changes something.
 */
import { createMandiClient, idempotencyKey, type components } from '../../clients/ts';
import { currentToken } from './session';

export type Schemas = components['schemas'];

export const mandi = createMandiClient({ baseUrl: window.location.origin, token: () => currentToken() ?? undefined });

/** An answer that is not a 2xx, with the API's error code for the page to show. */
export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** The data of a typed-client answer, or an ApiFailure carrying the API's error code. */
export async function unwrap<T>(call: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  const { data, error, response } = await call;
  if (response.ok && data !== undefined) return data;
  const body = (error ?? {}) as { error?: { code?: string; message?: string } };
  const code = body.error?.code ?? `http_${response.status}`;
  const message =
    response.status === 403
      ? 'Forbidden: this needs a staff role (support or admin).'
      : response.status === 401
        ? 'Not signed in, or the session expired: sign in again.'
        : (body.error?.message ?? response.statusText);
  throw new ApiFailure(response.status, code, message);
}

export { idempotencyKey };
