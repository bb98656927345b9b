// The sidebar's controls: profile picker, New chat, search box, source tabs and the settings
// popover. They read `state` to paint themselves and send changes to ListControls.

import { byId, debounce, h, setAttr, setClass, setHidden, setText } from './dom.js';
import { state } from './store.js';

const SEARCH_DELAY = 200;

const COMPACT = new Intl.NumberFormat('en-US', { notation: 'compact', maximumFractionDigits: 1 });

function formatCount(count) {
  return typeof count === 'number' ? count.toLocaleString('en-US') : '';
}

/** Tab counts have little room: 12,345 shows as 12.3K (the exact number is the tooltip). */
function shortCount(count) {
  if (typeof count !== 'number') return '';
  return count < 10000 ? formatCount(count) : COMPACT.format(count);
}

/** What `counts` covers of the "All" list: every counted kind the toggles let in. */
function countedKinds(counts) {
  const settings = state.settings ?? {};
  let total = counts.webui + counts.messaging;
  if (settings.show_cli ?? true) total += counts.cli;
  if (settings.show_cron) total += counts.cron;
  if (settings.show_webhook) total += counts.webhook;
  // Counted only by servers that have the source (and so the setting).
  if (settings.show_claude_code ?? true) total += counts['claude-code'] ?? 0;
  return total;
}

/** The list's scope apart from the tab and the search: what the "All" count depends on. */
function scope() {
  const gates = state.settings ? Object.entries(state.settings).filter(([name]) => name.startsWith('show_')) : [];
  return JSON.stringify([state.profile, state.allProfiles, state.includeArchived, gates]);
}

/**
 * True when the loaded list is what the picker's count counts (the server counts a profile's
 * list with no parameters: every source, no search, no archived, the saved toggles).
 */
function listCountsAsPicker() {
  return state.loaded && state.source === 'all' && !state.q && !state.includeArchived && state.settings !== null;
}

/** How many rows of shared sources (Claude Code) the lists show, as far as the counts say. */
function sharedRows() {
  const claude = state.counts?.['claude-code'];
  return typeof claude === 'number' && (state.settings?.show_claude_code ?? true) ? claude : 0;
}

export class Sidebar {
  /** @param {object} deps controls (ListControls), listView (SessionListView), newChat() */
  constructor({ controls, listView, newChat }) {
    this.controls = controls;
    this.listView = listView;
    this.profileSelect = byId('profile-select');
    this.profileOptions = '';
    // `counts` has no entry for some kinds (api, other): the "All" tab learns how many rows
    // those are from the unfiltered list's total, and keeps adding them on the other tabs.
    this.uncounted = { scope: null, rows: 0 };
    this.search = byId('search');
    this.tabs = [...document.querySelectorAll('.source-tab')];
    this.settingsButton = byId('settings-button');
    this.popover = byId('settings-popover');
    this.gates = [...this.popover.querySelectorAll('[data-setting]')];
    this.archived = byId('show-archived');

    this.profileSelect.addEventListener('change', () => controls.switchProfile(this.profileSelect.value));
    for (const button of document.querySelectorAll('[data-action="new-chat"]')) button.addEventListener('click', newChat);
    this.wireSearch();
    this.wireTabs();
    this.wireSettings();
    document.addEventListener('keydown', (event) => {
      const mod = event.ctrlKey || event.metaKey;
      if (mod && !event.shiftKey && event.key.toLowerCase() === 'k') {
        event.preventDefault();
        this.search.focus();
        this.search.select();
      } else if (mod && event.shiftKey && event.key.toLowerCase() === 'o') {
        event.preventDefault();
        newChat();
      }
    });
  }

  wireSearch() {
    const apply = debounce(() => this.controls.setQuery(this.search.value.trim()), SEARCH_DELAY);
    this.search.addEventListener('input', apply);
    this.search.addEventListener('keydown', (event) => {
      if (event.key === 'Enter') {
        apply.cancel();
        this.controls.setQuery(this.search.value.trim());
      } else if (event.key === 'ArrowDown') {
        event.preventDefault();
        this.listView.focusFirst();
      } else if (event.key === 'Escape' && this.search.value) {
        event.preventDefault();
        apply.cancel();
        this.search.value = '';
        this.controls.setQuery('');
      }
    });
  }

  wireTabs() {
    for (const tab of this.tabs) tab.addEventListener('click', () => this.controls.setSource(tab.dataset.source));
    // Arrow keys move along the tabs and select (the tablist pattern, automatic activation).
    this.tabs[0].parentElement.addEventListener('keydown', (event) => {
      const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
      if (!step) return;
      event.preventDefault();
      const index = this.tabs.findIndex((tab) => tab.dataset.source === state.source);
      const next = this.tabs[(index + step + this.tabs.length) % this.tabs.length];
      this.controls.setSource(next.dataset.source);
      next.focus();
    });
  }

  wireSettings() {
    this.settingsButton.addEventListener('click', () => this.toggleSettings(this.popover.hidden));
    for (const input of this.gates) {
      input.addEventListener('change', () => this.controls.setGate(input.dataset.setting, input.checked));
    }
    this.archived.addEventListener('change', () => this.controls.setIncludeArchived(this.archived.checked));
    this.popover.addEventListener('keydown', (event) => {
      if (event.key !== 'Escape') return;
      event.preventDefault();
      this.toggleSettings(false);
      this.settingsButton.focus();
    });
    document.addEventListener('pointerdown', (event) => {
      const inside = this.popover.contains(event.target) || this.settingsButton.contains(event.target);
      if (!this.popover.hidden && !inside) this.toggleSettings(false);
    });
  }

  toggleSettings(open) {
    this.popover.hidden = !open;
    this.settingsButton.setAttribute('aria-expanded', String(open));
    if (open) this.popover.querySelector('input:not(:disabled)')?.focus();
  }

  /** Paint profiles, tabs and toggles; each part changes the DOM only where it differs. */
  render() {
    this.renderProfiles();
    this.renderTabs();
    this.renderSettings();
  }

  renderProfiles() {
    const listed = state.profiles?.profiles ?? (state.profile ? [{ name: state.profile, session_count: null }] : []);
    // A profile's count is its own sessions; rows of shared sources (Claude Code) are in every
    // profile's list but no profile's count, and count once in "All profiles".
    const shared = sharedRows();
    // The list on screen counts what the picker counts: its total is the newer number (the
    // picker's own counts are refreshed only every few seconds).
    const exact = listCountsAsPicker() ? state.total - shared : null;
    const known = listed.map((p) =>
      exact !== null && !state.allProfiles && p.name === state.profile ? { ...p, session_count: exact } : p,
    );
    const options = known.map((p) => [p.name, p.session_count === null ? p.name : `${p.name} · ${formatCount(p.session_count)}`]);
    if (known.length > 1) {
      let sum = known.reduce((total, p) => total + (p.session_count ?? 0), 0) + shared;
      if (exact !== null && state.allProfiles) sum = state.total;
      options.push(['*', `All profiles · ${formatCount(sum)}`]);
    }
    const signature = JSON.stringify(options);
    if (signature !== this.profileOptions) {
      this.profileOptions = signature;
      this.profileSelect.replaceChildren(...options.map(([value, label]) => h('option', { value }, label)));
    }
    const value = state.allProfiles ? '*' : state.profile ?? '';
    if (this.profileSelect.value !== value) this.profileSelect.value = value;
    if (this.profileSelect.disabled !== (options.length === 0)) this.profileSelect.disabled = options.length === 0;
  }

  renderTabs() {
    const counts = state.counts;
    if (counts && state.loaded && state.source === 'all' && !state.q) {
      this.uncounted = { scope: scope(), rows: Math.max(0, state.total - countedKinds(counts)) };
    }
    const uncounted = this.uncounted.scope === scope() ? this.uncounted.rows : 0;
    for (const tab of this.tabs) {
      const source = tab.dataset.source;
      const selected = source === state.source;
      let count = null;
      if (counts) count = source === 'all' ? countedKinds(counts) + uncounted : counts[source];
      setText(tab.querySelector('.tab-count'), shortCount(count));
      setAttr(tab, 'title', count === null ? null : `${formatCount(count)} chats`);
      setAttr(tab, 'aria-selected', String(selected));
      setAttr(tab, 'tabindex', selected ? '0' : '-1');
      setClass(tab, 'selected', selected);
    }
  }

  renderSettings() {
    for (const input of this.gates) {
      const name = input.dataset.setting;
      const value = Boolean(state.settings?.[name]);
      if (input.checked !== value) input.checked = value;
      if (input.disabled !== !state.settings) input.disabled = !state.settings;
      // A toggle the server has no setting for (a source it does not have) is not offered.
      const label = input.closest('.toggle');
      if (state.settings) setHidden(label, !(name in state.settings));
      const count = label.querySelector('.gate-count');
      if (count) {
        const n = state.counts?.[count.dataset.kind];
        setText(count, typeof n === 'number' ? ` (${formatCount(n)})` : '');
      }
    }
    if (this.archived.checked !== state.includeArchived) this.archived.checked = state.includeArchived;
    const archivedCount = state.counts?.archived;
    setText(this.popover.querySelector('.archived-count'), archivedCount ? ` (${formatCount(archivedCount)})` : '');
  }
}
