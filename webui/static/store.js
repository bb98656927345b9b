// The app's state, in one plain object that every module reads, plus a tiny change signal.
// Modules change `state` and then `emit` a topic; views listen and repaint what they show.

const ARCHIVED_KEY = 'webui.includeArchived';
const SOURCE_KEY = 'webui.sidebarSource';
const ALL_PROFILES_KEY = 'webui.allProfiles';
const SOURCES = ['all', 'webui', 'cli'];

function stored(key, fallback) {
  try {
    return window.localStorage.getItem(key) ?? fallback;
  } catch {
    return fallback; // storage disabled (privacy mode): preferences just do not persist
  }
}

export function remember(key, value) {
  try {
    window.localStorage.setItem(key, String(value));
  } catch {
    // see stored()
  }
}

/** The message search's state when nothing is asked or shown (see search.js). */
export function idleSearch() {
  return { q: '', hits: [], nextOffset: null, index: null, loading: false, error: null, answered: false };
}

export const state = {
  // The list's query. `profile` is null until the server tells us which one is active.
  profile: null,
  allProfiles: stored(ALL_PROFILES_KEY, 'false') === 'true',
  source: SOURCES.includes(stored(SOURCE_KEY, 'all')) ? stored(SOURCE_KEY, 'all') : 'all',
  q: '',
  includeArchived: stored(ARCHIVED_KEY, 'false') === 'true',
  query: 0, // bumped whenever the query changes (see SessionLoader.reset)

  // What the server said, for that query.
  rows: [],
  total: 0,
  counts: null,
  nextOffset: null,
  loaded: false, // a first page for the current query has arrived
  clockOffset: 0, // server clock minus browser clock, seconds

  // Settings and profiles (null until loaded).
  settings: null,
  profiles: null,

  // Optimistic edits not yet confirmed: row key -> {title?, pinned?, archived?, deleted?}.
  patches: new Map(),
  edits: 0, // bumped when a row action starts and ends (see SessionLoader.current)

  // The "In messages" results for `q`: {q, hits, nextOffset, index, loading, error, answered}.
  search: idleSearch(),

  // Which row is open in the chat pane, and the chat pane's own state (see chat.js).
  openKey: null,
  chat: { profile: null, sessionId: null, streamId: null, streaming: false, loading: false },

  // null, or {kind: 'offline' | 'server' | 'request', message, retryAt}
  error: null,
  authRequired: false,
};

/**
 * Counters for tests: list repaints that touched the DOM, list requests, 304 answers, deltas
 * applied, and deltas refused (a full fetch instead).
 */
export const metrics = { renders: 0, fetches: 0, notModified: 0, deltas: 0, deltaFallbacks: 0 };

export const STORAGE = { ARCHIVED_KEY, SOURCE_KEY, ALL_PROFILES_KEY };

const listeners = new Map();

export function on(topic, listener) {
  if (!listeners.has(topic)) listeners.set(topic, new Set());
  listeners.get(topic).add(listener);
}

/** Topics: rows (list content or selection), meta (settings/profiles/counts), error, chat. */
export function emit(topic) {
  listeners.get(topic)?.forEach((listener) => listener());
}

/**
 * Profiles that are scopes of other session sources (Claude Code), not Hermes profiles: their
 * rows show in every profile's list, and row actions address them by their own `profile`.
 */
export const SHARED_SCOPES = new Set(['claude-code']);

/** Rows are identified by profile and id: with all_profiles two profiles may share an id. */
export function rowKey(row) {
  return `${row.profile}/${row.session_id}`;
}

/** The browser's idea of the server's "now", in epoch seconds. */
export function serverNow() {
  return Date.now() / 1000 + state.clockOffset;
}

/**
 * The rows to show: server rows with optimistic edits laid over, minus deleted ones and (unless
 * the list includes them) archived ones, which a PATCH answer can put in the loaded rows.
 */
export function shownRows() {
  const shown = [];
  for (const row of state.rows) {
    const patch = state.patches.get(rowKey(row));
    const view = patch ? { ...row, ...patch } : row;
    if (view.deleted || (view.archived && !state.includeArchived)) continue;
    shown.push(view);
  }
  return shown;
}

export function findRow(key) {
  return state.rows.find((row) => rowKey(row) === key) ?? null;
}

/** Put the server's fresh copy of one row in place (answers of PATCH, restore, GET). */
export function replaceRow(updated) {
  const key = rowKey(updated);
  const index = state.rows.findIndex((row) => rowKey(row) === key);
  if (index >= 0) state.rows = state.rows.with(index, updated);
  return index >= 0;
}
