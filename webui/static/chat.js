// The chat pane: one session's messages, the composer, and the reply streaming in.
//
// Message text is always set as text (white-space is kept by CSS), never parsed as HTML.
// A stream's EventSource replays the reply from its start to every new connection, so after a
// reconnect the first token replaces what is shown instead of being appended to it.

import { ApiError, describeError, request, sessionPath, streamPath } from './api.js';
import { h, highlightedTerms, setAttr, setHidden, setText } from './dom.js';
import { emit, rowKey, shownRows, state } from './store.js';
import { fullTime } from './time.js';

const PAGE = 500;
const STREAM_RETRIES = 3;
const NEAR_BOTTOM = 80; // px: closer than this to the end, new text keeps the view at the end
const MAX_COMPOSER = 200; // px the composer grows to before it scrolls
const ROLE_LABELS = { user: 'You', assistant: 'Assistant', system: 'System', tool: 'Tool' };
const IDLE_CHAT = { profile: null, sessionId: null, streamId: null, streaming: false, loading: false, readOnly: null };
const COMPOSER_HINT = 'Enter to send · Shift+Enter for a new line';

/** Why a session cannot take a message from here, or null when it can. */
function readOnlyReason(row) {
  if (row.source_kind === 'claude-code') return 'Claude Code sessions are read-only here';
  return null;
}

/** The words a search hit marked in its snippet: what to mark in the message itself. */
function matchedTerms(match) {
  const chars = Array.from(match?.snippet ?? '');
  const ranges = Array.isArray(match?.ranges) ? match.ranges : [];
  return ranges.map(([start, end]) => chars.slice(start, end).join('').trim()).filter(Boolean);
}

function parse(data) {
  try {
    return JSON.parse(data);
  } catch {
    return null;
  }
}

function messageNode(message) {
  const role = message.role in ROLE_LABELS ? message.role : 'other';
  const body = h('div', { class: 'message-body' }, message.content ?? '');
  const attrs = {
    class: `message message-${role}`,
    'data-role': message.role,
    'data-message-id': message.id ?? null,
    title: fullTime(message.timestamp) || null,
  };
  if (role === 'tool') {
    // Tool output is often long and rarely read: folded by default.
    return h('details', attrs, h('summary', { class: 'message-role' }, 'Tool output'), body);
  }
  return h('article', attrs, h('div', { class: 'message-role' }, ROLE_LABELS[role] ?? message.role), body);
}

/** The chat the address names (#/profile/id, as `open` writes it), or null. */
export function locationTarget() {
  const match = /^#\/([a-z0-9][a-z0-9_-]{0,63})\/([^/]+)$/.exec(window.location.hash);
  if (!match) return null;
  try {
    return { profile: match[1], sessionId: decodeURIComponent(match[2]) };
  } catch {
    return null; // a malformed escape: not an address we wrote
  }
}

/** Messages worth a bubble: tool-call-only assistant turns have no text to show. */
function shown(message) {
  return message.role === 'user' || (typeof message.content === 'string' && message.content.length > 0);
}

export class ChatPane {
  /** @param {HTMLElement} root the <main> element; deps: toasts (Toasts) */
  constructor(root, { toasts }) {
    this.toasts = toasts;
    this.el = {
      empty: root.querySelector('.chat-empty'),
      header: root.querySelector('.chat-header'),
      title: root.querySelector('.chat-title'),
      badge: root.querySelector('.chat-subtitle .source-badge'),
      model: root.querySelector('.chat-model'),
      scroll: root.querySelector('.chat-scroll'),
      messages: root.querySelector('.chat-messages'),
      notice: root.querySelector('.chat-notice'),
      form: root.querySelector('.composer'),
      input: root.querySelector('#composer-input'),
      send: root.querySelector('.send-button'),
      stop: root.querySelector('.stop-button'),
      hint: root.querySelector('.composer-hint'),
    };
    this.target = null; // {messageId, terms} to scroll to once the messages are loaded
    this.generation = 0; // bumped whenever another session opens: older answers are dropped
    this.stream = null; // {id, source, retries, fresh, text} of the reply being watched
    this.finished = new Set(); // stream ids seen to end: a stale list row never re-attaches
    this.sending = false;
    this.creating = false;
    this.activity = 0; // bumped by every send and watch: a reload that began before is stale
    this.drafts = new Map(); // unsent composer text per session

    this.el.form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.send();
    });
    this.el.input.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        this.send();
      }
    });
    this.el.input.addEventListener('input', () => this.autosize());
    this.el.stop.addEventListener('click', () => this.stop());
    root.querySelector('.back-button').addEventListener('click', () => this.close());
  }

  /**
   * Show `row`'s conversation. `focusComposer` for a new chat, ready to type in; `match` (a
   * search hit's) to scroll to its message and highlight it.
   */
  open(row, { focusComposer = false, match = null } = {}) {
    this.target = match?.message_id != null ? { messageId: match.message_id, terms: matchedTerms(match) } : null;
    if (rowKey(row) === state.openKey) {
      if (focusComposer) this.el.input.focus();
      if (this.target && !state.chat.loading) this.reveal();
      return;
    }
    this.detach();
    this.generation += 1;
    this.keepDraft();
    state.openKey = rowKey(row);
    this.el.input.value = this.drafts.get(state.openKey) ?? '';
    this.autosize();
    state.chat = {
      ...IDLE_CHAT,
      profile: row.profile,
      sessionId: row.session_id,
      loading: true,
      readOnly: readOnlyReason(row),
    };
    this.renderHeader(row);
    this.el.messages.replaceChildren();
    this.notice('Loading messages…');
    document.body.classList.add('chat-open');
    window.history.replaceState(null, '', `#/${encodeURIComponent(row.profile)}/${encodeURIComponent(row.session_id)}`);
    emit('rows');
    emit('chat');
    if (focusComposer) this.el.input.focus();
    this.load(this.generation).then((loaded) => {
      if (loaded) this.attachIfLive(row);
    });
  }

  /** Open the session the address named at start-up (see locationTarget). */
  async openTarget({ profile, sessionId }) {
    try {
      const { data } = await request('GET', sessionPath(sessionId), { query: { profile } });
      if (state.openKey === null) this.open(data);
    } catch {
      window.history.replaceState(null, '', window.location.pathname + window.location.search);
    }
  }

  close() {
    this.target = null;
    if (state.openKey === null) return;
    this.detach();
    this.generation += 1;
    this.keepDraft();
    this.el.input.value = '';
    state.openKey = null;
    state.chat = { ...IDLE_CHAT };
    document.body.classList.remove('chat-open');
    window.history.replaceState(null, '', window.location.pathname + window.location.search);
    emit('rows');
    emit('chat');
  }

  /** The list changed: follow a rename, and watch a reply that started elsewhere. */
  rowsChanged() {
    if (state.openKey === null) return;
    const row = shownRows().find((candidate) => rowKey(candidate) === state.openKey);
    if (!row) return;
    this.renderHeader(row);
    if (!state.chat.loading) this.attachIfLive(row);
  }

  attachIfLive(row) {
    const id = row.active_stream_id;
    if (!row.is_streaming || !id || this.stream || this.sending || this.finished.has(id)) return;
    const last = this.el.messages.lastElementChild;
    // The reply so far may already be stored as the last message: the stream replaces it.
    this.watch(id, last?.dataset.role === 'assistant' ? last : null);
  }

  async newChat() {
    if (this.creating) return;
    this.creating = true;
    const profile = state.profile ?? state.profiles?.active;
    try {
      const { data } = await request('POST', '/api/sessions', { body: profile ? { profile } : {} });
      this.open(data, { focusComposer: true });
    } catch (err) {
      this.toasts.error(`Couldn't start a new chat: ${describeError(err)}`);
    } finally {
      this.creating = false;
    }
  }

  keepDraft() {
    if (state.openKey === null) return;
    if (this.el.input.value) this.drafts.set(state.openKey, this.el.input.value);
    else this.drafts.delete(state.openKey);
  }

  /** The open row from the server (not the list, which may lag), to watch its live reply. */
  async attachToServerRow() {
    const { profile, sessionId } = state.chat;
    const generation = this.generation;
    try {
      const { data } = await request('GET', sessionPath(sessionId), { query: { profile } });
      if (generation === this.generation) this.attachIfLive(data);
    } catch {
      // the list's next refresh shows the stream, and rowsChanged attaches then
    }
  }

  /**
   * Every message of the open session, fetched page by page, then shown in one go. A load
   * that a send or a new stream overtook is dropped: it would wipe their bubbles.
   */
  async load(generation) {
    const { profile, sessionId } = state.chat;
    const activity = this.activity;
    const nodes = [];
    let after;
    try {
      for (;;) {
        const query = { profile, after, limit: PAGE };
        const { data } = await request('GET', sessionPath(sessionId, '/messages'), { query });
        if (generation !== this.generation || activity !== this.activity) return false;
        nodes.push(...data.messages.filter(shown).map(messageNode));
        if (data.next_after === null || data.next_after === undefined) break;
        after = data.next_after;
      }
    } catch (err) {
      if (generation !== this.generation) return false;
      state.chat.loading = false;
      emit('chat');
      this.notice(`Couldn't load the messages: ${describeError(err)}`, {
        label: 'Retry',
        run: () => {
          this.notice('Loading messages…');
          this.load(generation).then((loaded) => loaded && this.rowsChanged());
        },
      });
      return false;
    }
    const stick = state.chat.loading || this.nearBottom();
    this.el.messages.replaceChildren(...nodes);
    this.notice(nodes.length === 0 ? (state.chat.readOnly ? 'No messages.' : 'No messages yet. Say hello.') : '');
    state.chat.loading = false;
    emit('chat');
    if (this.target) this.reveal();
    else if (stick) this.toBottom();
    return true;
  }

  /**
   * Scroll to the target message and highlight it, its matched words marked. A message not
   * shown (a tool call without text) stands for the next shown one after it.
   */
  reveal() {
    const { messageId, terms } = this.target;
    this.target = null;
    this.el.messages.querySelector('.message-target')?.classList.remove('message-target');
    const nodes = [...this.el.messages.querySelectorAll('[data-message-id]')];
    const node =
      nodes.find((candidate) => Number(candidate.dataset.messageId) === Number(messageId)) ??
      nodes.find((candidate) => Number(candidate.dataset.messageId) > Number(messageId));
    if (!node) return;
    node.classList.add('message-target');
    const body = node.querySelector('.message-body');
    if (body && terms.length > 0) body.replaceChildren(...highlightedTerms(body.textContent, terms));
    if (node.tagName === 'DETAILS') node.open = true;
    node.scrollIntoView({ block: 'center' });
  }

  async send() {
    const text = this.el.input.value;
    const { profile, sessionId, streaming, loading, readOnly } = state.chat;
    if (!text.trim() || !sessionId || streaming || loading || readOnly || this.sending) return;
    const generation = this.generation;
    this.sending = true;
    this.activity += 1;
    this.el.input.value = '';
    this.autosize();
    const bubble = messageNode({ role: 'user', content: text });
    bubble.classList.add('sending');
    this.append(bubble);
    this.notice('');
    let answer;
    try {
      answer = await request('POST', sessionPath(sessionId, '/messages'), { query: { profile }, body: { content: text } });
    } catch (err) {
      this.sending = false;
      bubble.remove();
      if (generation === this.generation && !this.el.input.value) {
        this.el.input.value = text; // nothing was sent: give the draft back
        this.autosize();
      }
      if (err instanceof ApiError && err.code === 'read_only_source') {
        // The list did not say so (an older row): the server's reason is the composer's now.
        if (generation === this.generation) {
          state.chat.readOnly = err.message;
          emit('chat');
        }
        this.toasts.error(err.message);
        return;
      }
      const busy = err instanceof ApiError && err.status === 409;
      this.toasts.error(busy ? 'This chat is still replying. Wait for it, or stop it.' : `Couldn't send: ${describeError(err)}`);
      if (busy && generation === this.generation) this.attachToServerRow();
      return;
    }
    this.sending = false;
    bubble.classList.remove('sending');
    if (generation === this.generation) this.watch(answer.data.stream_id, null);
  }

  /** Watch stream `id`; its text goes into `node` (a stored partial reply) or a new bubble. */
  watch(id, node) {
    this.detach();
    this.activity += 1;
    const bubble = node ?? this.append(messageNode({ role: 'assistant', content: '' }));
    bubble.classList.add('streaming');
    bubble.setAttribute('aria-busy', 'true'); // screen readers wait for the whole reply
    const body = bubble.querySelector('.message-body');
    const watcher = { id, source: null, retries: 0, fresh: true, text: null };
    this.stream = watcher;
    state.chat.streamId = id;
    state.chat.streaming = true;
    emit('chat');
    const connect = () => {
      const source = new EventSource(streamPath(id));
      watcher.source = source;
      watcher.fresh = true;
      source.addEventListener('token', (event) => {
        const chunk = parse(event.data)?.text ?? '';
        if (watcher.fresh) {
          watcher.fresh = false;
          watcher.text = document.createTextNode('');
          body.replaceChildren(watcher.text);
        }
        const stick = this.nearBottom();
        watcher.text.appendData(chunk);
        if (stick) this.toBottom();
      });
      source.addEventListener('end', () => this.finish(watcher, bubble, null));
      source.addEventListener('error', (event) => {
        if (event.data) {
          // The server's own `event: error`: the turn failed.
          this.finish(watcher, bubble, parse(event.data)?.message ?? 'The reply failed.');
          return;
        }
        // The connection broke. Reconnect ourselves (the replay restarts the text).
        source.close();
        if (this.stream !== watcher) return;
        watcher.retries += 1;
        if (watcher.retries > STREAM_RETRIES) {
          // Gone for good (or the stream is over and forgotten): show what was stored.
          this.toasts.show('Lost the connection to the reply; showing what was saved.');
          this.finish(watcher, bubble, null);
          return;
        }
        setTimeout(() => {
          if (this.stream === watcher) connect();
        }, 1000 * watcher.retries);
      });
    };
    connect();
  }

  finish(watcher, bubble, error) {
    watcher.source?.close();
    if (this.stream !== watcher) return;
    this.stream = null;
    this.finished.add(watcher.id);
    bubble.classList.remove('streaming');
    bubble.removeAttribute('aria-busy');
    state.chat.streamId = null;
    state.chat.streaming = false;
    emit('chat');
    if (error) {
      bubble.classList.add('failed');
      bubble.append(h('p', { class: 'message-error' }, error));
    } else {
      // What was stored is the truth (ids, the final text): show that.
      this.load(this.generation);
    }
  }

  /** Stop watching (another session opens); the reply itself goes on on the server. */
  detach() {
    this.stream?.source?.close();
    this.stream = null;
  }

  async stop() {
    const watcher = this.stream;
    if (!watcher) return;
    this.el.stop.disabled = true;
    try {
      await request('POST', streamPath(watcher.id, '/cancel'));
    } catch (err) {
      this.toasts.error(`Couldn't stop the reply: ${describeError(err)}`);
    } finally {
      this.el.stop.disabled = false;
    }
  }

  append(node) {
    const stick = this.nearBottom();
    this.el.messages.append(node);
    if (stick) this.toBottom();
    return node;
  }

  nearBottom() {
    const { scroll } = this.el;
    return scroll.scrollHeight - scroll.scrollTop - scroll.clientHeight < NEAR_BOTTOM;
  }

  toBottom() {
    this.el.scroll.scrollTop = this.el.scroll.scrollHeight;
  }

  /** A line under the messages ("Loading…", an error), optionally with one button. */
  notice(text, action = null) {
    if (action) {
      this.el.notice.replaceChildren(`${text} `, h('button', { type: 'button', class: 'notice-action', onclick: action.run }, action.label));
    } else {
      setText(this.el.notice, text);
    }
    setHidden(this.el.notice, !text);
  }

  autosize() {
    const { input } = this.el;
    input.style.height = 'auto';
    input.style.height = `${Math.min(input.scrollHeight, MAX_COMPOSER)}px`;
  }

  renderHeader(row) {
    setText(this.el.title, row.title);
    setText(this.el.badge, row.source_label || row.source || '');
    setAttr(this.el.badge, 'data-kind', row.source_kind || 'other');
    setText(this.el.model, [row.model, row.project, row.git_branch].filter(Boolean).join(' · '));
  }

  /** Show the empty state or the open chat, and Send or Stop. */
  render() {
    const open = state.openKey !== null;
    setHidden(this.el.empty, open);
    setHidden(this.el.header, !open);
    setHidden(this.el.scroll, !open);
    setHidden(this.el.form, !open);
    setHidden(this.el.send, state.chat.streaming);
    setHidden(this.el.stop, !state.chat.streaming);
    const readOnly = state.chat.readOnly;
    const sendDisabled = state.chat.loading || Boolean(readOnly);
    if (this.el.send.disabled !== sendDisabled) this.el.send.disabled = sendDisabled;
    if (this.el.input.disabled !== Boolean(readOnly)) this.el.input.disabled = Boolean(readOnly);
    setAttr(this.el.input, 'placeholder', readOnly ? 'Read-only' : 'Message');
    setText(this.el.hint, readOnly ?? COMPOSER_HINT);
    this.el.hint.classList.toggle('read-only', Boolean(readOnly));
  }
}
