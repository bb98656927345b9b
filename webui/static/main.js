// Start-up: build the parts, connect them through the store's signals, load, go live.
//
//   SessionLoader (sessions.js)  fetches the list into `state`, one request at a time
//   LiveUpdates   (events.js)    decides when to refresh: events, polls, retries, visibility
//   ListControls  (controls.js)  profile / search / tab / toggle changes -> new query
//   MessageSearch (search.js)    follows the query: the "In messages" hits of a search
//   SessionListView (listview.js) + Sidebar (sidebar.js) + ChatPane (chat.js) paint `state`

import { ApiError, NetworkError, onUnauthorized, request } from './api.js';
import { RowActions } from './actions.js';
import { ChatPane, locationTarget } from './chat.js';
import { ListControls } from './controls.js';
import { byId } from './dom.js';
import { LiveUpdates } from './events.js';
import { SessionListView } from './listview.js';
import { MessageSearch } from './search.js';
import { SessionLoader } from './sessions.js';
import { Sidebar } from './sidebar.js';
import { ErrorBanner, showLogin } from './status.js';
import { SHARED_SCOPES, metrics, on, shownRows, state } from './store.js';
import { isActive } from './time.js';
import { Toasts } from './toast.js';

const toasts = new Toasts(byId('toasts'));
const chat = new ChatPane(byId('chat'), { toasts });

const live = new LiveUpdates({
  refresh: () => loader.refresh(),
  isStreaming: () => state.chat.streaming || shownRows().some(isActive),
  // Shared scopes (Claude Code) are in every profile's list.
  wants: (profile) => profile === '*' || state.allProfiles || profile === state.profile || SHARED_SCOPES.has(profile),
  onSettingsChanged: () => controls.settingsChanged(),
  onAnyChange: () => {
    if (!document.hidden) controls.refreshProfiles();
  },
});

const loader = new SessionLoader({ onSettled: settled });
const search = new MessageSearch();
const controls = new ListControls({ loader, notify: (message) => toasts.error(message) });
const actions = new RowActions({
  toasts,
  onDeleted: (key) => {
    if (key === state.openKey) chat.close();
  },
  refresh: () => loader.refresh(),
});

const listView = new SessionListView({
  viewport: byId('session-list'),
  canvas: document.querySelector('#session-list .list-canvas'),
  status: document.querySelector('.list-status'),
  menu: byId('row-menu'),
  actions,
  loader,
  search,
  open: (row) => chat.open(row),
  openHit: (hit) => {
    const { match, ...row } = hit;
    chat.open(row, { match });
  },
  leaveTop: () => byId('search').focus(),
});
const sidebar = new Sidebar({ controls, listView, newChat: () => chat.newChat() });
const banner = new ErrorBanner(byId('error-banner'), {
  retry: () => loader.refresh(),
  retryAt: () => live.nextAt,
});

function settled(ok, err, stale) {
  live.settled(ok, stale);
  if (ok) {
    // Settings and profiles load beside the list; after an outage, load what is missing.
    // (The list asked without settings gets the server's, the same ones: no need to re-ask.)
    if (state.settings === null) controls.loadSettings().catch(() => {});
    if (state.profiles === null) controls.refreshProfiles();
    return;
  }
  if (err instanceof ApiError && err.code === 'unknown_profile' && !state.allProfiles) {
    // The profile went away (its folder was removed): fall back to the server's choice.
    toasts.error(`Profile “${state.profile}” no longer exists.`);
    state.profile = null;
    state.profiles = null;
    loader.reset({ clear: true });
  } else if (!(err instanceof ApiError || err instanceof NetworkError)) {
    console.error(err); // a bug of ours, not a server answer: say so loudly
  }
}

on('rows', () => {
  search.update(); // a new query or scope searches the messages again
  listView.render();
  chat.rowsChanged();
  if (state.loaded) controls.refreshProfiles();
});
on('meta', () => {
  if (search.update()) listView.render();
  sidebar.render();
  // Another profile was picked: a chat of the one left behind is no longer in view. (A chat of
  // a shared scope, such as a Claude Code session, is in every profile's list.)
  const { profile } = state.chat;
  if (state.openKey !== null && !state.allProfiles && profile !== state.profile && !SHARED_SCOPES.has(profile)) {
    chat.close();
  }
});
on('error', () => banner.render());
on('chat', () => chat.render());

onUnauthorized(() => {
  state.authRequired = true;
  live.stop();
  banner.render();
  showLogin();
});

// For tests and debugging: the live state and the counters.
window.__webui = { state, metrics };

// An address naming a chat (#/profile/id) shows that chat's profile.
const target = locationTarget();
if (target && !SHARED_SCOPES.has(target.profile)) {
  state.profile = target.profile;
  state.allProfiles = false;
}
sidebar.render();
listView.render();
chat.render();
Promise.all([controls.loadSettings(), controls.loadProfiles()]).catch(() => {
  // The list request below reports an outage; `settled` loads these once it is over.
});
loader.refresh();
live.start();
// The poll intervals are server settings; until they arrive the defaults (5 s / 2 s) apply.
request('GET', '/api/health')
  .then(({ data }) => live.configure(data.client))
  .catch(() => {});
if (target) chat.openTarget(target);
