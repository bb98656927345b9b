// The "In messages" section of a search: its items (a section header, the hits, a note) and how
// each is painted. A hit is one row of the list height: the session's title and the time on
// the first line, the role and the snippet, its matched ranges marked, on the second.

import { h, setAttr, setClass, setText } from './dom.js';
import { hitKey } from './search.js';
import { fullTime, relativeTime } from './time.js';

export const HIT_TYPES = new Set(['hit', 'search-header', 'note']);

// How much of the snippet may come before its first match: more is cut (with "…"), so the
// match shows on the one line a hit has.
const LEAD = 24;
const ROLES = { user: 'You', assistant: 'Assistant' };

/** The section's items, after the title matches: header, hits, and a note on what is going on. */
export function searchItems(search) {
  const items = [
    {
      type: 'search-header',
      key: 'search:header',
      label: 'In messages',
      note: search.index === 'scan' ? '(slow search: no index)' : '',
    },
  ];
  for (const row of search.hits) items.push({ type: 'hit', key: hitKey(row), row });
  let note = null;
  if (search.error) note = { text: `Couldn't search messages: ${search.error}`, retry: true };
  else if (search.loading && search.hits.length === 0) note = { text: 'Searching messages…' };
  else if (search.answered && search.hits.length === 0 && search.nextOffset === null) note = { text: 'No messages match' };
  else if (search.nextOffset !== null) note = { text: 'Loading more…' };
  if (note) items.push({ type: 'note', key: 'search:note', ...note });
  return items;
}

/**
 * A snippet as text nodes and <mark> elements. `ranges` are [start, end) offsets in code
 * points (the server counts characters, not UTF-16 units); bad ranges are ignored.
 */
export function markedSnippet(snippet, ranges) {
  let chars = Array.from(snippet ?? '');
  let spans = (Array.isArray(ranges) ? ranges : [])
    .filter((r) => Array.isArray(r) && Number.isInteger(r[0]) && Number.isInteger(r[1]) && r[0] < r[1])
    .map(([start, end]) => [Math.max(0, start), Math.min(chars.length, end)])
    .filter(([start, end]) => start < end)
    .sort((a, b) => a[0] - b[0]);
  let lead = '';
  const first = spans[0]?.[0] ?? 0;
  if (first > LEAD) {
    // Start at a word boundary a little before the match.
    let cut = first - Math.floor(LEAD / 2);
    const space = chars.slice(cut - 8, cut).lastIndexOf(' ');
    if (space >= 0) cut = cut - 8 + space + 1;
    chars = chars.slice(cut);
    spans = spans.map(([start, end]) => [start - cut, end - cut]);
    lead = '…';
  }
  const parts = lead ? [lead] : [];
  let last = 0;
  for (const [start, end] of spans) {
    if (start < last) continue; // overlapping ranges: the first one wins
    if (start > last) parts.push(chars.slice(last, start).join(''));
    parts.push(h('mark', {}, chars.slice(start, end).join('')));
    last = end;
  }
  if (last < chars.length) parts.push(chars.slice(last).join(''));
  return parts;
}

const parts = new WeakMap();

export function createHitNode(type) {
  if (type === 'search-header') {
    const node = h('div', { class: 'search-header', role: 'presentation' });
    parts.set(node, { label: h('span', {}), note: h('span', { class: 'search-index' }) });
    node.append(parts.get(node).label, parts.get(node).note);
    return node;
  }
  if (type === 'note') {
    const node = h('div', { class: 'search-note', role: 'presentation' });
    parts.set(node, { text: h('span', {}), retry: null });
    node.append(parts.get(node).text);
    return node;
  }
  const part = {
    title: h('span', { class: 'hit-title' }),
    time: h('span', { class: 'hit-time' }),
    role: h('span', { class: 'hit-role' }),
    snippet: h('span', { class: 'hit-snippet' }),
    painted: null,
  };
  const node = h(
    'div',
    { class: 'search-hit', role: 'option', tabindex: '-1', 'aria-selected': 'false' },
    part.title,
    part.time,
    h('span', { class: 'hit-line' }, part.role, part.snippet),
  );
  parts.set(node, part);
  return node;
}

/** Paint a section item into `node`; `view` as for rows (now, bounds, openKey). */
export function updateHitNode(node, item, view, retry) {
  const part = parts.get(node);
  if (item.type === 'search-header') return setText(part.label, item.label) | setText(part.note, item.note);
  if (item.type === 'note') {
    let changed = setText(part.text, item.text);
    if (Boolean(part.retry) !== Boolean(item.retry)) {
      part.retry?.remove();
      part.retry = item.retry ? h('button', { type: 'button', class: 'notice-action', onclick: retry }, 'Retry') : null;
      if (part.retry) node.append(part.retry);
      changed = true;
    }
    return changed;
  }
  const { row } = item;
  const match = row.match ?? {};
  const title = row.title || 'Untitled';
  const when = match.timestamp ?? row.last_message_at ?? row.updated_at ?? row.created_at;
  let changed = 0;
  changed += setAttr(node, 'data-key', item.key);
  changed += setAttr(node, 'data-session-id', row.session_id);
  changed += setAttr(node, 'data-profile', row.profile);
  changed += setAttr(node, 'data-message-id', match.message_id ?? null);
  changed += setAttr(node, 'aria-posinset', item.position);
  changed += setAttr(node, 'aria-setsize', view.setSize);
  const selected = `${row.profile}/${row.session_id}` === view.openKey;
  changed += setClass(node, 'selected', selected);
  changed += setAttr(node, 'aria-selected', String(selected));
  changed += setText(part.title, title);
  changed += setAttr(part.title, 'title', title);
  const label = relativeTime(when, view.now, view.bounds);
  changed += setText(part.time, label);
  changed += setAttr(part.time, 'title', fullTime(when));
  const role = ROLES[match.role] ?? '';
  changed += setText(part.role, role ? `${role}: ` : '');
  const snippet = match.snippet ?? '';
  const ranges = JSON.stringify(match.ranges ?? []);
  if (part.painted?.snippet !== snippet || part.painted?.ranges !== ranges) {
    part.snippet.replaceChildren(...markedSnippet(snippet, match.ranges));
    part.painted = { snippet, ranges };
    changed += 1;
  }
  const profile = view.showProfile ? `, ${row.profile}` : '';
  changed += setAttr(node, 'aria-label', `${title}${profile}: ${role ? `${role}: ` : ''}${snippet}, ${label}`);
  return changed > 0;
}
