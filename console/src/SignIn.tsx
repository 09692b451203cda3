/**
 * Staff sign in with the same phone + one-time code login as every app (POST /v1/auth/otp, then
 * /v1/auth/otp/verify), or by pasting a staff access token (an external identity provider's, or a
 * development token from `npm run token`). In development the sandbox sender's outbox shows the
 * code on screen.
 */
import { useState } from 'react';
import { ApiFailure, mandi, unwrap } from './api';
import { setToken } from './session';

export function SignIn() {
  const [phone, setPhone] = useState('');
  const [code, setCode] = useState('');
  const [sent, setSent] = useState<{ phone: string; termsVersion: string } | null>(null);
  const [devCode, setDevCode] = useState<string | null>(null);
  const [pasted, setPasted] = useState('');
  const [error, setError] = useState<string | null>(null);

  const fail = (err: unknown) => setError(err instanceof ApiFailure ? `${err.code}: ${err.message}` : String(err));

  async function sendCode() {
    setError(null);
    try {
      const answer = await unwrap(mandi.POST('/v1/auth/otp', { body: { phone } }));
      setSent({ phone: answer.phone, termsVersion: answer.termsVersion });
      // Development only: absent (404) in production, where the code goes by SMS.
      const outbox = await mandi.GET('/v1/dev/otp-outbox', { params: { query: { phone: answer.phone } } });
      setDevCode(outbox.data?.messages[0]?.code ?? null);
    } catch (err) {
      fail(err);
    }
  }

  async function verify() {
    setError(null);
    try {
      const login = await unwrap(
        mandi.POST('/v1/auth/otp/verify', {
          body: { phone: sent!.phone, code, termsVersion: sent!.termsVersion, device: 'Mandi console' },
        }),
      );
      setToken(login.accessToken);
    } catch (err) {
      fail(err);
    }
  }

  return (
    <main className="signin">
      <h1>Mandi console</h1>
      <p>For support and admin staff. Every action here is written to the audit log.</p>
      <section>
        <h2>Phone and one-time code</h2>
        {!sent ? (
          <form
            onSubmit={(e) => {
              e.preventDefault();
              void sendCode();
            }}
          >
            <input name="phone" placeholder="+91 98765 43210" value={phone} onChange={(e) => setPhone(e.target.value)} />
            <button type="submit" className="primary">
              Send code
            </button>
          </form>
        ) : (
          <form
            onSubmit={(e) => {
              e.preventDefault();
              void verify();
            }}
          >
            <p>Code sent to {sent.phone}.</p>
            {devCode && <p className="dev">Development: the sandbox sent code {devCode}</p>}
            <input name="code" inputMode="numeric" placeholder="6-digit code" value={code} onChange={(e) => setCode(e.target.value)} />
            <button type="submit" className="primary">
              Sign in
            </button>
          </form>
        )}
      </section>
      <section>
        <h2>Or paste a staff token</h2>
        <form
          onSubmit={(e) => {
            e.preventDefault();
            if (pasted.trim()) setToken(pasted.trim());
          }}
        >
          <textarea name="token" placeholder="eyJ…" value={pasted} onChange={(e) => setPasted(e.target.value)} />
          <button type="submit">Use token</button>
        </form>
      </section>
      {error && <p className="error">{error}</p>}
    </main>
  );
}
