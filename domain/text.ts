/**
 * The one rule for text that enters Mandi — API bodies, query strings, path parameters,
 * WebSocket frames and the signal/update inputs the API forwards. Postgres rejects NUL inside
 * `text` (22P05 / 22021) and stores a lone surrogate as garbage, so anything like that must be
 * refused at the edge with a 4xx, before it can reach an activity that would retry it forever.
 *
 * Pure (no I/O) so workflows can apply it to signals that come from the CLI too.
 */

/** No string anywhere in a request may be longer than this; fields set tighter bounds of their own. */
export const MAX_TEXT_LENGTH = 4096;

/** C0 controls except TAB and LF, DEL, and the C1 controls. */

const FORBIDDEN_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;
/** A high surrogate not followed by a low one, or a low one not preceded by a high one. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

export type TextProblem = 'control_character' | 'lone_surrogate' | 'too_long';

export interface TextViolation {
  /** Where in the value, e.g. `body.lines.0.note`. */
  path: string;
  problem: TextProblem;
}

export function textProblem(s: string, maxLength = MAX_TEXT_LENGTH): TextProblem | null {
  if (s.length > maxLength) return 'too_long';
  if (FORBIDDEN_CONTROL.test(s)) return 'control_character';
  if (LONE_SURROGATE.test(s)) return 'lone_surrogate';
  return null;
}

/**
 * The first string (or object key) in a JSON-like value that breaks the rule, or null.
 * Depth-first, so the path names the innermost offender.
 */
export function findTextViolation(value: unknown, path = ''): TextViolation | null {
  if (typeof value === 'string') {
    const problem = textProblem(value);
    return problem ? { path, problem } : null;
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findTextViolation(value[i], path ? `${path}.${i}` : String(i));
      if (found) return found;
    }
    return null;
  }
  if (value && typeof value === 'object') {
    for (const [key, inner] of Object.entries(value)) {
      const keyPath = path ? `${path}.${key}` : key;
      const keyProblem = textProblem(key, 256);
      if (keyProblem) return { path: keyPath, problem: keyProblem };
      const found = findTextViolation(inner, keyPath);
      if (found) return found;
    }
  }
  return null;
}

const PROBLEM_MESSAGES: Record<TextProblem, string> = {
  control_character: 'contains a control character (only tab and newline are allowed)',
  lone_surrogate: 'is not valid Unicode (a lone surrogate)',
  too_long: `is longer than ${MAX_TEXT_LENGTH} characters`,
};

export function describeTextViolation(v: TextViolation): string {
  return `${v.path || 'the value'} ${PROBLEM_MESSAGES[v.problem]}`;
}
