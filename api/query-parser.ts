/**
 * Express's 'simple' query parser (node:querystring) turns a badly percent-encoded value such as
 * `%ED%A0%80` (an encoded lone surrogate) into U+FFFD and carries on, so `?userId=fuzz%ED%A0%80`
 * would be read as some other user id. This one decodes strictly: a malformed value throws a
 * URIError, which the error boundary answers as 400 `malformed_url` — as it does for path
 * parameters. Same shape as 'simple': a repeated key becomes an array.
 */
export function parseQueryStrictly(query: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = Object.create(null);
  if (!query) return out;
  for (const pair of query.split('&')) {
    if (!pair) continue;
    const eq = pair.indexOf('=');
    const key = decode(eq === -1 ? pair : pair.slice(0, eq));
    const value = eq === -1 ? '' : decode(pair.slice(eq + 1));
    const existing = out[key];
    out[key] = existing === undefined ? value : Array.isArray(existing) ? [...existing, value] : [existing, value];
  }
  return out;
}

function decode(component: string): string {
  return decodeURIComponent(component.replace(/\+/g, ' '));
}
