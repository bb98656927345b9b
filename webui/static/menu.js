// The row menu (⋯ button, right-click, Shift+F10 or the context-menu key): a popup of menu items
// with keyboard support that hands the chosen action back to the sidebar.

import { h } from './dom.js';

export class RowMenu {
  /**
   * @param {HTMLElement} element the (initially hidden) role="menu" container
   * @param {(action: string, row: object) => void} choose called with rename|pin|archive|delete
   */
  constructor(element, choose) {
    this.element = element;
    this.choose = choose;
    this.row = null;
    this.returnFocus = null;
    element.addEventListener('keydown', (event) => this.keydown(event));
    document.addEventListener('pointerdown', (event) => {
      if (this.row && !element.contains(event.target)) this.close(false);
    }, true);
    window.addEventListener('resize', () => this.close(false));
  }

  get isOpen() {
    return this.row !== null;
  }

  /**
   * Open for `row` next to `anchor` (an element, or {x, y} of a pointer); focus returns to
   * `returnFocus` when the menu closes by keyboard.
   */
  open(row, anchor, returnFocus) {
    this.close(false);
    this.row = row;
    this.returnFocus = returnFocus;
    const items = [
      ['rename', 'Rename'],
      ['pin', row.pinned ? 'Unpin' : 'Pin'],
      ['archive', row.archived ? 'Unarchive' : 'Archive'],
      ['delete', 'Delete'],
    ];
    this.element.replaceChildren(
      ...items.map(([action, label]) =>
        h('button', {
          type: 'button',
          role: 'menuitem',
          tabindex: '-1',
          class: `menu-item${action === 'delete' ? ' danger' : ''}`,
          'data-action': action,
          onclick: () => this.pick(action),
        }, label),
      ),
    );
    this.element.hidden = false;
    this.place(anchor);
    returnFocus?.classList.add('menu-open');
    this.element.firstElementChild.focus();
  }

  /** Below the anchor, or above it when there is no room below; always inside the window. */
  place(anchor) {
    const rect =
      anchor instanceof Element ? anchor.getBoundingClientRect() : { left: anchor.x, top: anchor.y, bottom: anchor.y };
    const { width, height } = this.element.getBoundingClientRect();
    const top = rect.bottom + height + 8 > window.innerHeight ? rect.top - height : rect.bottom;
    this.element.style.left = `${Math.max(8, Math.min(rect.left, window.innerWidth - width - 8))}px`;
    this.element.style.top = `${Math.max(8, top)}px`;
  }

  pick(action) {
    const row = this.row;
    this.close(action !== 'rename'); // rename moves focus into its own input
    this.choose(action, row);
  }

  close(restoreFocus) {
    if (!this.row) return;
    this.row = null;
    this.element.hidden = true;
    this.element.replaceChildren();
    this.returnFocus?.classList.remove('menu-open');
    if (restoreFocus && this.returnFocus?.isConnected) this.returnFocus.focus();
    this.returnFocus = null;
  }

  keydown(event) {
    const items = [...this.element.querySelectorAll('[role="menuitem"]')];
    const index = items.indexOf(document.activeElement);
    const moves = {
      ArrowDown: (index + 1) % items.length,
      ArrowUp: (index - 1 + items.length) % items.length,
      Home: 0,
      End: items.length - 1,
    };
    if (event.key in moves) {
      event.preventDefault();
      items[moves[event.key]].focus();
    } else if (event.key === 'Escape' || event.key === 'Tab') {
      event.preventDefault();
      this.close(true);
    }
  }
}
