// The browser's client of annexd's REST API: the session cookie goes by itself (same origin), the CSRF token
// is sent on every state-changing request, a 401 returns the user to sign-in, and every refusal becomes an
// ApiError carrying the server's code, field and message for errors.js to translate.

export class ApiError extends Error {
  /**
   * @param {number} status HTTP status (0: the server could not be reached)
   * @param {string} code the server's error code
   * @param {string} message the server's message, shown as detail
   * @param {string|null} field the input at fault, when the server names one
   * @param {number|null} retryAfter seconds, from Retry-After
   */
  constructor(status, code, message, field = null, retryAfter = null) {
    super(message || code);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.serverMessage = message || '';
    this.field = field;
    this.retryAfter = retryAfter;
  }
}

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
let csrfToken = null;
let unauthenticatedHandler = () => {};

/** @param {string|null} token from POST /api/v1/auth/session or GET /api/v1/auth/me */
export function setCsrfToken(token) {
  csrfToken = token || null;
}

/** @param {(err: ApiError) => void} fn called when a request answers 401 (the session ended) */
export function onUnauthenticated(fn) {
  unauthenticatedHandler = fn;
}

const STATUS_CODES = {
  400: 'bad_request', 401: 'unauthenticated', 403: 'forbidden', 404: 'not_found', 405: 'method_not_allowed',
  409: 'conflict', 412: 'precondition_failed', 413: 'payload_too_large', 415: 'unsupported_media_type',
  422: 'unprocessable', 428: 'precondition_required', 429: 'too_many_requests', 503: 'unavailable',
};

/**
 * JSON with whole numbers beyond 2^53 kept exact as BigInt where the browser tells the reviver the source text.
 * @param {string} text
 */
export function parseJson(text) {
  return JSON.parse(text, function revive(_key, value, context) {
    if (typeof value === 'number' && !Number.isSafeInteger(value) && Number.isInteger(value) && context && /^-?\d+$/.test(context.source)) {
      return BigInt(context.source);
    }
    return value;
  });
}

function retryAfterSeconds(res) {
  const v = res.headers.get('Retry-After');
  if (!v) return null;
  if (/^\d+$/.test(v.trim())) return Number(v.trim());
  const when = Date.parse(v);
  return Number.isNaN(when) ? null : Math.max(0, Math.round((when - Date.now()) / 1000));
}

/**
 * @param {string} method
 * @param {string} path beginning /api/v1/
 * @param {unknown} [body] sent as JSON
 * @param {{signal?: AbortSignal, headers?: Record<string, string>, expect401?: boolean, retried?: boolean}} [opts]
 *   expect401: a 401 is the caller's to handle (sign-in, the first "who am I"), not a session ending
 */
export async function request(method, path, body, opts = {}) {
  const headers = { Accept: 'application/json', ...(opts.headers || {}) };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (STATE_CHANGING.has(method) && csrfToken) headers['X-CSRF-Token'] = csrfToken;
  let res;
  try {
    res = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      cache: 'no-store',
      signal: opts.signal,
    });
  } catch (e) {
    if (e && e.name === 'AbortError') throw e;
    throw new ApiError(0, 'network', String(e && e.message ? e.message : e));
  }
  if (res.status === 204) return null;
  const text = await res.text();
  let data = null;
  if (text) {
    try {
      data = parseJson(text);
    } catch {
      data = null;
    }
  }
  if (res.ok) return data;

  const e = data && typeof data === 'object' && data.error && typeof data.error === 'object' ? data.error : {};
  const err = new ApiError(res.status, e.code || STATUS_CODES[res.status] || (res.status >= 500 ? 'internal' : 'bad_request'),
    typeof e.message === 'string' ? e.message : '', typeof e.field === 'string' ? e.field : null, retryAfterSeconds(res));
  err.body = data; // an answer that is not an error's shape (a sync check's {"ok": false, "detail"}) stays readable
  if (res.status === 401 && !opts.expect401) unauthenticatedHandler(err);
  // A token gone stale (the session was renewed elsewhere): fetch the current one and try once more.
  if (res.status === 403 && err.field === 'X-CSRF-Token' && STATE_CHANGING.has(method) && !opts.retried) {
    const me = await request('GET', '/api/v1/auth/me', undefined, { signal: opts.signal });
    if (me && me.csrf_token) {
      setCsrfToken(me.csrf_token);
      return request(method, path, body, { ...opts, retried: true });
    }
  }
  throw err;
}

export const get = (path, opts) => request('GET', path, undefined, opts);
export const post = (path, body, opts) => request('POST', path, body === undefined ? {} : body, opts);
export const del = (path, opts) => request('DELETE', path, undefined, opts);

/** A path segment, %-encoded. */
export const seg = (s) => encodeURIComponent(String(s));

/**
 * Sends a file as a form's one file part (multipart/form-data), with the CSRF token; answers as `request`.
 * @param {string} path beginning /api/v1/
 * @param {File|Blob} file
 * @param {{field?: string, signal?: AbortSignal}} [opts]
 */
export async function upload(path, file, opts = {}) {
  const form = new FormData();
  form.append(opts.field || 'file', file, file && file.name ? file.name : 'upload');
  const headers = { Accept: 'application/json' };
  if (csrfToken) headers['X-CSRF-Token'] = csrfToken;
  let res;
  try {
    res = await fetch(path, { method: 'POST', headers, body: form, credentials: 'same-origin', cache: 'no-store', signal: opts.signal });
  } catch (e) {
    if (e && e.name === 'AbortError') throw e;
    throw new ApiError(0, 'network', String(e && e.message ? e.message : e));
  }
  const text = await res.text();
  let data = null;
  try {
    data = text ? parseJson(text) : null;
  } catch {
    data = null;
  }
  if (res.ok) return data;
  const e = data && typeof data === 'object' && data.error && typeof data.error === 'object' ? data.error : {};
  const err = new ApiError(res.status, e.code || STATUS_CODES[res.status] || (res.status >= 500 ? 'internal' : 'bad_request'),
    typeof e.message === 'string' ? e.message : '', typeof e.field === 'string' ? e.field : null, retryAfterSeconds(res));
  if (res.status === 401) unauthenticatedHandler(err);
  throw err;
}

/** The If-Match header for a business record: annexd answers its records with the ETag "v<version>". */
export const ifMatch = (record) => ({ 'If-Match': `"v${record.version}"` });
