// The session list in the sidebar: the virtual list of rows, keyboard navigation, the row menu
// and inline rename.

import { h, setAttr, setClass, setHidden, setText } from './dom.js';
import { HIT_TYPES, createHitNode, searchItems, updateHitNode } from './hits.js';
import { VirtualList } from './list.js';
import { RowMenu } from './menu.js';
import { ROW_HEIGHT, buildItems, createNode, updateNode } from './rows.js';
import { metrics, rowKey, serverNow, shownRows, state } from './store.js';
import { dayBoundaries } from './time.js';

const TICK = 30000; // relative times ("5m") and date groups move on with the clock

/** Items that take keyboard focus and open something: session rows and message hits. */
function focusable(item) {
  return item?.type === 'row' || item?.type === 'hit';
}

export class SessionListView {
  /**
   * @param {object} deps viewport, canvas, status (elements), menu (element), actions
   *   (RowActions), loader (SessionLoader), search (MessageSearch), open(row) to open a chat,
   *   openHit(row) to open one at its matched message, leaveTop() when ArrowUp leaves the
   *   first row
   */
  constructor(deps) {
    this.deps = deps;
    this.viewport = deps.viewport;
    this.status = deps.status;
    this.view = null; // what every row's paint shares (see rows.updateNode)
    this.activeKey = null; // the row that holds tabindex=0 (roving focus)
    this.renaming = null; // {key, finish(save)} while a title is being edited
    this.shownQuery = 0; // the query whose answer is on screen: a new one starts at the top
    this.list = new VirtualList(deps.viewport, deps.canvas, {
      itemHeight: ROW_HEIGHT,
      overscan: 4,
      create: (type) => (HIT_TYPES.has(type) ? createHitNode(type) : createNode(type)),
      update: (node, item) => this.paint(node, item),
      onRender: () => {
        metrics.renders += 1;
      },
      onNearEnd: () => {
        // Below the title matches come the message hits: their next page once the titles end.
        if (state.nextOffset !== null) deps.loader.loadMore();
        else if (state.q) deps.search.more();
      },
    });
    this.menu = new RowMenu(deps.menu, (action, row) => this.act(action, row));
    this.viewport.addEventListener('click', (event) => this.click(event));
    this.viewport.addEventListener('contextmenu', (event) => this.contextMenu(event));
    this.viewport.addEventListener('keydown', (event) => this.keydown(event));
    this.viewport.addEventListener('focusin', (event) => this.focusIn(event));
    setInterval(() => {
      if (!document.hidden) this.render();
    }, TICK);
  }

  /** Rebuild the items from the state; the virtual list repaints only what changed. */
  render() {
    const rows = shownRows();
    const now = serverNow();
    const items = buildItems(rows, now);
    if (state.q && state.loaded) {
      if (rows.length === 0) items.push({ type: 'note', key: 'titles:note', text: `No chat titles match “${state.q}”` });
      let position = rows.length;
      for (const item of searchItems(state.search)) {
        if (item.type === 'hit') {
          position += 1;
          item.position = position;
        }
        items.push(item);
      }
    }
    this.view = {
      q: state.q,
      openKey: state.openKey,
      now,
      bounds: dayBoundaries(now),
      setSize: items.filter(focusable).length,
      showProfile: state.allProfiles,
    };
    const keys = new Set(items.map((item) => item.key));
    if (this.renaming && !keys.has(this.renaming.key)) this.renaming.finish(false);
    let refocus = false;
    if (!keys.has(this.activeKey)) {
      // The active row went away (deleted, archived, filtered): the row now in its place
      // takes over, keyboard focus included, so Delete, Delete, Delete walks down the list.
      const index = Math.max(0, this.list.indexOf(this.activeKey));
      const next = items.slice(index).find(focusable) ?? items.findLast(focusable);
      refocus = Boolean(next) && this.viewport.contains(document.activeElement);
      this.activeKey = next?.key ?? null;
    }
    this.pin();
    if (state.loaded && state.query !== this.shownQuery) {
      this.shownQuery = state.query;
      this.viewport.scrollTop = 0;
    }
    this.list.setItems(items);
    if (refocus) this.focusIndex(this.list.indexOf(this.activeKey));
    setClass(this.viewport, 'stale', !state.loaded && rows.length > 0);
    this.renderStatus(rows.length);
  }

  /** Keep the active row (and a row being renamed) rendered wherever the list scrolls. */
  pin() {
    this.list.pinned = new Set([this.activeKey, this.renaming?.key].filter(Boolean));
  }

  paint(node, item) {
    let changed = HIT_TYPES.has(item.type)
      ? updateHitNode(node, item, this.view, () => this.deps.search.retry())
      : updateNode(node, item, this.view);
    if (focusable(item)) changed = setAttr(node, 'tabindex', item.key === this.activeKey ? '0' : '-1') || changed;
    return changed;
  }

  renderStatus(count) {
    let text = '';
    let loading = false;
    if (count === 0 && !state.loaded) loading = !state.error;
    else if (count === 0 && state.q) text = ''; // the list says so itself, above "In messages"
    else if (count === 0 && state.source === 'webui') text = 'No Web UI chats yet';
    else if (count === 0 && state.source === 'cli') text = 'No terminal sessions';
    else if (count === 0) text = 'No chats yet';
    setClass(this.status, 'loading', loading);
    setText(this.status.querySelector('.list-status-text'), text);
    setHidden(this.status, !loading && !text);
  }

  itemAt(index) {
    return this.list.items[index] ?? null;
  }

  rowOf(element) {
    const node = element.closest('.session-row, .search-hit');
    if (!node) return null;
    const key = node.dataset.key ?? `${node.dataset.profile}/${node.dataset.sessionId}`;
    const index = this.list.indexOf(key);
    return index >= 0 ? this.itemAt(index) : null;
  }

  click(event) {
    const item = this.rowOf(event.target);
    if (!item || event.target.closest('.rename-input')) return;
    if (item.type === 'hit') {
      this.deps.openHit(item.row);
      return;
    }
    const button = event.target.closest('.row-menu-button');
    if (button) {
      event.stopPropagation();
      this.menu.open(item.row, button, this.list.nodeFor(item.key));
      return;
    }
    this.deps.open(item.row);
  }

  contextMenu(event) {
    const item = this.rowOf(event.target);
    if (!item || item.type !== 'row' || event.target.closest('.rename-input')) return;
    event.preventDefault();
    this.menu.open(item.row, { x: event.clientX, y: event.clientY }, this.list.nodeFor(item.key));
  }

  focusIn(event) {
    const item = this.rowOf(event.target);
    if (!item || item.key === this.activeKey) return;
    this.activeKey = item.key;
    this.pin();
    this.list.schedule();
  }

  /** Move keyboard focus to the row at `index`, scrolling it (and its group header) into view. */
  focusIndex(index) {
    const item = this.itemAt(index);
    if (!item) return;
    const above = this.itemAt(index - 1)?.type;
    if (above === 'header' || above === 'search-header') this.list.scrollToIndex(index - 1);
    this.list.scrollToIndex(index);
    this.activeKey = item.key;
    this.pin();
    this.list.renderNow();
    this.list.nodeFor(item.key)?.focus({ preventScroll: true });
  }

  /** The next row index from `index` in `step` direction, skipping headers; -1 if none. */
  rowIndexFrom(index, step) {
    for (let i = index + step; i >= 0 && i < this.list.items.length; i += step) {
      if (focusable(this.itemAt(i))) return i;
    }
    return -1;
  }

  /** Focus the first row (from the search box's ArrowDown). */
  focusFirst() {
    const first = this.rowIndexFrom(-1, 1);
    if (first >= 0) this.focusIndex(first);
  }

  keydown(event) {
    if (event.target.closest('.rename-input')) return;
    const item = this.rowOf(event.target);
    if (!item) return;
    const index = this.list.indexOf(item.key);
    const page = Math.max(1, Math.floor(this.viewport.clientHeight / ROW_HEIGHT) - 1);
    const last = this.list.items.length;
    const targets = {
      ArrowDown: () => this.rowIndexFrom(index, 1),
      ArrowUp: () => this.rowIndexFrom(index, -1),
      Home: () => this.rowIndexFrom(-1, 1),
      End: () => this.rowIndexFrom(last, -1),
      PageDown: () => this.rowIndexFrom(Math.min(last - 1, index + page) - 1, 1),
      PageUp: () => {
        const target = this.rowIndexFrom(Math.max(0, index - page) + 1, -1);
        return target >= 0 ? target : this.rowIndexFrom(-1, 1);
      },
    };
    if (event.key in targets) {
      event.preventDefault();
      const target = targets[event.key]();
      if (target >= 0) this.focusIndex(target);
      else if (event.key === 'ArrowUp') this.deps.leaveTop();
      return;
    }
    if (item.type === 'hit') {
      if ((event.key === 'Enter' || event.key === ' ') && !event.altKey && !event.ctrlKey && !event.metaKey) {
        event.preventDefault();
        this.deps.openHit(item.row);
      }
      return;
    }
    const menuKey = event.key === 'ContextMenu' || (event.key === 'F10' && event.shiftKey);
    const keys = {
      Enter: () => this.deps.open(item.row),
      ' ': () => this.deps.open(item.row),
      F2: () => this.startRename(item.row),
      Delete: () => this.deps.actions.remove(item.row),
    };
    if (menuKey) {
      event.preventDefault();
      const node = this.list.nodeFor(item.key);
      this.menu.open(item.row, node.querySelector('.row-menu-button'), node);
    } else if (event.key in keys && !event.altKey && !event.ctrlKey && !event.metaKey) {
      event.preventDefault();
      keys[event.key]();
    }
  }

  act(action, row) {
    const { actions } = this.deps;
    if (action === 'rename') this.startRename(row);
    else if (action === 'pin') actions.togglePin(row);
    else if (action === 'archive') actions.toggleArchive(row);
    else if (action === 'delete') actions.remove(row);
  }

  /** Edit the title in place: Enter or leaving the field saves, Escape cancels. */
  startRename(row) {
    const key = rowKey(row);
    const index = this.list.indexOf(key);
    if (index < 0) return;
    this.renaming?.finish(false);
    const input = h('input', {
      class: 'rename-input',
      type: 'text',
      maxlength: '100',
      'aria-label': 'Chat title',
      value: row.title,
    });
    let node = null;
    let done = false;
    const finish = (save, refocus = false) => {
      if (done) return;
      done = true;
      this.renaming = null;
      this.pin();
      input.remove();
      node?.classList.remove('renaming');
      if (save) this.deps.actions.rename(row, input.value);
      if (refocus && node?.isConnected) node.focus({ preventScroll: true });
      this.list.schedule();
    };
    input.addEventListener('keydown', (event) => {
      event.stopPropagation();
      if (event.key === 'Enter' && !event.isComposing) {
        event.preventDefault();
        finish(true, true);
      } else if (event.key === 'Escape') {
        event.preventDefault();
        finish(false, true);
      }
    });
    input.addEventListener('blur', () => finish(true));
    this.renaming = { key, finish };
    this.pin(); // the row stays rendered while its title is edited, wherever the list scrolls
    this.list.scrollToIndex(index);
    this.list.renderNow();
    node = this.list.nodeFor(key);
    node.classList.add('renaming');
    node.append(input);
    input.focus();
    input.select();
  }
}
