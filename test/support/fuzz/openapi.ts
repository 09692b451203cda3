/** The part of an OpenAPI 3.0 document the fuzz suite reads: operations, their parameters and JSON bodies. */

export interface Schema {
  type?: 'string' | 'integer' | 'number' | 'boolean' | 'array' | 'object';
  enum?: unknown[];
  format?: string;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: boolean | number;
  exclusiveMaximum?: boolean | number;
  multipleOf?: number;
  nullable?: boolean;
  default?: unknown;
  items?: Schema;
  minItems?: number;
  maxItems?: number;
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: boolean | Schema;
  oneOf?: Schema[];
  anyOf?: Schema[];
  allOf?: Schema[];
}

export interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required?: boolean;
  schema: Schema;
}

export interface Operation {
  /** `POST /v1/markets/{marketId}/orders`: how cases and findings name the operation. */
  key: string;
  method: string;
  /** The OpenAPI path, with `{name}` placeholders. */
  path: string;
  /** The capabilities that reach it, or `public` (no token). */
  capabilities: string[] | 'public';
  pathParams: Parameter[];
  queryParams: Parameter[];
  body?: Schema;
  /** Takes an Idempotency-Key header. */
  idempotent: boolean;
}

export interface OpenApiDocument {
  paths: Record<string, Record<string, any>>;
  components?: { schemas?: Record<string, unknown> };
}

export function operationsOf(doc: OpenApiDocument): Operation[] {
  const ops: Operation[] = [];
  for (const [path, byMethod] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(byMethod)) {
      const params: Parameter[] = (op.parameters ?? []).map((p: Parameter) => ({ ...p, schema: normalize(p.schema ?? {}, doc) }));
      const body = op.requestBody?.content?.['application/json']?.schema;
      const capability = op['x-capability'];
      ops.push({
        key: `${method.toUpperCase()} ${path}`,
        method: method.toUpperCase(),
        path,
        // Routes mounted outside the API router (health probes) document no capability: they are open.
        capabilities: capability === 'public' || capability === undefined ? 'public' : [capability].flat(),
        pathParams: params.filter((p) => p.in === 'path'),
        queryParams: params.filter((p) => p.in === 'query'),
        body: body ? normalize(body, doc) : undefined,
        idempotent: params.some((p) => p.in === 'header' && p.name.toLowerCase() === 'idempotency-key'),
      });
    }
  }
  return ops;
}

/**
 * One dialect for the rest of the suite, whichever OpenAPI version the document is: `$ref`s
 * resolved, 3.1's `type: [T, 'null']` and `{type: 'null'}` variants turned into `nullable`,
 * `const` into a one-value `enum`.
 */
function normalize(raw: any, doc: OpenApiDocument, depth = 0): Schema {
  if (!raw || typeof raw !== 'object' || depth > 20) return {};
  if (typeof raw.$ref === 'string') {
    const name = raw.$ref.replace('#/components/schemas/', '');
    return normalize(doc.components?.schemas?.[name], doc, depth + 1);
  }
  const s: any = { ...raw };
  if (Array.isArray(s.type)) {
    const types = s.type.filter((t: string) => t !== 'null');
    if (types.length < s.type.length) s.nullable = true;
    if (types.length > 1) {
      s.anyOf = types.map((type: string) => ({ ...s, type, anyOf: undefined, nullable: undefined }));
      delete s.type;
    } else s.type = types[0];
  }
  if ('const' in s) s.enum = [s.const];
  for (const union of ['oneOf', 'anyOf', 'allOf'] as const) {
    if (!s[union]) continue;
    const variants = s[union].filter((v: any) => v?.type !== 'null');
    if (variants.length < s[union].length) s.nullable = true;
    s[union] = variants.map((v: any) => normalize(v, doc, depth + 1));
    if (variants.length === 1 && union !== 'allOf') {
      Object.assign(s, s[union][0], { nullable: s.nullable || s[union][0].nullable });
      delete s[union];
    }
  }
  if (s.properties) s.properties = Object.fromEntries(Object.entries(s.properties).map(([k, v]) => [k, normalize(v, doc, depth + 1)]));
  if (s.items) s.items = normalize(s.items, doc, depth + 1);
  if (s.additionalProperties && typeof s.additionalProperties === 'object')
    s.additionalProperties = normalize(s.additionalProperties, doc, depth + 1);
  return s as Schema;
}

/** The variants of a union schema, or the schema itself. */
export function variantsOf(schema: Schema): Schema[] {
  if (schema.oneOf) return schema.oneOf;
  if (schema.anyOf) return schema.anyOf;
  if (schema.allOf) return [Object.assign({}, ...schema.allOf)];
  return [schema];
}

/** The JSON types a schema accepts (a union accepts each variant's). */
export function typesOf(schema: Schema): Set<string> {
  const types = new Set<string>();
  for (const v of variantsOf(schema)) {
    if (v.type) types.add(v.type === 'integer' ? 'number' : v.type);
    else if (v.enum) for (const e of v.enum) types.add(typeof e);
  }
  if (schema.nullable) types.add('null');
  return types;
}

/** Dates are documented only by their names (`startDate`, `from`, `to`, `date`) or by a date format. */
export function dateKind(name: string, schema: Schema): 'date' | 'date-time' | null {
  if (schema.type !== 'string' || schema.enum) return null;
  if (schema.format === 'date-time') return 'date-time';
  if (schema.format === 'date' || /^(date|from|to)$|Date$/.test(name)) return 'date';
  return null;
}
