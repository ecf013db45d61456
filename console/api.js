// The one way the console talks to the service: GraphQL and CSV downloads, each with the bearer token in the
// Authorization header (never a cookie, never a URL). The token lives in sessionStorage: gone when the tab
// closes, and at once on sign-out.
const KEY = 'transfer-registry.token';

export const token = {
  get: () => sessionStorage.getItem(KEY),
  set: (value) => sessionStorage.setItem(KEY, value),
  forget: () => sessionStorage.removeItem(KEY),
};

/** Called when the service refuses the token (401): the app signs out and says why. */
let onUnauthorized = () => {};
export const whenUnauthorized = (f) => (onUnauthorized = f);

export class ApiError extends Error {}

const authorization = () => ({ authorization: `Bearer ${token.get()}` });

/** Runs one GraphQL operation; its data, or an ApiError with the service's message. */
export async function gql(query, variables = {}) {
  const response = await fetch('/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json', ...authorization() },
    body: JSON.stringify({ query, variables }),
  });
  if (response.status === 401) {
    const reason = await messageOf(response);
    onUnauthorized(reason);
    throw new ApiError(`The service refused the token: ${reason}`);
  }
  const body = await response.json().catch(() => ({}));
  if (body.errors?.length) throw new ApiError(body.errors.map((e) => e.message).join('; '));
  if (!response.ok || !body.data) throw new ApiError(`The service answered ${response.status}.`);
  return body.data;
}

async function messageOf(response) {
  const body = await response.json().catch(() => ({}));
  return body.errors?.[0]?.message ?? body.detail ?? `HTTP ${response.status}`;
}

/** Fetches a file (a CSV export, the evidence pack, a checkpoint) with the token and hands it to the browser as a
 * download named `filename`. */
export async function download(path, params, filename) {
  const response = await fetch(`${path}?${new URLSearchParams(params)}`, { headers: authorization() });
  if (response.status === 401) onUnauthorized(await messageOf(response));
  if (!response.ok) throw new ApiError(await messageOf(response));
  const url = URL.createObjectURL(await response.blob());
  const link = Object.assign(document.createElement('a'), { href: url, download: filename });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
