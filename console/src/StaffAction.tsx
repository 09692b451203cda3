/**
 * Every staff action goes through this button: it asks for a reason (and any fields the action
 * needs), sends the request once with a fresh Idempotency-Key for this click — so a double
 * submit or two agents on the same item cannot cause two effects — and the reason as
 * X-Staff-Reason, which the API writes to the action's audit row, and shows what the API said.
 */
import { useState, type ReactNode } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { ApiFailure, idempotencyKey } from './api';

export interface ActionField {
  name: string;
  label: string;
  options?: string[];
  placeholder?: string;
  /** Asked only when this holds for the values chosen so far (and then required). */
  when?(values: Record<string, string>): boolean;
}

/** The headers of one click: its Idempotency-Key, and the reason for the audit log (percent-encoded: headers carry Latin-1 only). */
export interface ActionHeaders {
  'Idempotency-Key': string;
  'X-Staff-Reason': string;
}

export function actionHeaders(idempotencyKey: string, reason: string): ActionHeaders {
  return { 'Idempotency-Key': idempotencyKey, 'X-Staff-Reason': encodeURIComponent(reason) };
}

export interface StaffActionProps {
  label: string;
  /** Shown above the reason: what the action will do. */
  confirm: ReactNode;
  fields?: ActionField[];
  danger?: boolean;
  /** Sends the request (with `headers`); returns a line describing the result. */
  run(input: { reason: string; values: Record<string, string>; idempotencyKey: string; headers: ActionHeaders }): Promise<string>;
  testId?: string;
  /** Also told the result (the page may outlive this button: a resolved row disappears). */
  onResult?(text: string, ok: boolean): void;
}

export function StaffAction({ label, confirm, fields = [], danger, run, testId, onResult }: StaffActionProps) {
  const [open, setOpen] = useState(false);
  const [reason, setReason] = useState('');
  const [values, setValues] = useState<Record<string, string>>({});
  const [result, setResult] = useState<{ ok: boolean; text: string } | null>(null);
  const queries = useQueryClient();
  const mutation = useMutation({
    mutationFn: (key: string) => {
      const asked = Object.fromEntries(Object.entries(values).filter(([name]) => shown.some((f) => f.name === name)));
      return run({ reason: reason.trim(), values: asked, idempotencyKey: key, headers: actionHeaders(key, reason.trim()) });
    },
    onSuccess: (text) => {
      setResult({ ok: true, text });
      setOpen(false);
      onResult?.(text, true);
      void queries.invalidateQueries();
    },
    onError: (err) => setResult({ ok: false, text: err instanceof ApiFailure ? `${err.code}: ${err.message}` : String(err) }),
  });
  const shown = fields.filter((f) => f.when?.(values) ?? true);
  const ready = reason.trim().length >= 3 && shown.every((f) => (values[f.name] ?? '').trim() !== '');

  return (
    <span className="action">
      <button
        type="button"
        className={danger ? 'danger' : undefined}
        data-testid={testId}
        onClick={() => {
          setOpen(true);
          setResult(null);
          setReason('');
        }}
      >
        {label}
      </button>
      {open && (
        <div className="dialog-backdrop">
          <form
            className="dialog"
            role="dialog"
            aria-label={label}
            onSubmit={(e) => {
              e.preventDefault();
              // One key per click: a retry of this same request is a new click, and a new key.
              if (ready && !mutation.isPending) mutation.mutate(idempotencyKey());
            }}
          >
            <h3>{label}</h3>
            <div className="confirm">{confirm}</div>
            {shown.map((f) => (
              <label key={f.name}>
                {f.label}
                {f.options ? (
                  <select name={f.name} value={values[f.name] ?? ''} onChange={(e) => setValues({ ...values, [f.name]: e.target.value })}>
                    <option value="">choose…</option>
                    {f.options.map((o) => (
                      <option key={o}>{o}</option>
                    ))}
                  </select>
                ) : (
                  <input
                    name={f.name}
                    placeholder={f.placeholder}
                    value={values[f.name] ?? ''}
                    onChange={(e) => setValues({ ...values, [f.name]: e.target.value })}
                  />
                )}
              </label>
            ))}
            <label>
              Reason (written to the audit log)
              <textarea name="reason" required minLength={3} value={reason} onChange={(e) => setReason(e.target.value)} />
            </label>
            {result && !result.ok && <p className="error">{result.text}</p>}
            <div className="buttons">
              <button type="button" onClick={() => setOpen(false)}>
                Cancel
              </button>
              <button type="submit" className={danger ? 'danger' : 'primary'} disabled={!ready || mutation.isPending}>
                {mutation.isPending ? 'Sending…' : `Confirm ${label.toLowerCase()}`}
              </button>
            </div>
          </form>
        </div>
      )}
      {result && !open && (
        <span className={result.ok ? 'result ok' : 'result error'} role="status">
          {result.text}
        </span>
      )}
    </span>
  );
}
