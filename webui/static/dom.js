// Small DOM helpers. Data from the server only ever enters the page as text nodes or attribute
// values: nothing here (or anywhere in the app) assigns innerHTML.

/** createElement with attributes, listeners (onclick: fn) and children (strings become text). */
export function h(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === 'class') node.className = value;
    else if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? '' : String(value));
  }
  node.append(...children.filter((child) => child !== null && child !== undefined && child !== false));
  return node;
}

export function byId(id) {
  return document.getElementById(id);
}

// The set* helpers change the DOM only when the value differs and report whether they did:
// callers add those up to know whether a repaint touched the page at all.

export function setText(node, text) {
  if (node.textContent === text) return false;
  node.textContent = text;
  return true;
}

export function setAttr(node, name, value) {
  const current = node.getAttribute(name);
  if (value === null || value === undefined) {
    if (current === null) return false;
    node.removeAttribute(name);
    return true;
  }
  if (current === String(value)) return false;
  node.setAttribute(name, String(value));
  return true;
}

export function setClass(node, name, on) {
  if (node.classList.contains(name) === Boolean(on)) return false;
  node.classList.toggle(name, Boolean(on));
  return true;
}

export function setHidden(node, hidden) {
  if (node.hidden === Boolean(hidden)) return false;
  node.hidden = Boolean(hidden);
  return true;
}

function escapeRegExp(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** `text` split into strings and <mark> elements around every case-insensitive `query` match. */
export function highlighted(text, query) {
  return highlightedTerms(text, query ? [query] : []);
}

/** As `highlighted`, for any of several terms (the longest first where they overlap). */
export function highlightedTerms(text, terms) {
  const wanted = [...new Set(terms.filter(Boolean))].sort((a, b) => b.length - a.length);
  if (wanted.length === 0) return [text];
  const parts = [];
  let last = 0;
  for (const match of text.matchAll(new RegExp(wanted.map(escapeRegExp).join('|'), 'giu'))) {
    if (match.index > last) parts.push(text.slice(last, match.index));
    parts.push(h('mark', {}, match[0]));
    last = match.index + match[0].length;
  }
  if (last < text.length) parts.push(text.slice(last));
  return parts;
}

/** Call `fn` once, `wait` ms after the last of a burst of calls. */
export function debounce(fn, wait) {
  let timer = null;
  const debounced = (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      timer = null;
      fn(...args);
    }, wait);
  };
  debounced.cancel = () => clearTimeout(timer);
  return debounced;
}

export function plural(count, one, many = `${one}s`) {
  return `${count.toLocaleString('en-US')} ${count === 1 ? one : many}`;
}
