// Signing in: paste a token (a staff token from the CLI, or a contractor's), or, when the service has an OIDC
// issuer and client configured, sign in there (authorization code with PKCE, oidc.js).
import { useState } from 'preact/hooks';
import { startOidcSignIn } from './oidc.js';
import { html } from './ui.js';

export function SignIn({ settings, notice, onToken }) {
  const [value, setValue] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const submit = async (e) => {
    e.preventDefault();
    const pasted = value.trim().replace(/^Bearer\s+/i, '');
    if (!pasted) return setError('Paste a token first.');
    setBusy(true);
    setError('');
    try {
      await onToken(pasted);
    } catch (err) {
      setError(`Not signed in: ${err.message}`);
    } finally {
      setBusy(false);
    }
  };
  return html`<div class="sign-in card">
    <h1>Sign in</h1>
    ${notice && html`<p role="status" class="notice">${notice}</p>`}
    ${
      settings.oidc &&
      html`<p>
          <button
            type="button"
            class="primary"
            onClick=${() => startOidcSignIn(settings.oidc).catch((e) => setError(e.message))}
          >
            Sign in with your company account
          </button>
        </p>
        <p class="muted">Or paste a token:</p>`
    }
    <form onSubmit=${submit}>
      <label for="token">Access token</label>
      <textarea
        id="token"
        rows="4"
        spellcheck="false"
        autocomplete="off"
        aria-describedby="token-help"
        value=${value}
        onInput=${(e) => setValue(e.currentTarget.value)}
      ></textarea>
      <p id="token-help" class="muted">
        Staff: mint one where the service runs with${' '}
        <code>npm run --silent token -- --role auditor --subject you@example.com</code>${' '}
        (or <code>--role compliance</code>). Contractors: the token compliance staff issued to you. It is kept
        only in this tab and sent only as an <code>Authorization</code> header; signing out forgets it.
      </p>
      ${error && html`<p class="error" role="alert">${error}</p>`}
      <button type="submit" class="primary" disabled=${busy}>Sign in</button>
    </form>
  </div>`;
}
