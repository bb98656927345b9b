// Loading the session list: the first pages of the current query, revalidated with ETags, and
// further pages on demand.
//
// Invariants:
// - One list request in flight. A refresh asked for while one runs is run once more after it
//   (however many were asked for); a query change aborts the running request instead.
// - Every query change bumps `generation`; an answer for an older generation is dropped, so a
//   late answer for the previous profile (or search, or tab) can never be shown.
// - A 304 changes nothing: no state, no signal, no repaint.

import { ApiError, isAbort, isTransient, request } from './api.js';
import { emit, metrics, rowKey, state } from './store.js';

export const PAGE_SIZE = 500;
const MAX_LIMIT = 5000; // the server's largest page

function roundUp(count) {
  return Math.ceil(count / PAGE_SIZE) * PAGE_SIZE;
}

function listQuery() {
  const query = {
    sidebar_source: state.source,
    include_archived: state.includeArchived,
    q: state.q || undefined,
  };
  if (state.allProfiles) query.all_profiles = true;
  else if (state.profile) query.profile = state.profile;
  // Until the settings are loaded the server applies its own (the same ones).
  if (state.settings) {
    for (const name of ['show_cli', 'show_cron', 'show_webhook', 'show_messaging_history']) {
      query[name] = state.settings[name];
    }
  }
  // Picking the CLI tab asks for CLI sessions, whatever the "show CLI" toggle says for "All".
  if (state.source === 'cli') query.show_cli = true;
  return query;
}

function appendUnique(rows, more) {
  const seen = new Set(rows.map(rowKey));
  return rows.concat(more.filter((row) => !seen.has(rowKey(row))));
}

export class SessionLoader {
  /** `onSettled(ok, error)` runs after every head revalidation (the live updater reschedules). */
  constructor({ onSettled }) {
    this.onSettled = onSettled;
    this.generation = 0;
    this.head = { etag: null, limit: 0 }; // the validator of the last first-page answer
    this.wantHead = false;
    this.wantMore = false;
    this.running = false;
    this.controller = null;
  }

  /** The query changed: forget the old answer, abort its request, fetch anew. */
  reset({ clear }) {
    this.generation += 1;
    state.query += 1;
    this.head = { etag: null, limit: 0 };
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
          await this.runHead();
        } else {
          this.wantMore = false;
          await this.runMore();
        }
      }
    } finally {
      this.running = false;
    }
  }

  async fetchPage(offset, limit, etag) {
    metrics.fetches += 1;
    const response = await request('GET', '/api/sessions', {
      query: { ...listQuery(), offset, limit },
      etag,
      signal: this.controller.signal,
    });
    if (Number.isFinite(response.serverTime)) state.clockOffset = response.serverTime - Date.now() / 1000;
    if (response.status === 304) metrics.notModified += 1;
    return response;
  }

  /** Revalidate the loaded window: one conditional request for the first pages. */
  async runHead() {
    const generation = this.generation;
    this.controller = new AbortController();
    try {
      // Ask for as many rows as are loaded, so a refresh never shrinks what was scrolled to.
      const limit = Math.min(MAX_LIMIT, roundUp(Math.max(state.rows.length, 1)));
      const etag = this.head.limit === limit ? this.head.etag : null;
      const first = await this.fetchPage(0, limit, etag);
      if (generation !== this.generation) return;
      if (first.status !== 304) {
        let rows = first.data.sessions;
        let last = first.data;
        // Beyond the largest page, the rest of what was loaded comes in further requests.
        while (last.next_offset !== null && rows.length < state.rows.length) {
          const more = Math.min(MAX_LIMIT, roundUp(state.rows.length - rows.length));
          const page = await this.fetchPage(last.next_offset, more, null);
          if (generation !== this.generation) return;
          rows = appendUnique(rows, page.data.sessions);
          last = page.data;
        }
        if (!this.accept(first.data)) return;
        this.head = { etag: first.etag, limit };
        this.apply(first.data, rows, last.next_offset);
      }
      this.settle(true);
    } catch (err) {
      if (generation !== this.generation || isAbort(err)) return;
      this.settle(false, err);
    }
  }

  async runMore() {
    const generation = this.generation;
    this.controller = new AbortController();
    try {
      const page = await this.fetchPage(state.nextOffset, PAGE_SIZE, null);
      if (generation !== this.generation || !this.accept(page.data)) return;
      state.rows = appendUnique(state.rows, page.data.sessions);
      state.nextOffset = page.data.next_offset;
      // The list moved under us (rows added or removed): revalidate what is loaded.
      if (page.data.total !== state.total) this.wantHead = true;
      emit('rows');
    } catch (err) {
      if (generation !== this.generation || isAbort(err)) return;
      this.settle(false, err);
    }
  }

  /** Belt and braces on top of the generation check: the answer is for the profile we show. */
  accept(data) {
    if (Boolean(data.all_profiles) !== state.allProfiles) return false;
    if (state.allProfiles || state.profile === null) return true;
    return data.profile === state.profile;
  }

  apply(data, rows, nextOffset) {
    if (state.profile === null) state.profile = data.profile;
    state.rows = rows;
    state.nextOffset = nextOffset;
    state.loaded = true;
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
    this.onSettled(ok, err); // first, so the error view sees when the next try is due
    if (changed) emit('error');
  }
}

function classify(err) {
  if (isTransient(err)) {
    return { kind: err instanceof ApiError ? 'server' : 'offline', message: err.message };
  }
  return { kind: 'request', message: err.message, code: err.code, param: err.param };
}
