// Small transient notices at the bottom of the sidebar, optionally with one action ("Undo").

import { h } from './dom.js';

const MAX_SHOWN = 3;

export class Toasts {
  constructor(region) {
    this.region = region; // an aria-live region, so screen readers hear each notice
  }

  /** Show `message`; returns a function that dismisses it early. */
  show(message, { action = null, kind = 'info', timeout = 6000 } = {}) {
    const toast = h('div', { class: `toast toast-${kind}` }, h('span', { class: 'toast-text' }, message));
    let timer = null;
    const dismiss = () => {
      clearTimeout(timer);
      toast.remove();
    };
    if (action) {
      toast.append(
        h('button', {
          class: 'toast-action',
          type: 'button',
          onclick: () => {
            dismiss();
            action.run();
          },
        }, action.label),
      );
    }
    toast.append(h('button', { class: 'toast-close', type: 'button', 'aria-label': 'Dismiss', onclick: dismiss }, '×'));
    this.region.append(toast);
    while (this.region.children.length > MAX_SHOWN) this.region.firstElementChild.remove();
    // Keep the notice while the pointer is over it: an Undo should not vanish under the cursor.
    const arm = () => {
      timer = setTimeout(dismiss, timeout);
    };
    toast.addEventListener('pointerenter', () => clearTimeout(timer));
    toast.addEventListener('pointerleave', arm);
    arm();
    return dismiss;
  }

  error(message) {
    return this.show(message, { kind: 'error', timeout: 8000 });
  }
}
