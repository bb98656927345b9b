// The two whole-app states: "can't reach the server" (a banner with Retry and a countdown to
// the automatic retry) and "sign in" (the token form, when the server answers 401).

import { byId, setHidden, setText } from './dom.js';
import { state } from './store.js';

export class ErrorBanner {
  /** @param {object} deps retry() now, retryAt() -> epoch ms of the automatic retry or null */
  constructor(element, { retry, retryAt }) {
    this.element = element;
    this.retryAt = retryAt;
    this.text = element.querySelector('.error-banner-text');
    this.detail = element.querySelector('.error-banner-detail');
    this.button = element.querySelector('.retry-button');
    this.countdown = null;
    this.button.addEventListener('click', () => {
      setText(this.detail, 'Retrying…');
      retry();
    });
  }

  render() {
    const error = state.authRequired ? null : state.error;
    setHidden(this.element, !error);
    document.body.classList.toggle('has-error', Boolean(error));
    if (!error) {
      clearInterval(this.countdown);
      this.countdown = null;
      return;
    }
    if (error.kind === 'offline') setText(this.text, "Can't reach the server.");
    else if (error.kind === 'server') setText(this.text, `The server couldn't list the chats: ${error.message}`);
    else setText(this.text, `Couldn't load the chats: ${error.message}`);
    this.tick();
    if (this.countdown === null) this.countdown = setInterval(() => this.tick(), 1000);
  }

  tick() {
    const at = this.retryAt();
    const seconds = at === null ? null : Math.max(1, Math.ceil((at - Date.now()) / 1000));
    setText(this.detail, seconds === null ? '' : `Retrying in ${seconds} s`);
  }
}

/** Show the sign-in form; a good token sets the server's cookie and the app starts over. */
export function showLogin() {
  const panel = byId('login');
  if (!panel.hidden) return;
  panel.hidden = false;
  document.body.classList.add('login-required');
  const form = panel.querySelector('form');
  const input = form.querySelector('input[name="token"]');
  const error = form.querySelector('.login-error');
  input.focus();
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    setHidden(error, true);
    let response;
    try {
      response = await fetch('/login', {
        method: 'POST',
        body: new URLSearchParams({ token: input.value }),
        credentials: 'same-origin',
      });
    } catch {
      setText(error, "Can't reach the server.");
      setHidden(error, false);
      return;
    }
    if (response.ok) {
      window.location.reload();
      return;
    }
    setText(error, response.status === 401 ? 'That token is not right.' : `Sign-in failed (HTTP ${response.status}).`);
    setHidden(error, false);
    input.select();
  });
}
