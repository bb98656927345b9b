// Keeping the list live: Server-Sent Events first, polling as the fallback.
//
// - `sessions_changed` for our profile (or "*") asks for a refresh 100 ms later; a burst of
//   events within those 100 ms is one refresh, and a steady stream of them (a busy agent
//   committing token by token) refreshes at most once a second.
// - A poll runs 5 s after the last refresh settled (2 s while a row streams), whether or not
//   events flow: a missed event never leaves the list stale for long, and the server answers
//   an unchanged poll with a cheap 304.
// - After a failure the next try backs off (1 s, 2 s, 4 s … 30 s).
// - An answer from a list the server was still rebuilding (stale) is followed by another
//   refresh half a second later, a few times in a row at most (a locked database stays stale).
// - While the tab is hidden nothing is scheduled; becoming visible refreshes at once.

const EVENT_DELAY = 100;
const EVENT_MIN_GAP = 1000;
const IDLE_POLL = 5000;
const STREAMING_POLL = 2000;
const MAX_BACKOFF = 30000;
const STALE_RETRY = 500;
const STALE_RETRIES = 3;

function backoffDelay(failures) {
  return Math.min(MAX_BACKOFF, 1000 * 2 ** Math.max(0, failures - 1));
}

export class LiveUpdates {
  /**
   * @param {object} hooks refresh(), isStreaming(), wants(profile) for an event's profile,
   *   onSettingsChanged() when another client changed the settings, onAnyChange(profile) for
   *   every change event (another profile's count in the picker may have moved)
   */
  constructor(hooks) {
    this.hooks = hooks;
    this.source = null;
    this.sourceFailures = 0;
    this.connectedBefore = false;
    this.failures = 0;
    this.staleRetries = 0;
    this.pollTimer = null;
    this.eventTimer = null;
    this.eventRefreshAt = 0; // when an event last caused a refresh
    this.nextAt = null; // when the next scheduled refresh runs (for the error banner)
    this.stopped = false;
    this.idlePoll = IDLE_POLL;
    this.streamingPoll = STREAMING_POLL;
  }

  /** The server's poll intervals (seconds), from /api/health's `client` block. */
  configure({ idle_poll_interval: idle, stream_poll_interval: streaming } = {}) {
    if (idle > 0) this.idlePoll = idle * 1000;
    if (streaming > 0) this.streamingPoll = streaming * 1000;
    // The first poll was scheduled before the intervals arrived: put it on the server's.
    if (this.pollTimer !== null && this.failures === 0) this.schedule();
  }

  start() {
    document.addEventListener('visibilitychange', () => this.visibilityChanged());
    this.connect();
  }

  /** For good (signed out): no events, no polls. */
  stop() {
    this.stopped = true;
    this.source?.close();
    this.source = null;
    clearTimeout(this.pollTimer);
    clearTimeout(this.eventTimer);
  }

  connect() {
    const source = new EventSource('/api/sessions/events');
    this.source = source;
    source.addEventListener('open', () => {
      this.sourceFailures = 0;
      // Reconnected after a gap: events may have been missed, so catch up.
      if (this.connectedBefore) this.changed();
      this.connectedBefore = true;
    });
    source.addEventListener('sessions_changed', (event) => {
      let data;
      try {
        data = JSON.parse(event.data);
      } catch {
        return; // not ours to interpret; the poll still keeps the list right
      }
      if (data.reason === 'settings') this.hooks.onSettingsChanged();
      this.hooks.onAnyChange?.(data.profile);
      if (this.hooks.wants(data.profile)) this.changed();
    });
    source.addEventListener('error', () => {
      // CONNECTING: the browser retries by itself. CLOSED: it gave up (an HTTP error such as
      // 401 or 503), so reconnect ourselves, backing off; polling covers the gap meanwhile.
      if (source.readyState !== EventSource.CLOSED || this.source !== source) return;
      this.sourceFailures += 1;
      setTimeout(() => {
        if (this.source === source) this.connect();
      }, backoffDelay(this.sourceFailures + 1));
    });
  }

  /** Something may have changed: refresh soon (coalescing bursts), or once visible again. */
  changed() {
    // Hidden: nothing to do now, becoming visible refreshes anyway.
    if (document.hidden || this.stopped || this.eventTimer !== null) return;
    const wait = Math.max(EVENT_DELAY, this.eventRefreshAt + EVENT_MIN_GAP - Date.now());
    this.eventTimer = setTimeout(() => {
      this.eventTimer = null;
      this.eventRefreshAt = Date.now();
      this.hooks.refresh();
    }, wait);
  }

  /** A refresh finished: schedule the next poll, or the next retry after a failure. */
  settled(ok, stale = false) {
    this.failures = ok ? 0 : this.failures + 1;
    const again = stale && this.staleRetries < STALE_RETRIES;
    this.staleRetries = stale ? this.staleRetries + 1 : 0;
    this.schedule(again ? STALE_RETRY : null);
  }

  schedule(soon = null) {
    clearTimeout(this.pollTimer);
    this.pollTimer = null;
    this.nextAt = null;
    if (document.hidden || this.stopped) return;
    let delay = this.idlePoll;
    if (this.failures > 0) delay = backoffDelay(this.failures);
    else if (this.hooks.isStreaming()) delay = this.streamingPoll;
    if (soon !== null) delay = Math.min(delay, soon);
    this.nextAt = Date.now() + delay;
    this.pollTimer = setTimeout(() => {
      this.pollTimer = null;
      this.nextAt = null;
      this.hooks.refresh();
    }, delay);
  }

  visibilityChanged() {
    if (this.stopped) return;
    if (document.hidden) {
      clearTimeout(this.pollTimer);
      clearTimeout(this.eventTimer);
      this.pollTimer = null;
      this.eventTimer = null;
      this.nextAt = null;
      return;
    }
    this.hooks.refresh();
  }
}
