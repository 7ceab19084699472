// The guard's screen: a live feed over WebSocket, status, and the guard's two actions.
import { t, lang, translate, installSwitch } from '/public/i18n.js';

/** The feed never holds more than this: a morning of 3,000 passes costs the same as 200. */
export const FEED_LIMIT = 200;
const STALE_MS = 7000; // the server sends status every 2 s; silence this long = not live
const KEEPALIVE_MS = 5 * 60 * 1000;

const $ = (id) => document.getElementById(id);
const feedEl = $('feed');
const lastEl = $('last');

let csrf = null;
let socket = null;
let lastMessageAt = 0;
let retryMs = 1000;
let clockOffsetMs = 0;
let status = null;
let readers = [];
let pending = []; // passes received but not yet drawn, oldest first
let drawScheduled = false;
let shown = []; // the passes on screen, newest first (for redrawing after a language switch)

// ---- words ---------------------------------------------------------------------------------

function placeName(p) {
  return `${p.gate} · ${t(`dir.${p.direction}`)}`;
}

function timeOf(iso) {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '' : d.toLocaleTimeString(lang() === 'ru' ? 'ru-RU' : 'en-GB', { hour12: false });
}

function dateOf(iso) {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '' : d.toLocaleDateString(lang() === 'ru' ? 'ru-RU' : 'en-GB');
}

function ageOf(iso) {
  if (!iso) return t('age.never');
  const s = Math.max(0, Math.round((Date.now() + clockOffsetMs - new Date(iso).getTime()) / 1000));
  if (s < 60) return t('age.s', { n: s });
  if (s < 3600) return t('age.m', { n: Math.floor(s / 60) });
  if (s < 86400) return t('age.h', { n: Math.floor(s / 3600) });
  return t('age.d', { n: Math.floor(s / 86400) });
}

function el(tag, className, text) {
  const e = document.createElement(tag);
  if (className) e.className = className;
  if (text !== undefined && text !== null) e.textContent = text;
  return e;
}

function photoEl(pass, className) {
  const showPhoto = pass.photo === true && pass.holder && pass.reason !== 'superseded';
  if (!showPhoto) {
    return el('div', `${className} no-photo`, pass.reason === 'superseded' ? '!' : '');
  }
  const img = el('img', className);
  img.alt = '';
  img.decoding = 'async';
  img.src = `/photo/${encodeURIComponent(pass.holder)}`;
  img.addEventListener('error', () => img.classList.add('broken'));
  return img;
}

/** One pass as an element; big = the large "last pass" panel. */
function passEl(pass, big) {
  const deny = !pass.open;
  const item = el(big ? 'div' : 'li', `pass ${deny ? 'deny' : 'ok'} reason-${pass.reason} src-${pass.source}`);
  item.dataset.id = pass.id;
  item.dataset.reason = pass.reason;
  item.dataset.source = pass.source;
  if (pass.holder) item.dataset.holder = pass.holder;
  item.append(photoEl(pass, 'photo'));

  const body = el('div', 'body');
  const manual = pass.source === 'guard' && !pass.holder;
  const verdict = el('div', 'verdict', deny ? t('verdict.deny') : t(manual ? 'verdict.manual' : 'verdict.open'));
  body.append(verdict);
  if (pass.reason === 'superseded') {
    body.append(el('div', 'reason superseded-warning', t('reason.superseded')));
    if (pass.replacedAt) body.append(el('div', 'replaced', t('replaced.on', { d: dateOf(pass.replacedAt) })));
  } else if (deny) {
    body.append(el('div', 'reason', t(`reason.${pass.reason}`)));
  }
  if (pass.name && pass.reason !== 'superseded') {
    const who = el('div', 'who-line');
    who.append(el('span', 'name', pass.name), el('span', 'class', pass['class'] || ''));
    body.append(who);
  } else if (pass.name) {
    body.append(el('div', 'owner', `${pass.name}${pass['class'] ? `, ${pass['class']}` : ''}`));
  }
  const meta = el('div', 'meta');
  meta.append(el('span', 'time', timeOf(pass.at)), el('span', 'place', placeName(pass)));
  if (pass.source === 'guard') {
    const line = pass.holder ? t('guard.admit', { g: pass.guard || '' }) : t('guard.by', { g: pass.guard || '' });
    meta.append(el('span', 'guard', pass.note ? `${line}: ${pass.note}` : line));
  }
  if (!pass.holder && pass.card) meta.append(el('span', 'card', t('card', { c: pass.card })));
  body.append(meta);
  item.append(body);
  return item;
}

// ---- the feed: batched, bounded ------------------------------------------------------------

function enqueue(pass) {
  pending.push(pass);
  if (pending.length > FEED_LIMIT) pending.splice(0, pending.length - FEED_LIMIT);
  if (!drawScheduled) {
    drawScheduled = true;
    // In a hidden tab animation frames stop; the queue stays bounded and a timer draws it.
    if (document.visibilityState === 'visible') requestAnimationFrame(draw);
    else setTimeout(draw, 250);
  }
}

function draw() {
  drawScheduled = false;
  if (pending.length === 0) return;
  const batch = pending;
  pending = [];
  const fragment = document.createDocumentFragment();
  for (let i = batch.length - 1; i >= 0; i--) fragment.append(passEl(batch[i], false));
  feedEl.prepend(fragment);
  while (feedEl.childElementCount > FEED_LIMIT) feedEl.lastElementChild.remove();
  shown = batch.reverse().concat(shown).slice(0, FEED_LIMIT);
  showLast(shown[0]);
}

function showLast(pass) {
  lastEl.replaceChildren();
  if (!pass) {
    lastEl.className = 'last empty';
    lastEl.append(el('p', 'none', t('last.none')));
    return;
  }
  lastEl.className = `last ${pass.open ? 'ok' : 'deny'}`;
  lastEl.append(passEl(pass, true));
}

function redrawAll() {
  feedEl.replaceChildren(...shown.map((p) => passEl(p, false)));
  showLast(shown[0]);
  renderStatus();
  renderReaderOptions();
}

// ---- status ---------------------------------------------------------------------------------

function renderStatus() {
  if (!status) return;
  const uplink = status.uplink?.state || 'disabled';
  $('uplink').textContent = t(`uplink.${uplink}`);
  $('uplink').className = `state-${uplink}`;
  $('card-seq').textContent = t('status.seq', { n: status.cardSeq });
  renderCardAge();
  $('outbox').textContent = status.outbox === null || status.outbox === undefined ? '?' : String(status.outbox);
  $('outbox').className = status.outbox > 0 ? 'state-pending' : '';
  const list = $('readers');
  list.replaceChildren(...(status.readers || []).map((r) => {
    const chip = el('span', `reader ${r.online ? 'online' : 'offline'}`);
    chip.dataset.reader = r.reader;
    const where = r.gate ? `${r.gate} · ${t(`dir.${r.direction}`)}` : r.reader;
    chip.textContent = `${where}: ${r.online ? t('reader.online') : t('reader.offline')}`;
    return chip;
  }));
}

function renderCardAge() {
  if (!status) return;
  $('card-age').textContent = `· ${t('status.cardCount', { n: status.cards })} · ${t('status.lastEvent')} ${ageOf(status.lastCardEventAt)}`;
}

function setLive(live) {
  document.body.classList.toggle('not-live', !live);
  document.body.classList.toggle('live', live);
  $('live-text').dataset.i18n = live ? 'live.on' : 'live.offShort';
  $('live-text').textContent = t(live ? 'live.on' : 'live.offShort');
}

// ---- connection ---------------------------------------------------------------------------

function connect() {
  const url = `${window.location.protocol === 'https:' ? 'wss' : 'ws'}://${window.location.host}/ws`;
  const ws = new WebSocket(url);
  socket = ws;
  ws.addEventListener('open', () => { retryMs = 1000; });
  ws.addEventListener('message', (event) => {
    lastMessageAt = Date.now();
    setLive(true);
    const msg = JSON.parse(event.data);
    if (msg.type === 'hello') {
      $('guard').textContent = msg.guard || '';
      shown = [];
      pending = [];
      feedEl.replaceChildren();
      (msg.recent || []).forEach(enqueue);
      if (!msg.recent || msg.recent.length === 0) showLast(null);
      onStatus(msg.status);
    } else if (msg.type === 'pass') {
      enqueue(msg.pass);
    } else if (msg.type === 'status') {
      onStatus(msg);
    }
  });
  ws.addEventListener('close', () => {
    if (socket !== ws) return;
    socket = null;
    setLive(false);
    reconnectLater();
  });
}

async function reconnectLater() {
  const wait = retryMs;
  retryMs = Math.min(10000, retryMs * 2);
  setTimeout(async () => {
    // A closed feed may mean the session ended: then back to the login page.
    try {
      const res = await fetch('/api/me', { credentials: 'same-origin' });
      if (res.status === 401) {
        window.location.replace('/login');
        return;
      }
      if (res.ok) csrf = (await res.json()).csrf;
    } catch (e) {
      // the gateway is away: keep trying
    }
    connect();
  }, wait);
}

function onStatus(s) {
  if (!s || !s.now) return;
  status = s;
  clockOffsetMs = new Date(s.now).getTime() - Date.now();
  renderStatus();
}

setInterval(() => {
  if (socket && Date.now() - lastMessageAt > STALE_MS) {
    setLive(false);
    // A silent connection is dead in all but name: start again.
    socket.close();
  }
  renderCardAge();
}, 1000);

setInterval(async () => {
  try {
    const res = await fetch('/api/me', { credentials: 'same-origin' });
    if (res.status === 401) window.location.replace('/login');
  } catch (e) {
    // not live is shown by the feed
  }
}, KEEPALIVE_MS);

// ---- actions --------------------------------------------------------------------------------

async function post(path, body) {
  const res = await fetch(path, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf || '' },
    body: JSON.stringify(body),
  });
  const data = await res.json().catch(() => ({}));
  if (res.status === 401) window.location.replace('/login');
  return { ok: res.ok, status: res.status, data };
}

function renderReaderOptions() {
  document.querySelectorAll('.reader-select').forEach((select) => {
    const chosen = select.value;
    select.replaceChildren(...readers.map((r) => {
      const o = el('option', null, `${r.gate} · ${t(`dir.${r.direction}`)} (${r.reader})`);
      o.value = r.reader;
      return o;
    }));
    if (chosen) select.value = chosen;
  });
}

function failure(result) {
  if (result.status === 403) return t('error.csrf');
  return t('error.generic', { e: result.data.error || result.status });
}

$('open-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const out = $('open-result');
  const reason = $('open-reason').value.trim();
  if (!reason) {
    out.className = 'result error';
    out.textContent = t('open.needReason');
    $('open-reason').focus();
    return;
  }
  const reader = $('open-reader').value;
  const result = await post('/api/open', { reader, reason });
  if (!result.ok) {
    out.className = 'result error';
    out.textContent = failure(result);
    return;
  }
  const r = readers.find((x) => x.reader === reader);
  out.className = result.data.delivered > 0 ? 'result done' : 'result error';
  out.textContent = result.data.delivered > 0 ? t('open.done', { r: r ? placeName(r) : reader }) : t('open.notDelivered');
  $('open-reason').value = '';
});

let searchTimer = null;
$('roster-q').addEventListener('input', () => {
  clearTimeout(searchTimer);
  searchTimer = setTimeout(search, 200);
});
$('admit-form').addEventListener('submit', (event) => { event.preventDefault(); search(); });

async function search() {
  const q = $('roster-q').value.trim();
  const list = $('roster');
  if (q.length < 2) {
    list.replaceChildren();
    return;
  }
  const res = await fetch(`/api/roster?q=${encodeURIComponent(q)}`, { credentials: 'same-origin' });
  if (res.status === 401) {
    window.location.replace('/login');
    return;
  }
  const data = await res.json();
  if ($('roster-q').value.trim() !== q) return; // typed on meanwhile
  const items = data.holders.map((h) => {
    const li = el('li', `holder${h.active ? '' : ' inactive'}`);
    li.dataset.holder = h.id;
    li.append(photoEl({ holder: h.id, photo: h.photo, reason: 'ok' }, 'thumb'));
    const who = el('span', 'who');
    who.append(el('span', 'name', h.name), el('span', 'class', h['class']));
    if (!h.active) who.append(el('span', 'inactive-mark', t('admit.inactive')));
    li.append(who);
    if (h.active) {
      const button = el('button', 'admit', t('admit.submit'));
      button.type = 'button';
      button.addEventListener('click', () => admit(h, button));
      li.append(button);
    }
    return li;
  });
  if (items.length === 0) items.push(el('li', 'none', t('admit.none')));
  if (data.more) items.push(el('li', 'none', t('admit.more')));
  list.replaceChildren(...items);
}

async function admit(holder, button) {
  button.disabled = true;
  const out = $('admit-result');
  const select = $('admit-reason');
  const reason = select.options[select.selectedIndex].textContent;
  const result = await post('/api/admit', { holder: holder.id, reader: $('admit-reader').value, reason });
  button.disabled = false;
  if (!result.ok) {
    out.className = 'result error';
    out.textContent = failure(result);
    return;
  }
  out.className = result.data.delivered > 0 ? 'result done' : 'result error';
  out.textContent = result.data.delivered > 0 ? t('admit.done', { n: holder.name }) : t('open.notDelivered');
  $('roster-q').value = '';
  $('roster').replaceChildren();
}

$('logout').addEventListener('click', async () => {
  await post('/api/logout', {}).catch(() => {});
  window.location.replace('/login');
});

// ---- start ----------------------------------------------------------------------------------

async function start() {
  translate();
  installSwitch($('lang'), redrawAll);
  setLive(false);
  const me = await fetch('/api/me', { credentials: 'same-origin' });
  if (me.status === 401) {
    window.location.replace('/login');
    return;
  }
  const who = await me.json();
  csrf = who.csrf;
  $('guard').textContent = who.guard;
  const r = await fetch('/api/readers', { credentials: 'same-origin' });
  readers = (await r.json()).readers;
  renderReaderOptions();
  connect();
}

start();
