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

import { ApiError, isAbort, isTransient, request } from './api.js';
import { emit, metrics, rowKey, state } from './store.js';

const PAGE_SIZE = 500;
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
  /** `onSettled(ok, error)` runs after every refresh (the live updater reschedules). */
  constructor({ onSettled }) {
    this.onSettled = onSettled;
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
    try {
      const ok = await task();
      if (generation === this.generation && ok) this.settle(true);
    } catch (err) {
      if (generation === this.generation && !isAbort(err)) this.settle(false, err);
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
      const response = await this.fetchPage(offset, limit, known?.etag ?? null);
      if (generation !== this.generation) return false;
      if (response.status === 304) {
        pages.push(known);
        continue;
      }
      if (!this.accept(response.data)) return false;
      pages.push({ offset, limit, etag: response.etag, data: response.data });
      changed = true;
      if (response.data.next_offset === null) break; // the list got shorter than what was loaded
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
