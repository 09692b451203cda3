import { DateTime } from 'luxon';
import { dateKind, variantsOf, type Schema } from './openapi';

/**
 * A valid value for a schema, so that a case changes one field of an otherwise valid request and
 * the server's verdict is about that field. Operations need real ids and cross-field agreement on
 * top of this; the suite's seeds provide those (see seeds.ts).
 */
export function validValue(schema: Schema, name: string): unknown {
  const variant = variantsOf(schema)[0];
  if (variant.enum) return variant.enum[0];
  switch (variant.type) {
    case 'string':
      return validString(variant, name);
    case 'integer':
    case 'number':
      return validNumber(variant);
    case 'boolean':
      return true;
    case 'array':
      return Array.from({ length: Math.max(variant.minItems ?? 1, 1) }, () => validValue(variant.items ?? {}, name));
    case 'object':
    default:
      return validObject(variant);
  }
}

/** The object with its required properties only; optional ones are added by the case that changes them. */
export function validObject(schema: Schema): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of schema.required ?? []) out[name] = validValue(schema.properties?.[name] ?? {}, name);
  return out;
}

/**
 * `value` without the fields `schema` does not have (their paths go to `dropped`), so a hand-written
 * value that has fallen behind the document is still valid — and the drift gets reported.
 */
export function conform(value: unknown, schema: Schema, dropped: string[] = [], path = ''): unknown {
  const s = variantsOf(schema)[0];
  if (Array.isArray(value)) return s.items ? value.map((v, i) => conform(v, s.items!, dropped, `${path}.${i}`)) : value;
  if (value === null || typeof value !== 'object' || !s.properties) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (s.properties[k]) out[k] = conform(v, s.properties[k], dropped, path ? `${path}.${k}` : k);
    else dropped.push(path ? `${path}.${k}` : k);
  }
  return out;
}

function validNumber(s: Schema): number {
  let v = s.minimum === undefined ? 1 : s.exclusiveMinimum === true ? s.minimum + 1 : s.minimum;
  if (typeof s.exclusiveMinimum === 'number') v = Math.max(v, s.exclusiveMinimum + 1);
  if (s.multipleOf) v = Math.ceil(v / s.multipleOf) * s.multipleOf;
  if (s.maximum !== undefined && v > s.maximum) v = s.maximum;
  return v;
}

function validString(s: Schema, name: string): string {
  const kind = dateKind(name, s);
  if (kind === 'date') return futureDate(/^to$|end/i.test(name) ? 12 : 10);
  if (kind === 'date-time') return futureDateTime(/close|end|^to$/i.test(name) ? 48 : 24);
  if (s.pattern) {
    const fromPattern = stringMatching(s.pattern);
    if (fromPattern !== null) return fromPattern;
  }
  const min = s.minLength ?? 1;
  const text = 'fuzz'.padEnd(min, 'z');
  return s.maxLength !== undefined ? text.slice(0, s.maxLength) : text;
}

/** A local date (Asia/Kolkata, the default time zone) `days` from today: past every cutoff. */
export function futureDate(days: number): string {
  return DateTime.now().setZone('Asia/Kolkata').plus({ days }).toISODate()!;
}

export function futureDateTime(hours: number): string {
  return new Date(Date.now() + hours * 3_600_000).toISOString();
}

/**
 * A short string matching a simple anchored pattern (literals, escapes, character classes and
 * the quantifiers ? * + {m} {m,n}) — the shape of every id pattern in the API. Null for
 * anything richer, or if the result does not match after all.
 */
export function stringMatching(pattern: string): string | null {
  const body = pattern.replace(/^\^/, '').replace(/\$$/, '');
  let out = '';
  let i = 0;
  while (i < body.length) {
    let atom: string;
    const c = body[i];
    if (c === '[') {
      const end = body.indexOf(']', i + 2);
      if (end < 0) return null;
      atom = firstOfClass(body.slice(i + 1, end));
      i = end + 1;
    } else if (c === '\\') {
      atom = body[i + 1];
      i += 2;
    } else if ('()|.'.includes(c)) {
      return null;
    } else {
      atom = c;
      i += 1;
    }
    let count = 1;
    const q = body.slice(i).match(/^(\{(\d+)(?:,(\d*))?\}|\?|\*|\+)/);
    if (q) {
      i += q[0].length;
      if (q[0] === '?' || q[0] === '*') count = 0;
      else if (q[0] === '+') count = 1;
      // Ids of a few characters read better in findings than one-letter ones.
      else count = Math.max(Number(q[2]), Math.min(q[3] ? Number(q[3]) : Number(q[2]), 6));
    }
    out += atom.repeat(count);
  }
  return new RegExp(pattern).test(out) ? out : null;
}

function firstOfClass(cls: string): string {
  if (cls.startsWith('^')) return 'z'; // a negated class: any ordinary letter will do for the API's patterns
  return cls[0] === '\\' ? cls[1] : cls[0];
}
