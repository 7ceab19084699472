import { t, translate, installSwitch } from './i18n.js';

const form = document.getElementById('login-form');
const error = document.getElementById('login-error');

translate();
installSwitch(document.getElementById('lang'));

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  error.textContent = '';
  const body = JSON.stringify({
    login: document.getElementById('login').value,
    password: document.getElementById('password').value,
  });
  try {
    const res = await fetch('/login', {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body, credentials: 'same-origin',
    });
    if (res.ok) {
      window.location.replace('/');
      return;
    }
    if (res.status === 429) {
      const data = await res.json().catch(() => ({}));
      error.textContent = t('login.throttled', { s: data.retryAfter ?? res.headers.get('Retry-After') ?? '?' });
    } else {
      error.textContent = t('login.wrong');
    }
  } catch (e) {
    error.textContent = t('login.failed');
  }
  document.getElementById('password').select();
});
