// Searching message text: the "In messages" part of a search, from /api/sessions/search.
//
// The title matches come from the list itself (`q` on /api/sessions); this module adds the
// sessions whose messages match, in pages, for the same scope as the list.
//
// Invariants:
// - One search request in flight. A new query (or scope) aborts the running request, and an
//   answer for anything but the latest query is dropped, however late it arrives.
// - The results shown are always for `state.q` in the list's current scope: a scope change
//   (profile, toggles, archived) searches again.
// - Title matches are left out here: the list above already shows them.

import { describeError, isAbort, request } from './api.js';
import { listQuery } from './sessions.js';
import { emit, idleSearch, rowKey, state } from './store.js';

const PAGE = 20;

/** The list's scope as search parameters: every list rule applies to a search too. */
function searchScope() {
  const { q, ...scope } = listQuery();
  return scope;
}

/** Which results the current tab shows (in case a server does not apply `sidebar_source`). */
function inTab(row) {
  if (state.source === 'webui') return row.source_kind === 'webui';
  if (state.source === 'cli') return row.source_kind === 'cli';
  return true;
}

export function hitKey(row) {
  return `hit:${rowKey(row)}/${row.match?.message_id ?? ''}`;
}

export class MessageSearch {
  constructor() {
    this.signature = JSON.stringify(['', null]);
    this.generation = 0;
    this.controller = null;
    this.running = false;
  }

  /**
   * Follow `state.q` and the list's scope: search again when either changed. Called by the
   * views before they paint, so it changes `state.search` without a signal of its own; true
   * when it did.
   */
  update() {
    const q = state.q;
    const scope = searchScope();
    const signature = JSON.stringify([q, scope]);
    if (signature === this.signature) return false;
    this.signature = signature;
    this.generation += 1;
    this.controller?.abort();
    this.controller = null;
    this.running = false;
    state.search = { ...idleSearch(), q, loading: Boolean(q) };
    if (q) this.fetch(q, scope, 0);
    return true;
  }

  /** The next page of results, if there is one and none is being fetched. */
  more() {
    const search = state.search;
    if (!search.q || this.running || search.nextOffset === null || search.error) return;
    this.fetch(search.q, searchScope(), search.nextOffset);
  }

  /** Ask again after a failure (the Retry of the error note). */
  retry() {
    this.signature = null;
    if (this.update()) emit('rows');
  }

  async fetch(q, scope, offset) {
    const generation = this.generation;
    const controller = new AbortController();
    this.controller = controller;
    this.running = true;
    let data;
    try {
      const query = { ...scope, q, offset, limit: PAGE };
      ({ data } = await request('GET', '/api/sessions/search', { query, signal: controller.signal }));
    } catch (err) {
      if (generation !== this.generation || isAbort(err)) return;
      this.running = false;
      state.search = { ...state.search, loading: false, error: describeError(err) };
      emit('rows');
      return;
    }
    if (generation !== this.generation) return; // a late answer: not ours
    this.running = false;
    const seen = new Set(state.search.hits.map(hitKey));
    const fresh = (data.results ?? []).filter((row) => {
      if (row.match?.where !== 'message' || !inTab(row) || seen.has(hitKey(row))) return false;
      seen.add(hitKey(row));
      return true;
    });
    state.search = {
      ...state.search,
      hits: [...state.search.hits, ...fresh],
      nextOffset: data.next_offset ?? null,
      index: offset === 0 ? data.index : state.search.index,
      loading: false,
      error: null,
      answered: true,
    };
    emit('rows');
  }
}
