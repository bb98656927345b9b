// The sidebar's items (group headers and session rows) and how one item is painted into a node.

import { h, highlighted, plural, setAttr, setClass, setText } from './dom.js';
import { rowKey } from './store.js';
import { GROUPS, activityTime, dayBoundaries, fullTime, groupOf, relativeTime } from './time.js';

export const ROW_HEIGHT = 44;

/**
 * Rows in server order, bucketed by date group in the fixed group order. Buckets keep server
 * order, so runtime-active rows (which the server puts first) lead their group, and no group
 * header ever appears twice.
 */
export function buildItems(rows, now) {
  const bounds = dayBoundaries(now);
  const buckets = new Map(GROUPS.map((group) => [group, []]));
  for (const row of rows) buckets.get(groupOf(row, bounds)).push(row);
  const items = [];
  let position = 0;
  for (const [group, members] of buckets) {
    if (members.length === 0) continue;
    items.push({ type: 'header', key: `group:${group}`, label: group });
    for (const row of members) {
      position += 1;
      items.push({ type: 'row', key: rowKey(row), row, position });
    }
  }
  return items;
}

// A row node's parts, and the title/query its title was last highlighted for.
const parts = new WeakMap();

export function createNode(type) {
  if (type === 'header') return h('div', { class: 'group-header', role: 'presentation' });
  const part = {
    title: h('span', { class: 'row-title' }),
    time: h('span', { class: 'row-time' }),
    badge: h('span', { class: 'source-badge' }),
    count: h('span', { class: 'row-count' }),
    where: h('span', { class: 'row-where' }),
    painted: null,
  };
  part.meta = h('span', { class: 'row-meta' }, part.badge, part.count, part.where);
  const menu = h(
    'button',
    { class: 'row-menu-button', type: 'button', tabindex: '-1', 'aria-label': 'Chat options', 'aria-haspopup': 'menu' },
    '⋯',
  );
  const node = h(
    'div',
    { class: 'session-row', role: 'option', tabindex: '-1', 'aria-selected': 'false' },
    part.title,
    part.time,
    part.meta,
    menu,
  );
  parts.set(node, part);
  return node;
}

/** Add or remove the optional child `selector` of `parent`; true when the DOM changed. */
function toggleChild(parent, selector, wanted, make, before = null) {
  const existing = parent.querySelector(selector);
  if (Boolean(existing) === wanted) return false;
  if (existing) existing.remove();
  else parent.insertBefore(make(), before);
  return true;
}

function metaText(row, view) {
  const parts = [];
  if (view.showProfile) parts.push(row.profile);
  if (row.archived) parts.push('Archived');
  parts.push(plural(row.message_count ?? 0, 'message'));
  return parts.join(' · ');
}

/** Where a session ran, for sources that say (Claude Code): its project and git branch. */
function whereText(row) {
  const project = typeof row.project === 'string' ? row.project : '';
  const branch = typeof row.git_branch === 'string' ? row.git_branch : '';
  return [project, branch && `⎇ ${branch}`].filter(Boolean).join(' ');
}

/**
 * Paint `item` into `node`, touching only what differs. `view` holds what every row shares:
 * q, openKey, now, bounds, setSize, showProfile. Returns true when the DOM changed.
 */
export function updateNode(node, item, view) {
  if (item.type === 'header') return setText(node, item.label);
  const { row } = item;
  const text = row.title || 'Untitled';
  const part = parts.get(node);
  const { title, time, meta, badge, count, where } = part;
  const when = activityTime(row);
  // A reply streaming in is activity right now, whatever the stored times say.
  const label = row.is_streaming ? 'now' : relativeTime(when, view.now, view.bounds);
  let changed = 0;
  changed += setAttr(node, 'data-session-id', row.session_id);
  changed += setAttr(node, 'data-profile', row.profile);
  changed += setAttr(node, 'aria-posinset', item.position);
  changed += setAttr(node, 'aria-setsize', view.setSize);
  const selected = item.key === view.openKey;
  changed += setClass(node, 'selected', selected);
  changed += setAttr(node, 'aria-selected', String(selected));
  changed += setClass(node, 'streaming', row.is_streaming);
  changed += setClass(node, 'pending', row.has_pending_user_message);
  changed += setClass(node, 'pinned', row.pinned);
  changed += setClass(node, 'archived', row.archived);

  // Titles are data: they become text nodes and <mark> elements, never markup.
  if (part.painted?.title !== text || part.painted?.q !== view.q) {
    title.replaceChildren(...highlighted(text, view.q));
    part.painted = { title: text, q: view.q };
    changed += 1;
  }
  changed += setAttr(title, 'title', text);
  changed += setText(time, label);
  changed += setAttr(time, 'title', fullTime(when));
  changed += setText(badge, row.source_label || row.source || 'Other');
  changed += setAttr(badge, 'data-kind', row.source_kind || 'other');
  changed += setText(count, metaText(row, view));
  const place = whereText(row);
  changed += setText(where, place);
  changed += setAttr(where, 'title', place ? [row.project && `Project ${row.project}`, row.git_branch && `branch ${row.git_branch}`].filter(Boolean).join(', ') : null);
  changed += toggleChild(meta, '.pending-hint', Boolean(row.has_pending_user_message), () =>
    h('span', { class: 'pending-hint' }, 'pending'),
  );
  changed += toggleChild(
    node,
    '.live-indicator',
    Boolean(row.is_streaming),
    () => h('span', { class: 'live-indicator', title: 'Replying now' }),
    title,
  );
  const status = row.is_streaming ? ', replying now' : row.has_pending_user_message ? ', pending' : '';
  const placeLabel = place ? `, ${place.replace('⎇', 'branch')}` : '';
  changed += setAttr(node, 'aria-label', `${text}, ${row.source_label || row.source}${placeLabel}, ${label}${status}`);
  return changed > 0;
}
