// Applying a list delta: the rows the page holds, turned into the rows a full fetch would give.
//
// A delta answers a poll that sent `since=<version>&have=<n>`: it names the rows removed and
// the rows added or changed with their new positions, for the first `have` rows of the list.
// Pure: no state, no DOM. Anything that does not add up is null, and the caller fetches the
// full page instead; a delta can never make the list show what a fresh load would not.

import { rowKey } from './store.js';

function pairKey(pair) {
  return Array.isArray(pair) && pair.length === 2 ? `${pair[0]}/${pair[1]}` : null;
}

/**
 * The new first min(have, total) rows, from `held` (the first `have` rows of the old version)
 * and `delta` ({removed: [[profile, id]…], upserted: [{index, row}…], total}); null when the
 * delta is malformed or the result is not exactly that long.
 */
export function applyDelta(held, delta, have) {
  const { removed, upserted, total } = delta;
  if (!Array.isArray(removed) || !Array.isArray(upserted) || !Number.isInteger(total) || total < 0) return null;
  const gone = new Set();
  for (const pair of removed) {
    const key = pairKey(pair);
    if (key === null) return null;
    gone.add(key);
  }
  const placed = [];
  for (const entry of upserted) {
    if (!entry || !Number.isInteger(entry.index) || entry.index < 0 || typeof entry.row !== 'object' || entry.row === null) {
      return null;
    }
    gone.add(rowKey(entry.row));
    placed.push(entry);
  }
  const rows = held.slice(0, have).filter((row) => !gone.has(rowKey(row)));
  placed.sort((a, b) => a.index - b.index);
  for (const { index, row } of placed) {
    if (index > rows.length) return null; // a gap: positions that only a full list could fill
    rows.splice(index, 0, row);
  }
  if (rows.length !== Math.min(have, total)) return null;
  if (new Set(rows.map(rowKey)).size !== rows.length) return null;
  return rows;
}
