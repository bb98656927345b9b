// Pure time helpers: a row's activity time, its date group and its short relative label.
// Every function takes "now" (epoch seconds, already corrected by the server clock offset).

// The UI speaks English ("Today", "Yesterday"), so dates are English too, not a locale mix.
const LOCALE = 'en-US';
const DAY_NAMES = new Intl.DateTimeFormat(LOCALE, { weekday: 'short' });
const MONTH_DAY = new Intl.DateTimeFormat(LOCALE, { month: 'short', day: 'numeric' });
const MONTH_YEAR = new Intl.DateTimeFormat(LOCALE, { month: 'short', year: 'numeric' });
const FULL = new Intl.DateTimeFormat(LOCALE, { dateStyle: 'medium', timeStyle: 'short' });

export const GROUPS = ['Pinned', 'Today', 'Yesterday', 'Previous 7 days', 'Older'];

function valid(value) {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

/** First non-null of last_message_at, updated_at, created_at, raised to a later pending start. */
export function activityTime(row) {
  const base = valid(row.last_message_at) ?? valid(row.updated_at) ?? valid(row.created_at);
  const pending = valid(row.pending_started_at);
  if (pending !== null && (base === null || pending > base)) return pending;
  return base;
}

/** A row with a live stream or a pending message is happening right now. */
export function isActive(row) {
  return Boolean(row.is_streaming || row.has_pending_user_message);
}

/** Local-midnight boundaries (epoch seconds) of today, yesterday and seven days back. */
export function dayBoundaries(now) {
  const day = new Date(now * 1000);
  day.setHours(0, 0, 0, 0);
  const today = day.getTime() / 1000;
  day.setDate(day.getDate() - 1); // setDate, not "minus 86400": days are 23 or 25 h around DST
  const yesterday = day.getTime() / 1000;
  day.setDate(day.getDate() - 6);
  return { today, yesterday, week: day.getTime() / 1000 };
}

export function groupOf(row, bounds) {
  if (row.pinned) return 'Pinned';
  if (isActive(row)) return 'Today';
  const t = activityTime(row);
  if (t === null) return 'Older';
  if (t >= bounds.today) return 'Today';
  if (t >= bounds.yesterday) return 'Yesterday';
  if (t >= bounds.week) return 'Previous 7 days';
  return 'Older';
}

/** "now", "5m", "3h", "Yesterday", "Mon", "Mar 3", "Mar 2023"; "" for no time. */
export function relativeTime(t, now, bounds = dayBoundaries(now)) {
  if (valid(t) === null) return '';
  const ago = Math.max(0, now - t); // a clock a little ahead of ours is still "now"
  if (ago < 60) return 'now';
  if (ago < 3600) return `${Math.floor(ago / 60)}m`;
  if (ago < 86400) return `${Math.floor(ago / 3600)}h`;
  if (t >= bounds.yesterday) return 'Yesterday';
  if (t >= bounds.week) return DAY_NAMES.format(t * 1000);
  const date = new Date(t * 1000);
  const sameYear = date.getFullYear() === new Date(now * 1000).getFullYear();
  return (sameYear ? MONTH_DAY : MONTH_YEAR).format(date);
}

export function fullTime(t) {
  return valid(t) === null ? '' : FULL.format(t * 1000);
}
