import { ApiFailure } from '../api';

/** A failed read, as the API explained it (a customer token gets the 403 here). */
export function Failure({ error }: { error: unknown }) {
  const text = error instanceof ApiFailure ? `${error.status} ${error.code}: ${error.message}` : String(error);
  return (
    <p className="error" role="alert" data-testid="failure">
      {text}
    </p>
  );
}
