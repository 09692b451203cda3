/**
 * Pages are addressed by the URL's hash (`#/customer?userId=usr_…`) so that links between pages
 * (a reconciliation row to its customer or seller) and the browser's back button work, and the API
 * needs only one SPA fallback. Four pages do not warrant a router dependency.
 */
export interface Route {
  page: 'reconciliation' | 'customer' | 'seller' | 'markets';
  params: URLSearchParams;
}

const PAGES: readonly Route['page'][] = ['reconciliation', 'customer', 'seller', 'markets'];

export function parseRoute(hash: string): Route {
  const [path, query = ''] = hash.replace(/^#\/?/, '').split('?');
  const page = (PAGES as readonly string[]).includes(path) ? (path as Route['page']) : 'reconciliation';
  return { page, params: new URLSearchParams(query) };
}

export function href(page: Route['page'], params: Record<string, string> = {}): string {
  const q = new URLSearchParams(params).toString();
  return `#/${page}${q ? `?${q}` : ''}`;
}
