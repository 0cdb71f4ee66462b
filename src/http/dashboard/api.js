// The JSON API beside the page: every call carries the bearer token from sessionStorage; a 401
// hands over to the sign-in form (set by the dashboard's entry module).
export const tokenKey = 'zart.dashboard.token';

/** What to do when the API refuses the token: show the sign-in form. */
export const session = { signedOut: (_message) => undefined };

export class SignedOutError extends Error {}
export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

export function token() {
  return sessionStorage.getItem(tokenKey);
}

export async function api(path, options = {}) {
  const method = options.method || 'GET';
  const headers = { Accept: 'application/json' };
  const bearer = token();
  if (bearer) headers.Authorization = `Bearer ${bearer}`;
  const init = { method, headers, cache: 'no-store', credentials: 'omit' };
  if (method !== 'GET') {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(options.body || {});
  }
  const response = await fetch(path, init);
  const data = await response.json().catch(() => null);
  if (response.status === 401) {
    session.signedOut(bearer ? 'That token was not accepted. Paste the current one.' : '');
    throw new SignedOutError('signed out');
  }
  if (!response.ok) {
    const message = data && data.error ? data.error.message : `${response.status} ${response.statusText}`;
    throw new ApiError(response.status, message);
  }
  return data;
}

export const runPath = (id) => `api/runs/${encodeURIComponent(id)}`;
export const runHref = (id) => `#/runs/${encodeURIComponent(id)}`;
