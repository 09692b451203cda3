import { dateKind, typesOf, variantsOf, type Schema } from './openapi';
import { validValue } from './examples';

/** A number written into the JSON text as-is: 9007199254740993 has no exact JavaScript number. */
export class RawJson {
  constructor(readonly text: string) {}
}

export interface BadValue {
  label: string;
  value: unknown;
}

/** Text for a URL (query value or path segment), already percent-encoded. */
export interface BadText {
  label: string;
  raw: string;
}

const HUNDRED_KB = 'x'.repeat(100_000);
const FAR_DATES = ['9999-12-31', '0000-01-01', '2026-02-30'];

/** Appended to a valid value, so the character is the only thing wrong with it. */
const BAD_CHARACTERS: Array<[string, string, string]> = [
  // label, as a JavaScript string, as percent-encoded UTF-8
  ['NUL', '\u0000', '%00'],
  ['U+0001', '\u0001', '%01'],
  ['ESC', '\u001b', '%1B'],
  ['DEL', '\u007f', '%7F'],
  // In a URL the lone surrogate can only travel as its (invalid) three UTF-8-style bytes.
  ['lone surrogate', '\ud800', '%ED%A0%80'],
];

/** The bad values for one body field: bad text, far dates, bad numbers, wrong JSON types. */
export function badBodyValues(schema: Schema, name: string, base: unknown): BadValue[] {
  const variants = variantsOf(schema);
  const text = variants.find((v) => v.type === 'string' || typeof v.enum?.[0] === 'string');
  const num = variants.find((v) => v.type === 'integer' || v.type === 'number');
  const out: BadValue[] = [];
  if (text) {
    const b = typeof base === 'string' ? base : String(validValue(text, name));
    for (const [label, ch] of BAD_CHARACTERS) out.push({ label, value: b + ch });
    out.push({ label: '100 kB string', value: HUNDRED_KB });
    out.push(...farDates(name, text).map((d) => ({ label: `date ${d}`, value: d })));
  }
  if (num) {
    const b = typeof base === 'number' ? base : (validValue(num, name) as number);
    for (const n of badNumbers(num, b)) out.push({ label: n.label, value: n.json === undefined ? n.value : new RawJson(n.json) });
  }
  const accepts = typesOf(schema);
  const wrong: Array<[string, string, unknown]> = [
    ['array', 'array', [base]],
    ['object', 'object', { fuzz: base }],
    ['null', 'null', null],
    ['boolean', 'boolean', true],
    ['string', 'string', 'fuzz'],
  ];
  for (const [label, type, value] of wrong) {
    // Numbers already get "NaN" as a string; a string for text is no wrong type.
    if (accepts.has(type) || (type === 'string' && (text || num))) continue;
    out.push({ label: `wrong type: ${label}`, value });
  }
  return out;
}

/** Bad values for a query parameter, as URL text. Arrays (a repeated key) are the caller's. */
export function badQueryValues(schema: Schema, name: string, base: string): BadText[] {
  const out: BadText[] = [];
  const enc = encodeURIComponent(base);
  const num = variantsOf(schema).find((v) => v.type === 'integer' || v.type === 'number');
  if (num) {
    for (const n of badNumbers(num, Number(base))) out.push({ label: n.label, raw: encodeURIComponent(n.json ?? String(n.value)) });
  }
  for (const [label, , pct] of BAD_CHARACTERS) out.push({ label, raw: enc + pct });
  out.push({ label: '100 kB string', raw: HUNDRED_KB });
  out.push(...farDates(name, schema).map((d) => ({ label: `date ${d}`, raw: encodeURIComponent(d) })));
  return out;
}

/** Bad values for a path parameter: broken percent-encoding and bad text. */
export function badPathValues(base: string): BadText[] {
  const enc = encodeURIComponent(base);
  return [
    { label: "bad percent-encoding '%'", raw: `${enc}%` },
    { label: "bad percent-encoding '%zz'", raw: `${enc}%zz` },
    ...BAD_CHARACTERS.map(([label, , pct]) => ({ label, raw: enc + pct })),
    { label: '100 kB string', raw: HUNDRED_KB },
  ];
}

function farDates(name: string, schema: Schema): string[] {
  const kind = dateKind(name, schema);
  if (kind === 'date') return FAR_DATES;
  if (kind === 'date-time') return ['9999-12-31T23:59:59Z', '0000-01-01T00:00:00Z', '2026-02-30T00:00:00Z'];
  return [];
}

interface BadNumber {
  label: string;
  value: unknown;
  /** Set when the number must be written as this exact JSON text. */
  json?: string;
}

/** Out of range or not an integer, for this field: a negative that its minimum allows is not bad. */
function badNumbers(s: Schema, base: number): BadNumber[] {
  const min = s.minimum ?? (typeof s.exclusiveMinimum === 'number' ? s.exclusiveMinimum : undefined);
  const below = min === undefined || min >= 0 ? -1 : min - 1;
  const out: BadNumber[] = [
    { label: '1e20', value: 1e20 },
    { label: 'MAX_SAFE_INTEGER+2', value: Number.MAX_SAFE_INTEGER + 2, json: '9007199254740993' },
    { label: `negative (${below})`, value: below },
  ];
  if (s.type === 'integer') out.push({ label: `fractional (${base + 0.5})`, value: base + 0.5 });
  out.push({ label: "'NaN' as string", value: 'NaN' });
  return out;
}

/** JSON text with RawJson numbers written verbatim. */
export function toJson(value: unknown): string {
  const raws: string[] = [];
  const text = JSON.stringify(value, (_key, v) => (v instanceof RawJson ? `@@raw:${raws.push(v.text) - 1}@@` : v));
  return text.replace(/"@@raw:(\d+)@@"/g, (_m, i: string) => raws[Number(i)]);
}
