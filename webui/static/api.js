// The one way the app talks to the server: JSON in and out, the API's error shape turned into
// ApiError, an unreachable server turned into NetworkError, and conditional GETs (ETag).

/** A 4xx/5xx answer: {"error": {"code", "message", "param"}}. */
export class ApiError extends Error {
  constructor(status, code, message, param = null) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.param = param;
  }
}

/** The request never got an HTTP answer: the server is down or the network is gone. */
export class NetworkError extends Error {
  constructor(message = "Can't reach the server") {
    super(message);
    this.name = 'NetworkError';
  }
}

/** True for errors that mean "try again later" rather than "this request is wrong". */
export function isTransient(err) {
  return err instanceof NetworkError || (err instanceof ApiError && err.status >= 500);
}

export function isAbort(err) {
  return err?.name === 'AbortError';
}

const unauthorizedListeners = new Set();

/** Called whenever the server answers 401 (a token is configured and we have none). */
export function onUnauthorized(listener) {
  unauthorizedListeners.add(listener);
}

function buildUrl(path, query) {
  const url = new URL(path, window.location.origin);
  for (const [name, value] of Object.entries(query ?? {})) {
    if (value !== undefined && value !== null && value !== '') url.searchParams.set(name, String(value));
  }
  return url;
}

async function readJson(response) {
  const type = response.headers.get('Content-Type') ?? '';
  if (!type.includes('json')) return null;
  try {
    return await response.json();
  } catch {
    return null; // a truncated body: treat like no body, the status still tells what happened
  }
}

/**
 * One request. Resolves to {status, data, etag, serverTime, cache}; a 304 resolves with data
 * null. `cache` is the list's X-Cache ("hit", "miss", "stale") where the server sends one.
 * Rejects with ApiError, NetworkError or an AbortError (when `signal` aborts).
 */
export async function request(method, path, { query, body, etag, signal } = {}) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (etag) headers['If-None-Match'] = etag;
  let response;
  try {
    response = await fetch(buildUrl(path, query), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
      credentials: 'same-origin',
      // The app does its own revalidation: the HTTP cache must neither answer for the server
      // nor turn our explicit If-None-Match into a 200 from its own store.
      cache: 'no-store',
    });
  } catch (err) {
    if (isAbort(err)) throw err;
    throw new NetworkError();
  }
  const serverTime = Number.parseFloat(response.headers.get('X-Server-Time') ?? '');
  const meta = { status: response.status, etag: response.headers.get('ETag'), serverTime, cache: response.headers.get('X-Cache') };
  if (response.status === 304) return { ...meta, etag, data: null };
  const data = await readJson(response);
  if (!response.ok) {
    const error = data?.error ?? {};
    if (response.status === 401) unauthorizedListeners.forEach((listener) => listener());
    throw new ApiError(
      response.status,
      error.code ?? `http_${response.status}`,
      error.message ?? (response.statusText || `HTTP ${response.status}`),
      error.param ?? null,
    );
  }
  return { ...meta, data };
}

/** The path of one session, its id encoded (ids come from the server, never trusted as paths). */
export function sessionPath(sessionId, suffix = '') {
  return `/api/sessions/${encodeURIComponent(sessionId)}${suffix}`;
}

export function streamPath(streamId, suffix = '') {
  return `/api/streams/${encodeURIComponent(streamId)}${suffix}`;
}

/** The message to show a person for any error this module raises. */
export function describeError(err) {
  if (err instanceof NetworkError) return "Can't reach the server";
  if (err instanceof ApiError) return err.message;
  return String(err?.message ?? err);
}
