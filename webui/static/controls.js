// What the person changes about the list: profile, search, source tab, settings toggles.
// Each change updates `state`, tells the views, and resets the loader for the new query.

import { describeError, request } from './api.js';
import { STORAGE, emit, remember, state } from './store.js';

const PROFILES_EVERY = 5000; // profile counts are a nicety: refresh them at most this often

export class ListControls {
  /** @param {object} deps loader (SessionLoader), notify(message) for errors */
  constructor({ loader, notify }) {
    this.loader = loader;
    this.notify = notify;
    this.profilesAt = 0;
    this.profilesTimer = null;
  }

  async loadSettings() {
    const { data } = await request('GET', '/api/settings');
    const changed = JSON.stringify(data) !== JSON.stringify(state.settings);
    state.settings = data;
    if (changed) emit('meta');
    return changed;
  }

  /** Another client changed the settings: take them, and re-query if the list depends on them. */
  async settingsChanged() {
    try {
      if (await this.loadSettings()) this.loader.reset({ clear: false });
    } catch (err) {
      this.notify(`Couldn't load settings: ${describeError(err)}`);
    }
  }

  async loadProfiles() {
    this.profilesAt = Date.now();
    const { data } = await request('GET', '/api/profiles');
    if (JSON.stringify(data) === JSON.stringify(state.profiles)) return;
    state.profiles = data;
    if (state.profile === null) state.profile = data.active;
    emit('meta');
  }

  /** Refresh the picker's counts soon, at most once per PROFILES_EVERY. */
  refreshProfiles() {
    if (this.profilesTimer !== null) return;
    const wait = Math.max(0, this.profilesAt + PROFILES_EVERY - Date.now());
    this.profilesTimer = setTimeout(() => {
      this.profilesTimer = null;
      this.loadProfiles().catch(() => {}); // the list's own error handling reports outages
    }, wait);
  }

  /** `name` is a profile name, or "*" for every profile at once. */
  switchProfile(name) {
    const all = name === '*';
    if (all === state.allProfiles && (all || name === state.profile)) return;
    state.allProfiles = all;
    if (!all) state.profile = name;
    remember(STORAGE.ALL_PROFILES_KEY, all);
    this.loader.reset({ clear: true });
    emit('meta');
    if (!all) {
      request('POST', '/api/profile/switch', { body: { profile: name } }).catch((err) =>
        this.notify(`Couldn't remember the profile: ${describeError(err)}`),
      );
    }
  }

  setSource(source) {
    if (source === state.source) return;
    state.source = source;
    remember(STORAGE.SOURCE_KEY, source);
    this.loader.reset({ clear: false });
    emit('meta');
  }

  setQuery(q) {
    if (q === state.q) return;
    state.q = q;
    this.loader.reset({ clear: false });
    emit('rows');
  }

  setIncludeArchived(value) {
    if (value === state.includeArchived) return;
    state.includeArchived = value;
    remember(STORAGE.ARCHIVED_KEY, value);
    this.loader.reset({ clear: false });
    emit('meta');
  }

  /** Flip one show_* setting: at once in this tab, then persisted; reverted if refused. */
  async setGate(name, value) {
    if (!state.settings || state.settings[name] === value) return;
    const before = state.settings;
    state.settings = { ...before, [name]: value };
    this.loader.reset({ clear: false });
    emit('meta');
    try {
      const { data } = await request('PATCH', '/api/settings', { body: { [name]: value } });
      state.settings = data;
      emit('meta');
    } catch (err) {
      if (state.settings[name] !== value) return; // changed again meanwhile: that one decides
      state.settings = before;
      this.loader.reset({ clear: false });
      emit('meta');
      this.notify(`Couldn't save the setting: ${describeError(err)}`);
    }
  }
}
