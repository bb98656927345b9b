// Row actions: rename, pin, archive, delete and restore. Each shows its effect at once (an
// optimistic patch over the row), then takes the server's answer; on failure the patch goes and
// the row is as it was, with the reason in a toast.

import { describeError, request, sessionPath } from './api.js';
import { emit, findRow, replaceRow, rowKey, state } from './store.js';

function withoutRow(key) {
  state.rows = state.rows.filter((row) => rowKey(row) !== key);
}

export class RowActions {
  /**
   * @param {object} deps toasts (Toasts), onDeleted(key) so the chat pane can close it,
   *   refresh() to fetch the list once the server has answered
   */
  constructor({ toasts, onDeleted, refresh }) {
    this.toasts = toasts;
    this.onDeleted = onDeleted;
    this.refresh = refresh;
  }

  /** Lay `fields` over the row, run `send`, then `done(data)` (default: take the new row). */
  async mutate(row, fields, send, done = (data) => replaceRow(data)) {
    const key = rowKey(row);
    const patch = { ...state.patches.get(key), ...fields };
    state.patches.set(key, patch);
    state.edits += 1;
    emit('rows');
    let ok = false;
    try {
      const { data } = await send();
      done(data);
      ok = true;
    } catch (err) {
      this.toasts.error(describeError(err));
    }
    const current = state.patches.get(key);
    if (current === patch) {
      state.patches.delete(key);
    } else if (current && !ok) {
      // A later edit of the same row merged ours in: take back only what is still ours.
      for (const [name, value] of Object.entries(fields)) if (current[name] === value) delete current[name];
      if (Object.keys(current).length === 0) state.patches.delete(key);
    }
    state.edits += 1;
    emit('rows');
    this.refresh();
    return ok;
  }

  patch(row, fields) {
    return this.mutate(row, fields, () =>
      request('PATCH', sessionPath(row.session_id), { query: { profile: row.profile }, body: fields }),
    );
  }

  rename(row, text) {
    const title = text.trim().replace(/\s+/g, ' ');
    if (!title || title === row.title) return Promise.resolve(true);
    return this.patch(row, { title });
  }

  togglePin(row) {
    return this.patch(row, { pinned: !row.pinned });
  }

  async toggleArchive(row) {
    const archived = !row.archived;
    const ok = await this.patch(row, { archived });
    if (ok && archived && !state.includeArchived) {
      this.toasts.show('Chat archived', {
        action: { label: 'Undo', run: () => this.patch({ ...row, archived: true }, { archived: false }) },
      });
    }
  }

  async remove(row) {
    const key = rowKey(row);
    const index = state.rows.findIndex((candidate) => rowKey(candidate) === key);
    this.onDeleted(key);
    const ok = await this.mutate(
      row,
      { deleted: true },
      () => request('DELETE', sessionPath(row.session_id), { query: { profile: row.profile } }),
      () => withoutRow(key),
    );
    if (ok) {
      this.toasts.show('Chat deleted', { action: { label: 'Undo', run: () => this.restore(row, index) } });
    }
  }

  /** Bring a deleted row back: in its old place at once, then as the server lists it. */
  restore(row, index) {
    const key = rowKey(row);
    if (!findRow(key)) {
      state.rows = state.rows.toSpliced(Math.max(0, Math.min(index, state.rows.length)), 0, row);
    }
    return this.mutate(
      row,
      {},
      () => request('POST', sessionPath(row.session_id, '/restore'), { query: { profile: row.profile } }),
    ).then((ok) => {
      if (!ok) {
        withoutRow(key);
        emit('rows');
      }
      return ok;
    });
  }
}
