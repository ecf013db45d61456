// Sign-in at the company's identity provider: authorization code with PKCE (RFC 7636), a public client, no secret.
// The verifier and state wait in sessionStorage for the redirect back; the code is exchanged for an access token
// at the provider's token endpoint, and the code is then removed from the address bar.
const PENDING = 'transfer-registry.oidc';

const base64url = (bytes) =>
  btoa(String.fromCharCode(...new Uint8Array(bytes)))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
const random = () => base64url(crypto.getRandomValues(new Uint8Array(32)));
const redirectUri = () => `${location.origin}/`;

async function discover(issuer) {
  const response = await fetch(`${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`);
  if (!response.ok) throw new Error(`The identity provider's configuration could not be read (${response.status}).`);
  return response.json();
}

/** Goes to the identity provider's sign-in page. */
export async function startOidcSignIn({ issuer, clientId, scope }) {
  const { authorization_endpoint: endpoint } = await discover(issuer);
  const verifier = random();
  const state = random();
  const challenge = base64url(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)));
  sessionStorage.setItem(PENDING, JSON.stringify({ verifier, state }));
  const params = new URLSearchParams({
    response_type: 'code',
    client_id: clientId,
    redirect_uri: redirectUri(),
    scope,
    state,
    code_challenge: challenge,
    code_challenge_method: 'S256',
  });
  location.assign(`${endpoint}?${params}`);
}

/** Back from the identity provider: the access token for the code in the URL; undefined when there is none. */
export async function completeOidcSignIn(settings) {
  const params = new URLSearchParams(location.search);
  const code = params.get('code');
  const error = params.get('error');
  if (!settings.oidc || (!code && !error)) return undefined;
  const pending = JSON.parse(sessionStorage.getItem(PENDING) ?? 'null');
  sessionStorage.removeItem(PENDING);
  history.replaceState(null, '', location.pathname + location.hash);
  if (error) throw new Error(`The identity provider refused: ${params.get('error_description') ?? error}`);
  if (!pending || params.get('state') !== pending.state) throw new Error('The sign-in answer did not match this tab.');
  const { token_endpoint: endpoint } = await discover(settings.oidc.issuer);
  const response = await fetch(endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: redirectUri(),
      client_id: settings.oidc.clientId,
      code_verifier: pending.verifier,
    }),
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok || !body.access_token)
    throw new Error(`The identity provider gave no token: ${body.error_description ?? body.error ?? response.status}`);
  return body.access_token;
}
