import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { buildOpenApiDocument } from '../../api/api-documents';
import { loadConfig } from '../../app/config';

export interface ContractAnswer {
  status: number;
  body: unknown;
  headers: Headers;
}

/**
 * Holds an answer of the API to its OpenAPI document: the operation the request path matches,
 * a status that operation documents, a JSON body its schema accepts. Returns what is wrong, or
 * null; requests to paths the document does not describe (the documents themselves, /metrics,
 * a route that does not exist) are not its business and give null too.
 */
export function contractChecker(doc: any = buildOpenApiDocument(loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent' }))) {
  const ajv = addFormats(new Ajv2020({ allErrors: true, strict: false }));
  const validators = new Map<string, ValidateFunction>();
  const templates = Object.entries<any>(doc.paths).map(([template, ops]) => ({
    template,
    ops,
    pattern: new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`),
  }));

  /** The document's operation for a concrete request path: the template whose pattern matches. */
  function operationFor(method: string, path: string): { template: string; op: any } | null {
    const bare = path.split('?')[0];
    const hit = templates.find((t) => t.pattern.test(bare) && t.ops[method.toLowerCase()]);
    return hit ? { template: hit.template, op: hit.ops[method.toLowerCase()] } : null;
  }

  /** A response schema with its `#/components/…` references inlined, compiled once. */
  function validatorFor(key: string, schema: unknown): ValidateFunction {
    const inline = (s: any): any => {
      if (Array.isArray(s)) return s.map(inline);
      if (!s || typeof s !== 'object') return s;
      if (typeof s.$ref === 'string')
        return inline(
          s.$ref
            .split('/')
            .slice(1)
            .reduce((o: any, k: string) => o[k], doc),
        );
      return Object.fromEntries(Object.entries(s).map(([k, v]) => [k, inline(v)]));
    };
    if (!validators.has(key)) validators.set(key, ajv.compile(inline(schema)));
    return validators.get(key)!;
  }

  return {
    operationFor,
    problem(method: string, path: string, res: ContractAnswer): string | null {
      const found = operationFor(method, path);
      if (!found) return null;
      const where = `${method} ${path} → ${res.status} ${JSON.stringify(res.body)}`;
      const documented = found.op.responses[res.status];
      if (!documented) return `${where}: status not documented by ${found.op.operationId}`;
      if (res.status === 204) return res.body === undefined || res.body === null || res.body === '' ? null : `${where}: a 204 has a body`;
      if (!/^application\/json/.test(res.headers.get('content-type') ?? '')) return `${where}: not JSON`;
      const validate = validatorFor(`${method} ${found.template} ${res.status}`, documented.content['application/json'].schema);
      return validate(res.body) ? null : `${where}: ${ajv.errorsText(validate.errors)}`;
    },
  };
}
