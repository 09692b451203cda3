import { validValue } from './examples';
import { variantsOf, type Operation, type Schema } from './openapi';
import { badBodyValues, badPathValues, badQueryValues, toJson } from './values';

/** What a case sends, before the runner adds the caller's token and a fresh Idempotency-Key. */
export interface FuzzCase {
  n: number;
  op: Operation;
  /** What was made bad: `body.lines.0.quantity`, `query.limit`, `path.orderId`, `header.content-encoding`… */
  target: string;
  label: string;
  /** Path and query, percent-encoded as sent. */
  url: string;
  headers: Record<string, string>;
  body?: Buffer;
  /** The response must not echo this oversize X-Request-Id. */
  requestIdSent?: string;
}

/** A valid request for an operation: real ids in the path, a body the server would accept. */
export interface BaseRequest {
  params: Record<string, string>;
  query: Record<string, string>;
  body?: Record<string, unknown>;
}

/** Seeds write `FZN` where each case needs an id of its own (a seller to register, a product to list). */
const CASE_NUMBER = /FZN/g;

type Path = Array<string | number>;

interface Site {
  path: Path;
  /** How findings name the field, with the union variant it belongs to. */
  name: string;
  schema: Schema;
  base: Record<string, unknown>;
}

/** Every case for one operation, numbered from `first`. */
export function casesFor(op: Operation, base: BaseRequest, first: number): FuzzCase[] {
  const cases: FuzzCase[] = [];
  const seen = new Set<string>();
  const add = (
    c: Omit<FuzzCase, 'n' | 'op' | 'url' | 'body'> & {
      params?: Record<string, string>;
      query?: Array<[string, string]>;
      body?: unknown;
      rawBody?: Buffer;
    },
  ) => {
    const key = `${c.target} ${c.label}`;
    if (seen.has(key)) return;
    seen.add(key);
    const n = first + cases.length;
    const url = buildUrl(op, { ...encodeAll(base.params), ...c.params }, c.query ?? encodeQuery(base.query)).replace(
      CASE_NUMBER,
      String(n),
    );
    // latin1 round trip: replaces the marker without touching the deliberately broken bytes.
    const body = c.rawBody
      ? Buffer.from(c.rawBody.toString('latin1').replace(CASE_NUMBER, String(n)), 'latin1')
      : c.body === undefined
        ? undefined
        : Buffer.from(toJson(c.body).replace(CASE_NUMBER, String(n)));
    const headers = { ...(body ? { 'content-type': 'application/json' } : {}), ...c.headers };
    cases.push({ n, op, target: c.target, label: c.label, url, headers, body, requestIdSent: c.requestIdSent });
  };
  const hasBody = op.method !== 'GET';
  const validBody = hasBody ? (base.body ?? {}) : undefined;

  for (const p of op.pathParams) {
    for (const bad of badPathValues(base.params[p.name])) {
      add({ target: `path.${p.name}`, label: bad.label, headers: {}, params: { [p.name]: bad.raw }, body: validBody });
    }
  }
  for (const p of op.queryParams) {
    const current = base.query[p.name] ?? String(validValue(p.schema, p.name));
    const others = encodeQuery(base.query).filter(([k]) => k !== p.name);
    for (const bad of badQueryValues(p.schema, p.name, current)) {
      add({ target: `query.${p.name}`, label: bad.label, headers: {}, query: [...others, [p.name, bad.raw]], body: validBody });
    }
    const enc = encodeURIComponent(current);
    add({
      target: `query.${p.name}`,
      label: 'wrong type: array (repeated key)',
      headers: {},
      query: [...others, [p.name, enc], [p.name, enc]],
      body: validBody,
    });
  }
  add({
    target: 'query',
    label: 'unknown parameter',
    headers: {},
    query: [...encodeQuery(base.query), ['fuzzUnknown', '1']],
    body: validBody,
  });

  if (op.body && validBody) {
    for (const site of bodySites(op.body, [], validBody, 'body')) {
      const current = getIn(site.base, site.path);
      const leaf = site.path[site.path.length - 1];
      for (const bad of badBodyValues(site.schema, String(leaf), current)) {
        add({ target: site.name, label: bad.label, headers: {}, body: setIn(site.base, site.path, bad.value) });
      }
    }
    for (const obj of objectSites(op.body, [], validBody, 'body')) {
      add({ target: obj.name, label: 'unknown field', headers: {}, body: setIn(obj.base, [...obj.path, 'fuzzUnknown'], 1) });
    }
  } else if (hasBody) {
    add({ target: 'body', label: 'unknown field', headers: {}, body: { fuzzUnknown: 1 } });
  }

  if (validBody) {
    const plain = Buffer.from(toJson(validBody));
    for (const encoding of ['gzip', 'br', 'deflate']) {
      add({
        target: 'header.content-encoding',
        label: `${encoding} on a plain body`,
        headers: { 'content-encoding': encoding },
        rawBody: plain,
      });
    }
    add({ target: 'header.content-type', label: 'text/plain', headers: { 'content-type': 'text/plain' }, rawBody: plain });
    add({ target: 'body', label: 'not UTF-8', headers: {}, rawBody: notUtf8(op.body, validBody) });
    add({ target: 'body', label: 'oversize (200 kB)', headers: {}, body: { ...validBody, fuzzPad: 'x'.repeat(200_000) } });
  }

  // Each also carries an unknown parameter, so it is a bad request whatever the server makes of
  // the URL's length or of the request id (which it may rightly ignore and replace).
  add({
    target: 'url',
    label: '20 kB URL',
    headers: {},
    query: [...encodeQuery(base.query), ['fuzzPad', 'x'.repeat(20_000)]],
    body: validBody,
  });
  const longId = 'r'.repeat(6_000);
  add({
    target: 'header.x-request-id',
    label: '6,000-char X-Request-Id',
    headers: { 'x-request-id': longId },
    requestIdSent: longId,
    query: [...encodeQuery(base.query), ['fuzzUnknown', '1']],
    body: validBody,
  });
  return cases;
}

/** The valid request itself, sent after the run to show that the cases' bases were accepted. */
export function controlCase(op: Operation, base: BaseRequest, n: number): FuzzCase {
  const url = buildUrl(op, encodeAll(base.params), encodeQuery(base.query)).replace(CASE_NUMBER, String(n));
  const body = op.method === 'GET' ? undefined : Buffer.from(toJson(base.body ?? {}).replace(CASE_NUMBER, String(n)));
  return { n, op, target: 'control', label: 'valid request', url, headers: body ? { 'content-type': 'application/json' } : {}, body };
}

function buildUrl(op: Operation, params: Record<string, string>, query: Array<[string, string]>): string {
  const path = op.path.replace(/\{([^}]+)\}/g, (_m, name: string) => params[name] ?? 'missing');
  return query.length ? `${path}?${query.map(([k, v]) => `${k}=${v}`).join('&')}` : path;
}

const encodeAll = (values: Record<string, string>) =>
  Object.fromEntries(Object.entries(values).map(([k, v]) => [k, encodeURIComponent(v)]));
const encodeQuery = (values: Record<string, string>): Array<[string, string]> =>
  Object.entries(values).map(([k, v]) => [k, encodeURIComponent(v)]);

/** The fields to spoil, each with a valid body that contains it (optional fields added), depth-first. */
function bodySites(schema: Schema, path: Path, base: Record<string, unknown>, name: string): Site[] {
  const sites: Site[] = [];
  const variants = variantsOf(schema);
  variants.forEach((variant, i) => {
    const b = variants.length > 1 && path.length ? setIn(base, path, validValue(variant, String(path[path.length - 1]))) : base;
    const here = variants.length > 1 ? `${name}[${variantTag(variant, i)}]` : name;
    if (variant.type === 'array' && variant.items) {
      const itemPath = [...path, 0];
      const withItem = getIn(b, itemPath) === undefined ? setIn(b, itemPath, validValue(variant.items, String(path[path.length - 1]))) : b;
      sites.push({ path: itemPath, name: `${here}.0`, schema: variant.items, base: withItem });
      sites.push(...bodySites(variant.items, itemPath, withItem, `${here}.0`));
    }
    const props = { ...variant.properties };
    // A record (string → string) gets one entry to spoil.
    if (typeof variant.additionalProperties === 'object' && Object.keys(variant.additionalProperties).length > 0)
      props.fuzzKey = variant.additionalProperties;
    for (const [prop, propSchema] of Object.entries(props)) {
      const propPath = [...path, prop];
      const withProp = getIn(b, propPath) === undefined ? setIn(b, propPath, validValue(propSchema, prop)) : b;
      sites.push({ path: propPath, name: `${here}.${prop}`, schema: propSchema, base: withProp });
      sites.push(...bodySites(propSchema, propPath, withProp, `${here}.${prop}`));
    }
  });
  return sites;
}

/**
 * The strict objects in a body (`additionalProperties: false` in the document), each with a valid
 * body reaching it, for the unknown-field case. An object documented as open — the provider
 * webhook, whose sender may add fields — is not one.
 */
function objectSites(schema: Schema, path: Path, base: Record<string, unknown>, name: string): Site[] {
  const sites: Site[] = [];
  const variants = variantsOf(schema);
  variants.forEach((variant, i) => {
    const b = variants.length > 1 && path.length ? setIn(base, path, validValue(variant, String(path[path.length - 1]))) : base;
    const here = variants.length > 1 ? `${name}[${variantTag(variant, i)}]` : name;
    if (variant.properties && variant.additionalProperties === false) sites.push({ path, name: here, schema: variant, base: b });
    if (variant.type === 'array' && variant.items) {
      const itemPath = [...path, 0];
      const withItem = getIn(b, itemPath) === undefined ? setIn(b, itemPath, validValue(variant.items, 'item')) : b;
      sites.push(...objectSites(variant.items, itemPath, withItem, `${here}.0`));
    }
    for (const [prop, propSchema] of Object.entries(variant.properties ?? {})) {
      const propPath = [...path, prop];
      const withProp = getIn(b, propPath) === undefined ? setIn(b, propPath, validValue(propSchema, prop)) : b;
      sites.push(...objectSites(propSchema, propPath, withProp, `${here}.${prop}`));
    }
  });
  return sites;
}

/** A union variant is named by its discriminator's value when it has one (`kind: 'daily'`). */
function variantTag(variant: Schema, i: number): string {
  for (const p of Object.values(variant.properties ?? {})) if (p.enum?.length === 1) return String(p.enum[0]);
  return variant.type ?? `#${i}`;
}

/**
 * The valid body with bytes that are not UTF-8 inside a free-text field (where a decoder that
 * substitutes U+FFFD would let them through), or in front of the body when it has no text.
 */
function notUtf8(schema: Schema | undefined, body: Record<string, unknown>): Buffer {
  const BAD = Buffer.from([0xff, 0xfe, 0xc3, 0x28]);
  const sites = schema ? bodySites(schema, [], body, 'body') : [];
  const text =
    sites.find((s) => s.schema.type === 'string' && !s.schema.pattern && !s.schema.enum && !s.schema.format) ??
    sites.find((s) => s.schema.type === 'string');
  if (!text) return Buffer.concat([BAD, Buffer.from(toJson(body))]);
  const [before, after] = toJson(setIn(text.base, text.path, 'fuzz@@bytes@@')).split('@@bytes@@');
  return Buffer.concat([Buffer.from(before), BAD, Buffer.from(after)]);
}

function getIn(value: unknown, path: Path): unknown {
  return path.reduce<unknown>(
    (v, k) => (v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[k as string] : undefined),
    value,
  );
}

/** A copy of `root` with `value` at `path` (objects and arrays created on the way). */
function setIn<T>(root: T, path: Path, value: unknown): T {
  if (path.length === 0) return value as T;
  const [head, ...rest] = path;
  const copy: any = Array.isArray(root) ? [...root] : { ...(root as object) };
  const child = copy[head] ?? (typeof rest[0] === 'number' ? [] : {});
  copy[head] = setIn(child, rest, value);
  return copy;
}
