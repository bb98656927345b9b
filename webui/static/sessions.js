// Loading the session list: the pages of the current query that are loaded, each revalidated
// with its ETag, and further pages on demand.
//
// Invariants:
// - One list request in flight. A refresh asked for while one runs is run once more after it
//   (however many were asked for); a query change aborts the running request instead.
// - Every query change bumps `generation`; an answer for an older generation is dropped, so a
//   late answer for the previous profile (or search, or tab) can never be shown.
// - A refresh asks for what is loaded in windows of up to 5,000 rows (the server's largest
//   page), each with the ETag of its last answer. When every window answers 304, nothing
//   changes: no state, no signal, no repaint.
// - An answer whose request started before a row action (rename, delete …) settled is not
//   shown: it may predate the action, and would undo its optimistic effect for a moment.
// - A window from offset 0 that the server gave a `version` for is revalidated with
//   `since=<version>&have=<its rows>`: the server may answer with a delta, applied to the rows
//   held (delta.js). Any doubt (a delta for another version, one that does not add up) and
//   the window is fetched in full instead.
// - A refresh answered from a stale list (X-Cache: stale: the server is rebuilding it in the
//   background) says so when it settles, so the live updater can ask again soon.

import { ApiError, isAbort, isTransient, request } from './api.js';
import { applyDelta } from './delta.js';
import { emit, metrics, rowKey, state } from './store.js';

const PAGE_SIZE = 500;
const MAX_LIMIT = 5000; // the server's largest page

function roundUp(count) {
  return Math.ceil(count / PAGE_SIZE) * PAGE_SIZE;
}

/** The list's query from the state: what every list request (and a search) asks about. */
export function listQuery() {
  const query = {
    sidebar_source: state.source,
    include_archived: state.includeArchived,
    q: state.q || undefined,
  };
  if (state.allProfiles) query.all_profiles = true;
  else if (state.profile) query.profile = state.profile;
  // Until the settings are loaded the server applies its own (the same ones).
  if (state.settings) {
    // Every show_* gate the server has (show_cli, show_cron, …, show_claude_code).
    for (const [name, value] of Object.entries(state.settings)) {
      if (name.startsWith('show_')) query[name] = value;
    }
  }
  // Picking the CLI tab asks for CLI sessions, whatever the "show CLI" toggle says for "All".
  if (state.source === 'cli') query.show_cli = true;
  return query;
}

function unique(rows) {
  const seen = new Set();
  return rows.filter((row) => {
    const key = rowKey(row);
    if (seen.has(key)) return false; // a row that moved between two pages' answers
    seen.add(key);
    return true;
  });
}

export class SessionLoader {
  /** `onSettled(ok, error, stale)` runs after every refresh (the live updater reschedules). */
  constructor({ onSettled }) {
    this.onSettled = onSettled;
    this.stale = false; // the last answer came from a list the server was rebuilding
    this.generation = 0;
    this.pages = []; // [{offset, limit, etag, data}] in offset order: what is loaded
    this.wantHead = false;
    this.wantMore = false;
    this.running = false;
    this.controller = null;
  }

  /** The query changed: forget the old answer, abort its request, fetch anew. */
  reset({ clear }) {
    this.generation += 1;
    state.query += 1;
    this.pages = [];
    this.wantMore = false;
    this.controller?.abort();
    state.loaded = false;
    state.nextOffset = null;
    if (clear) {
      state.rows = [];
      state.total = 0;
      state.counts = null;
      emit('rows');
      emit('meta');
    }
    this.refresh();
  }

  refresh() {
    this.wantHead = true;
    this.pump();
  }

  loadMore() {
    if (!state.loaded || state.nextOffset === null || this.wantMore) return;
    this.wantMore = true;
    this.pump();
  }

  async pump() {
    if (this.running) return;
    this.running = true;
    try {
      while (this.wantHead || this.wantMore) {
        if (this.wantHead) {
          this.wantHead = false;
          await this.run(() => this.revalidate());
        } else {
          this.wantMore = false;
          await this.run(() => this.more());
        }
      }
    } finally {
      this.running = false;
    }
  }

  /** Run one task; its outcome (answered, or failed) counts only if no query change overtook it. */
  async run(task) {
    const generation = this.generation;
    this.controller = new AbortController();
    this.stale = false;
    try {
      const ok = await task();
      if (generation === this.generation && ok) this.settle(true);
    } catch (err) {
      if (generation === this.generation && !isAbort(err)) this.settle(false, err);
    }
  }

  async fetchPage(offset, limit, etag, since = null) {
    metrics.fetches += 1;
    const response = await request('GET', '/api/sessions', {
      query: { ...listQuery(), offset, limit, ...since },
      etag,
      signal: this.controller.signal,
    });
    if (Number.isFinite(response.serverTime)) state.clockOffset = response.serverTime - Date.now() / 1000;
    if (response.status === 304) metrics.notModified += 1;
    if (response.cache === 'stale') this.stale = true;
    return response;
  }

  /** Where the loaded rows end: a refresh covers at least that much, so it never shrinks. */
  loadedEnd() {
    const last = this.pages.at(-1);
    return last ? last.offset + last.data.sessions.length : 0;
  }

  /** Revalidate everything loaded. True when the server answered for the current query. */
  async revalidate() {
    const generation = this.generation;
    const edits = state.edits;
    const end = roundUp(Math.max(this.loadedEnd(), 1));
    const pages = [];
    let changed = false;
    for (let offset = 0; offset < end; offset += MAX_LIMIT) {
      const limit = Math.min(MAX_LIMIT, end - offset);
      const known = this.pages.find((page) => page.offset === offset && page.limit === limit);
      const since = deltaBase(known);
      let response = await this.fetchPage(offset, limit, known?.etag ?? null, since);
      if (generation !== this.generation) return false;
      if (response.status === 304) {
        pages.push(known);
        continue;
      }
      if (!this.accept(response.data)) return false;
      let data = response.data;
      if (data.delta === true) {
        data = since ? this.applied(known, since, data) : null;
        if (data === null) {
          // Not a delta we can trust: the whole window, as if we held nothing.
          metrics.deltaFallbacks += 1;
          response = await this.fetchPage(offset, limit, null);
          if (generation !== this.generation) return false;
          if (!this.accept(response.data) || response.data.delta === true) return false;
          data = response.data;
        }
      }
      pages.push({ offset, limit, etag: response.etag, data });
      changed = true;
      if (data.next_offset === null) break; // the list got shorter than what was loaded
    }
    if (edits !== state.edits) {
      // A row action settled while this was in flight: the answer may predate it. Ask again.
      this.wantHead = true;
      return true;
    }
    if (changed) this.publish(pages);
    return true;
  }

  async more() {
    const generation = this.generation;
    const edits = state.edits;
    const offset = this.loadedEnd();
    const response = await this.fetchPage(offset, PAGE_SIZE, null);
    if (generation !== this.generation || !this.accept(response.data)) return false;
    if (edits !== state.edits) return true; // as in revalidate; scrolling asks for it again
    this.publish([...this.pages, { offset, limit: PAGE_SIZE, etag: response.etag, data: response.data }]);
    return true;
  }

  /** `known`'s rows with `delta` applied, as a full answer for the new version; or null. */
  applied(known, since, delta) {
    if (delta.since !== since.since || delta.version === undefined) return null;
    if (delta.profile !== known.data.profile || Boolean(delta.all_profiles) !== Boolean(known.data.all_profiles)) return null;
    const rows = applyDelta(known.data.sessions, delta, since.have);
    if (rows === null) return null;
    metrics.deltas += 1;
    const { removed, upserted, ...rest } = delta;
    const next = rows.length < delta.total ? rows.length : null;
    return { ...rest, delta: false, sessions: rows, limit: known.limit, next_offset: next };
  }

  /** Belt and braces on top of the generation check: the answer is for the profile we show. */
  accept(data) {
    if (Boolean(data.all_profiles) !== state.allProfiles) return false;
    if (state.allProfiles || state.profile === null) return true;
    return data.profile === state.profile;
  }

  /** Show `pages`: their rows in order, and the newest answer's totals. */
  publish(pages) {
    this.pages = pages;
    const newest = pages.reduce((a, b) => (b.data.server_time > a.data.server_time ? b : a));
    if (state.profile === null) state.profile = newest.data.profile;
    state.rows = unique(pages.flatMap((page) => page.data.sessions));
    state.nextOffset = pages.at(-1).data.next_offset;
    state.loaded = true;
    const data = newest.data;
    const metaChanged = data.total !== state.total || JSON.stringify(data.counts) !== JSON.stringify(state.counts);
    state.total = data.total;
    state.counts = data.counts;
    emit('rows');
    if (metaChanged) emit('meta');
  }

  settle(ok, err = null) {
    const error = ok ? null : classify(err);
    const changed = JSON.stringify(error) !== JSON.stringify(state.error);
    state.error = error;
    this.onSettled(ok, err, ok && this.stale); // first, so the error view sees when the next try is due
    if (changed) emit('error');
  }
}

/**
 * The `since`/`have` of a delta poll for a loaded window, or null for a plain one. Only the
 * window from offset 0 asks (a delta covers the first `have` rows), and only when it holds all
 * the rows it asked for, so that `have` rows from the top are exactly what it holds.
 */
function deltaBase(known) {
  if (!known || known.offset !== 0 || typeof known.data.version !== 'string') return null;
  const held = known.data.sessions.length;
  if (held !== Math.min(known.limit, known.data.total)) return null;
  // Asking for the whole window: rows added to a short list land in it too.
  return { since: known.data.version, have: known.limit };
}

function classify(err) {
  if (isTransient(err)) {
    return { kind: err instanceof ApiError ? 'server' : 'offline', message: err.message };
  }
  return { kind: 'request', message: err.message, code: err.code, param: err.param };
}
