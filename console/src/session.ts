/**
 * The signed-in staff member's access token, kept for this browser tab only (sessionStorage): a
 * closed tab signs out, and no token outlives the session it came from.
 */
import { useSyncExternalStore } from 'react';

const KEY = 'mandi.console.token';
const listeners = new Set<() => void>();

export function currentToken(): string | null {
  return sessionStorage.getItem(KEY);
}

export function setToken(token: string | null): void {
  if (token) sessionStorage.setItem(KEY, token);
  else sessionStorage.removeItem(KEY);
  for (const l of listeners) l();
}

export function useToken(): string | null {
  return useSyncExternalStore((l) => {
    listeners.add(l);
    return () => listeners.delete(l);
  }, currentToken);
}

/** Who the token says it is, for display only: the API decides what the token may do. */
export function tokenClaims(token: string): { sub?: string; roles?: string[]; exp?: number } {
  try {
    const payload = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    return JSON.parse(atob(payload));
  } catch {
    return {};
  }
}
