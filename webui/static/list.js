// A virtualized list of fixed-height items: only the items near the viewport have DOM nodes.
//
// Nodes are keyed by item key, so an item that stays in range keeps its node across updates,
// and nodes that leave the range go to a pool to be reused. `update(node, item, index)` changes
// a node only where it differs and says whether it did; a render that changed nothing leaves the
// page untouched and does not count as a repaint.

export class VirtualList {
  /**
   * @param {HTMLElement} viewport the scrolling element
   * @param {HTMLElement} canvas its child, sized to the full list, holding the item nodes
   * @param {object} options itemHeight, overscan, create(type), update(node, item, index),
   *   onRender() after a render that changed the DOM, onNearEnd() when the end is in range
   */
  constructor(viewport, canvas, options) {
    this.viewport = viewport;
    this.canvas = canvas;
    this.itemHeight = options.itemHeight;
    this.overscan = options.overscan ?? 6;
    this.create = options.create;
    this.update = options.update;
    this.onRender = options.onRender ?? (() => {});
    this.onNearEnd = options.onNearEnd ?? (() => {});
    this.items = [];
    this.indexByKey = new Map();
    this.nodes = new Map(); // key -> node currently in the canvas
    this.pools = new Map(); // item type -> detached nodes ready for reuse
    // Keys whose nodes stay rendered even when scrolled away: the row holding keyboard focus
    // (so Tab can return to it and focus is never dropped) and a row being renamed.
    this.pinned = new Set();
    this.frame = 0;
    viewport.addEventListener('scroll', () => this.schedule(), { passive: true });
    new ResizeObserver(() => this.schedule()).observe(viewport);
  }

  /** Replace the items. While scrolled down, the first visible item stays where it was. */
  setItems(items) {
    const anchor = this.viewport.scrollTop > 0 ? this.firstVisible() : null;
    this.items = items;
    this.indexByKey = new Map(items.map((item, index) => [item.key, index]));
    if (anchor && this.indexByKey.has(anchor.key)) {
      const top = this.indexByKey.get(anchor.key) * this.itemHeight + anchor.offset;
      if (Math.abs(top - this.viewport.scrollTop) >= 1) this.viewport.scrollTop = top;
    }
    this.schedule();
  }

  firstVisible() {
    const index = Math.floor(this.viewport.scrollTop / this.itemHeight);
    const item = this.items[index];
    return item ? { key: item.key, offset: this.viewport.scrollTop - index * this.itemHeight } : null;
  }

  indexOf(key) {
    return this.indexByKey.get(key) ?? -1;
  }

  nodeFor(key) {
    return this.nodes.get(key) ?? null;
  }

  schedule() {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.render();
    });
  }

  /** Render now (for keyboard moves that must focus the new node in the same task). */
  renderNow() {
    if (this.frame) cancelAnimationFrame(this.frame);
    this.frame = 0;
    this.render();
  }

  /** Scroll the least distance that shows item `index` whole. */
  scrollToIndex(index) {
    const top = index * this.itemHeight;
    const bottom = top + this.itemHeight;
    const view = this.viewport;
    if (top < view.scrollTop) view.scrollTop = top;
    else if (bottom > view.scrollTop + view.clientHeight) view.scrollTop = bottom - view.clientHeight;
  }

  visibleRange() {
    const height = this.itemHeight;
    const first = Math.floor(this.viewport.scrollTop / height);
    const last = Math.ceil((this.viewport.scrollTop + this.viewport.clientHeight) / height);
    return {
      start: Math.max(0, first - this.overscan),
      end: Math.min(this.items.length, last + this.overscan),
    };
  }

  render() {
    let changed = false;
    const height = `${this.items.length * this.itemHeight}px`;
    if (this.canvas.style.height !== height) {
      this.canvas.style.height = height;
      changed = true;
    }
    const { start, end } = this.visibleRange();
    const wanted = new Set();
    for (let index = start; index < end; index += 1) wanted.add(this.items[index].key);
    for (const key of this.pinned) if (this.indexByKey.has(key)) wanted.add(key);

    for (const [key, node] of this.nodes) {
      if (wanted.has(key)) continue;
      // The focused node stays while its item exists, wherever it scrolled to.
      if (this.indexByKey.has(key) && node.contains(document.activeElement)) continue;
      node.remove();
      this.nodes.delete(key);
      this.poolFor(node.dataset.itemType).push(node);
      changed = true;
    }
    for (const key of wanted) changed = this.place(key) || changed;
    for (const [key] of this.nodes) if (!wanted.has(key)) changed = this.place(key) || changed;
    changed = this.order() || changed;

    if (changed) this.onRender();
    if (this.items.length > 0 && end >= this.items.length - this.overscan) this.onNearEnd();
  }

  /**
   * Keep the nodes in list order in the DOM too (positions come from transforms), so screen
   * readers and querySelectorAll see the rows as shown. Only out-of-order nodes move.
   */
  order() {
    const focused = document.activeElement;
    const sorted = [...this.nodes].sort(([a], [b]) => this.indexByKey.get(a) - this.indexByKey.get(b));
    let cursor = this.canvas.firstElementChild;
    let moved = false;
    for (const [, node] of sorted) {
      if (node === cursor) {
        cursor = cursor.nextElementSibling;
        continue;
      }
      this.canvas.insertBefore(node, cursor);
      moved = true;
    }
    // Moving a node drops its focus: give it back.
    if (moved && focused !== document.activeElement && focused?.isConnected) focused.focus({ preventScroll: true });
    return moved;
  }

  poolFor(type) {
    if (!this.pools.has(type)) this.pools.set(type, []);
    return this.pools.get(type);
  }

  /** Give the item `key` a node at its position; true when the DOM changed. */
  place(key) {
    const index = this.indexByKey.get(key);
    const item = this.items[index];
    let node = this.nodes.get(key);
    let changed = false;
    if (!node) {
      node = this.poolFor(item.type).pop() ?? this.create(item.type);
      node.dataset.itemType = item.type;
      this.canvas.append(node); // order() puts it in its place
      this.nodes.set(key, node);
      changed = true;
    }
    changed = this.update(node, item, index) || changed;
    const transform = `translateY(${index * this.itemHeight}px)`;
    if (node.style.transform !== transform) {
      node.style.transform = transform;
      changed = true;
    }
    return changed;
  }
}
