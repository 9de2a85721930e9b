// nestream board: the page's only script (served by the board itself, no third-party code).
// Every value from Redis (names, payloads, errors) is attacker-controlled: it is only ever put in the page as
// text (textContent / text nodes), never as markup. There is no innerHTML in this file.

const meta = name => document.querySelector(`meta[name="nestream-board-${name}"]`)?.getAttribute('content') ?? '';
const BASE = meta('base');
const CSRF = meta('csrf');
const WRITES = meta('writes') === 'on';
const REASONS = ['max-attempts', 'unrecoverable', 'validation', 'decode', 'manual'];

/** Builds an element; strings and numbers become text nodes, null/false children are skipped. */
function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') el.className = value;
    else if (key === 'text') el.textContent = String(value);
    else if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
    else if (key === 'href') el.setAttribute('href', value.startsWith('#') ? value : '#'); // only in-page links
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

function clear(el) {
  while (el.firstChild) el.firstChild.remove();
  return el;
}

// ---- talking to the board's API ----

async function api(path, params = {}) {
  const query = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== undefined && v !== null && v !== ''));
  const res = await fetch(`${BASE}/api/${path}?${query}`, { headers: { accept: 'application/json' }, credentials: 'same-origin' });
  return answer(res);
}

async function write(path, body) {
  const res = await fetch(`${BASE}/api/${path}`, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'content-type': 'application/json', 'x-nestream-csrf': CSRF },
    body: JSON.stringify(body),
  });
  return answer(res);
}

async function answer(res) {
  let body;
  try {
    body = await res.json();
  } catch {
    throw new Error(`HTTP ${res.status}`);
  }
  if (!res.ok) throw new Error(body && typeof body.error === 'string' ? body.error : `HTTP ${res.status}`);
  return body;
}

// ---- formatting ----

const fmt = new Intl.NumberFormat('en');
const num = n => (n === null || n === undefined ? '—' : fmt.format(n));
const idTime = id => new Date(Number(String(id).split('-')[0])).toISOString().replace('T', ' ').replace('Z', '');
const rate = r => (r === null || r === undefined ? '—' : `${r >= 10 ? Math.round(r) : r.toFixed(1)}/s`);

function duration(ms) {
  if (ms < 1000) return `${ms}ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${Math.floor(s % 60)}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86400)}d${Math.floor((s % 86400) / 3600)}h`;
}

/** A duration as said: `450 ms`, `2 s`, `5 min`, `3 h 5 min`, `2 d 4 h`. */
function spoken(ms) {
  if (ms < 1000) return `${ms} ms`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const min = Math.round(ms / 60000);
  if (min < 60) return `${min} min`;
  const totalMin = Math.floor(ms / 60000);
  if (totalMin < 1440) return `${Math.floor(totalMin / 60)} h ${totalMin % 60} min`;
  return `${Math.floor(totalMin / 1440)} d ${Math.floor((totalMin % 1440) / 60)} h`;
}

/** When something is due, from now: `in 5 min`, `overdue by 2 s`. */
const dueIn = ms => (ms >= 0 ? `in ${spoken(ms)}` : `overdue by ${spoken(-ms)}`);
const utc = ms => new Date(ms).toISOString().replace('T', ' ').replace('Z', '');

/** `30s`, `15m`, `2h`, `7d` or plain milliseconds. */
function parseDuration(text) {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(text);
  if (!m) return null;
  return Math.round(Number(m[1]) * { ms: 1, s: 1000, m: 60000, h: 3600000, d: 86400000 }[m[2] ?? 'ms']);
}

function pretty(value) {
  if (typeof value === 'string') return value;
  try {
    return JSON.stringify(value, null, 2);
  } catch {
    return String(value);
  }
}

function sparkline(values) {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  const width = 90;
  const height = 20;
  svg.setAttribute('class', 'spark');
  svg.setAttribute('width', String(width));
  svg.setAttribute('height', String(height));
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', values.length ? `entries added per second, last ${values.length} readings` : 'no rate yet');
  if (values.length > 1) {
    const max = Math.max(...values, 1);
    const points = values.map((v, i) => `${((i / (values.length - 1)) * (width - 2) + 1).toFixed(1)},${(height - 1 - (v / max) * (height - 2)).toFixed(1)}`);
    const line = document.createElementNS(ns, 'polyline');
    line.setAttribute('points', points.join(' '));
    svg.append(line);
  }
  return svg;
}

// ---- page frame: breadcrumbs, live status, messages ----

const main = document.getElementById('main');
const live = document.getElementById('live');
const modeBadge = document.getElementById('mode');
modeBadge.textContent = WRITES ? 'writes enabled' : 'read-only';
modeBadge.className = WRITES ? 'badge writes' : 'badge';

function crumbs(...items) {
  const list = clear(document.getElementById('crumbs'));
  for (const [label, href] of items) list.append(h('li', {}, href ? h('a', { href }, label) : h('span', { 'aria-current': 'page' }, label)));
}

function liveOk() {
  live.className = 'live';
  live.textContent = `updated ${new Date().toLocaleTimeString()}`;
}

function liveDown(err) {
  live.className = 'live down';
  live.textContent = err.message;
}

function flash(el, kind, message) {
  el.className = `flash ${kind}`;
  el.setAttribute('role', kind === 'error' ? 'alert' : 'status');
  el.textContent = message;
}

/** Calls `run` now and every `ms` while the page is visible, until stopped; no overlapping calls. */
function every(ms, run) {
  let timer;
  let stopped = false;
  const tick = async () => {
    if (stopped) return;
    if (!document.hidden) {
      try {
        await run();
        liveOk();
      } catch (err) {
        liveDown(err);
      }
    }
    if (!stopped) timer = setTimeout(tick, ms);
  };
  tick();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}

function confirmDialog(title, body, confirmLabel, { danger = false, typed, dismiss = 'Cancel' } = {}) {
  return new Promise(resolve => {
    const input = typed !== undefined ? h('input', { type: 'text', id: 'confirm-input', autocomplete: 'off', spellcheck: 'false' }) : null;
    const ok = h('button', { type: 'button', class: danger ? 'danger primary' : 'primary', disabled: typed !== undefined }, confirmLabel);
    const cancel = h('button', { type: 'button' }, dismiss);
    const dialog = h('dialog', { 'aria-labelledby': 'dialog-title' },
      h('h2', { id: 'dialog-title' }, title),
      body,
      input && h('p', {}, h('label', { for: 'confirm-input' }, 'Type ', h('code', {}, typed), ' to confirm'), h('br'), input),
      h('div', { class: 'actions' }, cancel, ok));
    const done = value => {
      dialog.close();
      dialog.remove();
      resolve(value);
    };
    input?.addEventListener('input', () => (ok.disabled = input.value !== typed));
    ok.addEventListener('click', () => done(true));
    cancel.addEventListener('click', () => done(false));
    dialog.addEventListener('cancel', () => done(false));
    document.body.append(dialog);
    dialog.showModal();
    (input ?? cancel).focus();
  });
}

// ---- views ----

const enc = encodeURIComponent;
const streamHref = name => `#/stream?s=${enc(name)}`;
const groupHref = (stream, group) => `#/group?s=${enc(stream)}&g=${enc(group)}`;
const dlqHref = name => `#/dlq?s=${enc(name)}`;
const scheduledHref = name => `#/scheduled?s=${enc(name)}`;

function overviewView() {
  crumbs(['Streams']);
  const expanded = new Set();
  const filter = h('input', { type: 'search', id: 'filter', placeholder: 'orders.', autocomplete: 'off' });
  const summary = h('p', { class: 'summary', id: 'summary' });
  const tbody = h('tbody');
  let last;
  const table = h('table', { 'aria-describedby': 'summary' },
    h('thead', {}, h('tr', {},
      h('th', { scope: 'col' }, 'Stream / group'), h('th', { scope: 'col', class: 'num' }, 'Entries'), h('th', { scope: 'col', class: 'num' }, 'Lag'),
      h('th', { scope: 'col', class: 'num' }, 'Pending'), h('th', { scope: 'col', class: 'num' }, 'Consumers'), h('th', { scope: 'col', class: 'num' }, 'Dead letters'),
      h('th', { scope: 'col', class: 'num' }, 'Scheduled'), h('th', { scope: 'col', class: 'num' }, 'Rate'), h('th', { scope: 'col' }, 'Last minute'))),
    tbody);
  clear(main).append(h('h1', {}, 'Streams'), h('div', { class: 'toolbar' }, h('label', { for: 'filter' }, 'Filter by name', filter)), summary, table);

  const groupRows = (streamName, groups, linkable) => groups.map(g => h('tr', { class: 'group' },
    h('td', {}, linkable ? h('a', { href: groupHref(streamName, g.name) }, g.name) : g.name), h('td'),
    h('td', { class: g.lag ? 'num hot' : 'num' }, num(g.lag)), h('td', { class: g.pending ? 'num hot' : 'num' }, num(g.pending)),
    h('td', { class: 'num' }, num(g.consumers)), h('td'), h('td'), h('td', { class: 'num' }, rate(g.outPerSec)), h('td')));
  // Delayed emits are per stream: a partitioned row shows their sum, each partition links to its own.
  const scheduledCell = (row, linkable) => linkable && row.scheduled > 0
    ? h('td', { class: 'num scheduled' }, h('a', { href: scheduledHref(row.name) }, num(row.scheduled)))
    : h('td', { class: 'num scheduled' }, num(row.scheduled));

  const render = () => {
    if (!last) return;
    const term = filter.value.trim().toLowerCase();
    const rows = last.rows.filter(r => !term || r.name.toLowerCase().includes(term) || r.partitions.some(p => p.name.toLowerCase().includes(term)));
    const dead = last.rows.reduce((n, r) => n + r.deadLetters, 0);
    summary.textContent = `${num(last.streamCount)} streams, ${num(dead)} dead letters` +
      (last.replyStreams ? `; ${num(last.replyStreams)} reply streams of request-reply clients not shown` : '') +
      (term ? `; ${rows.length} shown` : '');
    clear(tbody);
    if (rows.length === 0) tbody.append(h('tr', {}, h('td', { colspan: 9, class: 'none' }, last.rows.length ? 'No stream matches the filter.' : 'No streams yet.')));
    for (const row of rows) {
      const totalPending = row.groups.reduce((n, g) => n + g.pending, 0);
      const isOpen = expanded.has(row.name);
      const nameCell = row.kind === 'partitioned'
        ? h('td', {}, h('strong', {}, row.name), ' ',
          h('button', { type: 'button', class: 'link', 'aria-expanded': String(isOpen), onclick: () => { isOpen ? expanded.delete(row.name) : expanded.add(row.name); render(); } },
            `${row.partitions.length} partitions`))
        : h('td', {}, h('a', { href: streamHref(row.name) }, h('strong', {}, row.name)));
      const deadCell = row.kind === 'stream' && row.deadLetters > 0
        ? h('td', { class: 'num' }, h('a', { href: dlqHref(row.name), class: 'hot' }, num(row.deadLetters)))
        : h('td', { class: row.deadLetters ? 'num hot' : 'num' }, num(row.deadLetters));
      tbody.append(h('tr', { class: 'stream', 'data-stream': row.name },
        nameCell, h('td', { class: 'num' }, num(row.length)), h('td'), h('td', { class: 'num' }, num(totalPending)),
        h('td', { class: 'num' }, num(row.groups.reduce((n, g) => n + g.consumers, 0))), deadCell, scheduledCell(row, row.kind === 'stream'),
        h('td', { class: 'num' }, rate(row.inPerSec)), h('td', {}, sparkline(row.history))));
      tbody.append(...groupRows(row.name, row.groups, row.kind === 'stream'));
      if (isOpen) {
        for (const p of row.partitions) {
          tbody.append(h('tr', { class: 'partition', 'data-stream': p.name },
            h('td', {}, h('a', { href: streamHref(p.name) }, p.name)), h('td', { class: 'num' }, num(p.length)), h('td'),
            h('td', { class: 'num' }, num(p.groups.reduce((n, g) => n + g.pending, 0))), h('td', { class: 'num' }, num(p.groups.reduce((n, g) => n + g.consumers, 0))),
            p.deadLetters ? h('td', { class: 'num' }, h('a', { href: dlqHref(p.name), class: 'hot' }, num(p.deadLetters))) : h('td', { class: 'num' }, '0'),
            scheduledCell(p, true), h('td', { class: 'num' }, rate(p.inPerSec)), h('td', {}, sparkline(p.history))));
        }
      }
    }
  };
  filter.addEventListener('input', render);
  return every(2000, async () => {
    last = await api('overview');
    render();
  });
}

function entryRow(e) {
  const m = e.message;
  return h('tr', { 'data-id': e.id },
    h('td', { class: 'id' }, e.id), h('td', { class: 'mono' }, idTime(e.id)),
    h('td', { class: 'mono' }, m?.correlationId ?? ''),
    h('td', {}, m ? h('pre', {}, pretty(m.data)) : h('span', {}, h('span', { class: 'hot' }, `undecodable: ${e.decodeError}`), h('pre', {}, pretty(e.fields)))),
    h('td', {}, m && Object.keys(m.headers).length ? h('pre', {}, pretty(m.headers)) : ''));
}

function entriesTable(id) {
  const tbody = h('tbody', { id });
  return [tbody, h('table', {}, h('thead', {}, h('tr', {},
    h('th', { scope: 'col' }, 'ID'), h('th', { scope: 'col' }, 'Time (UTC)'), h('th', { scope: 'col' }, 'Correlation id'),
    h('th', { scope: 'col' }, 'Payload'), h('th', { scope: 'col' }, 'Headers'))), tbody)];
}

function streamView(params) {
  const name = params.get('s');
  crumbs(['Streams', '#/'], [name]);
  const groupsBody = h('tbody');
  const message = h('div', { class: 'flash' });
  const search = h('input', { type: 'search', id: 'entry-search', autocomplete: 'off' });
  const at = h('input', { type: 'text', id: 'entry-at', placeholder: '1700000000000-0 or 2026-12-07T10:00:00Z', autocomplete: 'off' });
  const [entriesBody, entriesTableEl] = entriesTable('entries');
  const more = h('button', { type: 'button', hidden: true }, 'Older entries');
  const [tailBody, tailTable] = entriesTable('tail');
  const follow = h('button', { type: 'button', 'aria-pressed': 'false' }, 'Follow live');
  const tailState = h('span', { class: 'muted', role: 'status' }, 'not following');
  let next = null;
  let browsing = false; // paged or searched: no auto refresh
  let source;

  const load = async (append_) => {
    const before = append_ ? next : boundary();
    const page = await api('entries', { stream: name, q: search.value.trim(), before, count: 50 });
    if (!append_) clear(entriesBody);
    for (const e of page.entries) entriesBody.append(entryRow(e));
    if (!append_ && page.entries.length === 0) entriesBody.append(h('tr', {}, h('td', { colspan: 5, class: 'none' }, 'No entries.')));
    next = page.next;
    more.hidden = !next;
  };
  const boundary = () => {
    const value = at.value.trim();
    if (!value) return undefined;
    if (/^\d+-\d+$/.test(value)) return value.replace(/-(\d+)$/, (_, seq) => `-${BigInt(seq) + 1n}`);
    const ms = Date.parse(value);
    if (Number.isNaN(ms)) throw new Error(`"${value}" is neither an entry id nor a time`);
    return `${ms + 1}-0`;
  };
  const form = h('form', { class: 'toolbar', role: 'search' },
    h('label', { for: 'entry-search' }, 'Search payloads', search),
    h('label', { for: 'entry-at' }, 'At or before id / time', at),
    h('button', { type: 'submit' }, 'Show'));
  form.addEventListener('submit', async ev => {
    ev.preventDefault();
    browsing = Boolean(search.value.trim() || at.value.trim());
    try {
      await load(false);
      flash(message, '', '');
    } catch (err) {
      flash(message, 'error', err.message);
    }
  });
  more.addEventListener('click', async () => {
    browsing = true;
    try {
      await load(true);
    } catch (err) {
      flash(message, 'error', err.message);
    }
  });
  follow.addEventListener('click', () => {
    if (source) {
      source.close();
      source = undefined;
      follow.textContent = 'Follow live';
      follow.setAttribute('aria-pressed', 'false');
      tailState.textContent = 'not following';
      return;
    }
    source = new EventSource(`${BASE}/api/tail?stream=${enc(name)}`);
    follow.textContent = 'Stop following';
    follow.setAttribute('aria-pressed', 'true');
    tailState.textContent = 'connecting…';
    source.addEventListener('ready', () => (tailState.textContent = 'following: new entries appear at the top'));
    source.addEventListener('entry', ev => {
      tailBody.prepend(entryRow(JSON.parse(ev.data)));
      while (tailBody.children.length > 200) tailBody.lastChild.remove();
    });
    source.addEventListener('failure', ev => {
      tailState.textContent = `stopped: ${JSON.parse(ev.data).error}`;
      source?.close();
    });
    source.onerror = () => (tailState.textContent = 'connection lost, retrying…');
  });

  clear(main).append(
    h('h1', {}, h('span', { class: 'mono' }, name)), message,
    h('h2', {}, 'Groups'),
    h('table', {}, h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Group'), h('th', { scope: 'col', class: 'num' }, 'Lag'),
      h('th', { scope: 'col', class: 'num' }, 'Pending'), h('th', { scope: 'col', class: 'num' }, 'Consumers'), h('th', { scope: 'col' }, 'Last delivered id'))), groupsBody),
    h('p', { id: 'dlq-link' }), h('p', { id: 'scheduled-link' }),
    h('h2', {}, 'Live tail'), h('div', { class: 'toolbar' }, follow, tailState), tailTable,
    h('h2', {}, 'Entries, newest first'), form, entriesTableEl, more);

  const stopPolling = every(3000, async () => {
    const stream = await api('stream', { stream: name });
    clear(groupsBody);
    if (stream.groups.length === 0) groupsBody.append(h('tr', {}, h('td', { colspan: 5, class: 'none' }, 'No consumer group reads this stream.')));
    for (const g of stream.groups) {
      groupsBody.append(h('tr', {}, h('td', {}, h('a', { href: groupHref(name, g.name) }, g.name)), h('td', { class: 'num' }, num(g.lag)),
        h('td', { class: 'num' }, num(g.pending)), h('td', { class: 'num' }, num(g.consumers.length)), h('td', { class: 'id' }, g.lastDeliveredId)));
    }
    const dlq = clear(document.getElementById('dlq-link'));
    if (stream.deadLetter) dlq.append(h('a', { href: dlqHref(name) }, `${num(stream.deadLetter.length)} dead letters`), ` in `, h('code', {}, stream.deadLetter.key));
    else dlq.append(h('span', { class: 'muted' }, 'No dead letters.'));
    const scheduled = clear(document.getElementById('scheduled-link'));
    scheduled.append(stream.scheduled === null
      ? h('span', { class: 'muted' }, "Delayed emits: the board's Redis user may not read this stream's schedule.")
      : stream.scheduled
        ? h('a', { href: scheduledHref(name) }, `${num(stream.scheduled)} delayed emit(s) scheduled`)
        : h('a', { href: scheduledHref(name), class: 'muted' }, 'No delayed emits scheduled.'));
    if (!browsing) await load(false);
  });
  return () => {
    stopPolling();
    source?.close();
  };
}

function groupView(params) {
  const name = params.get('s');
  const group = params.get('g');
  crumbs(['Streams', '#/'], [name, streamHref(name)], [group]);
  const consumersBody = h('tbody');
  const pendingBody = h('tbody');
  const pendingSummary = h('p', { class: 'summary' });
  const message = h('div', { class: 'flash' });
  const more = h('button', { type: 'button', hidden: true }, 'Next page');
  let after;
  let nextAfter = null;
  const prune = WRITES ? (() => {
    const idle = h('input', { type: 'text', id: 'prune-idle', value: '1h', autocomplete: 'off' });
    const form = h('form', { class: 'toolbar' }, h('label', { for: 'prune-idle' }, 'Remove consumers idle at least (30s, 15m, 1h, 7d)', idle),
      h('button', { type: 'submit', class: 'danger' }, 'Prune consumers'));
    form.addEventListener('submit', async ev => {
      ev.preventDefault();
      const idleMs = parseDuration(idle.value);
      if (idleMs === null) return flash(message, 'error', `"${idle.value}" is not a duration (30s, 15m, 1h, 7d)`);
      try {
        const r = await write('prune', { stream: name, group, idleMs });
        flash(message, 'ok', `Removed ${r.removed.length} consumer(s); kept ${r.keptWithPending.length} idle one(s) holding pending entries; ${r.active} active.`);
      } catch (err) {
        flash(message, 'error', err.message);
      }
    });
    return form;
  })() : null;
  more.addEventListener('click', () => {
    after = nextAfter ?? undefined;
    refresh().catch(err => flash(message, 'error', err.message));
  });
  clear(main).append(
    h('h1', {}, h('span', { class: 'mono' }, name), ' / ', h('span', { class: 'mono' }, group)), message,
    h('h2', {}, 'Consumers'),
    h('table', {}, h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Consumer'), h('th', { scope: 'col', class: 'num' }, 'Pending'), h('th', { scope: 'col', class: 'num' }, 'Idle'))), consumersBody),
    prune,
    h('h2', {}, 'Pending entries, oldest first'), pendingSummary,
    h('table', {}, h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'ID'), h('th', { scope: 'col' }, 'Consumer'), h('th', { scope: 'col', class: 'num' }, 'Idle'), h('th', { scope: 'col', class: 'num' }, 'Deliveries'))), pendingBody),
    more);
  const refresh = async () => {
    const r = await api('group', { stream: name, group, after });
    clear(consumersBody);
    if (r.group.consumers.length === 0) consumersBody.append(h('tr', {}, h('td', { colspan: 3, class: 'none' }, 'No consumers.')));
    for (const c of r.group.consumers) consumersBody.append(h('tr', {}, h('td', { class: 'mono' }, c.name), h('td', { class: 'num' }, num(c.pending)), h('td', { class: 'num' }, duration(c.idleMs))));
    pendingSummary.textContent = `${num(r.pending.total)} pending in all; lag ${num(r.group.lag)}; last delivered ${r.group.lastDeliveredId}`;
    clear(pendingBody);
    if (r.pending.entries.length === 0) pendingBody.append(h('tr', {}, h('td', { colspan: 4, class: 'none' }, 'Nothing pending.')));
    for (const p of r.pending.entries) {
      pendingBody.append(h('tr', {}, h('td', { class: 'id' }, p.id), h('td', { class: 'mono' }, p.consumer), h('td', { class: 'num' }, duration(p.idleMs)),
        h('td', { class: p.deliveries > 1 ? 'num hot' : 'num' }, num(p.deliveries))));
    }
    nextAfter = r.pending.next;
    more.hidden = !nextAfter;
  };
  return every(3000, refresh);
}

function deadLetterDetail(d) {
  const fields = h('dl', { class: 'fields' });
  for (const [k, v] of Object.entries(d.fields)) fields.append(h('dt', {}, k), h('dd', {}, v));
  return h('div', {},
    h('p', {}, h('strong', {}, d.error.name || 'Error'), ': ', d.error.message),
    h('p', { class: 'muted' }, `source entry ${d.sourceId} of ${d.stream}; group ${d.group}, consumer ${d.consumer}; failed at ${d.failedAt}`,
      d.redrive ? `; redriven ${d.redrive.count} time(s) before, last from ${d.redrive.from}` : ''),
    d.message ? [h('h3', {}, 'Payload'), h('pre', { class: 'payload' }, pretty(d.message.data)),
      Object.keys(d.message.headers).length ? [h('h3', {}, 'Headers'), h('pre', {}, pretty(d.message.headers))] : null]
      : h('p', { class: 'hot' }, `Undecodable: ${d.decodeError}`),
    h('h3', {}, 'Fields'), fields);
}

function deadLettersView(params) {
  const name = params.get('s');
  crumbs(['Streams', '#/'], [name, streamHref(name)], ['Dead letters']);
  const reason = h('input', { type: 'text', id: 'dl-reason', list: 'reasons', autocomplete: 'off', value: params.get('reason') ?? '' });
  const text = h('input', { type: 'search', id: 'dl-text', autocomplete: 'off' });
  const message = h('div', { class: 'flash', id: 'dl-message' });
  const summary = h('p', { class: 'summary', id: 'dl-summary' });
  const tbody = h('tbody');
  const more = h('button', { type: 'button', hidden: true }, 'Older dead letters');
  const selected = new Set();
  const open = new Set();
  let next = null;
  let paged = false;
  let groups = [];
  const all = h('input', { type: 'checkbox', id: 'select-all', 'aria-label': 'Select all shown' });
  const redriveSelected = h('button', { type: 'button', class: 'primary', disabled: true }, 'Redrive selected');
  const redriveAll = h('button', { type: 'button' }, 'Redrive all');
  const purge = h('button', { type: 'button', class: 'danger' }, 'Purge…');
  const updateButtons = () => {
    redriveSelected.disabled = selected.size === 0;
    redriveSelected.textContent = `Redrive selected (${selected.size})`;
    redriveAll.textContent = reason.value.trim() ? `Redrive all "${reason.value.trim()}"` : 'Redrive all';
  };
  const groupWarning = () => groups.length
    ? h('p', { class: 'note' }, `Every group of ${name} gets the redriven entries: ${groups.join(', ')}. A group that handled an entry before its failure elsewhere handles it again.`)
    : h('p', { class: 'note' }, `${name} has no consumer group now: the redrive is refused until its consumers run.`);

  const row = d => {
    const box = h('input', { type: 'checkbox', 'aria-label': `Select dead letter ${d.id}`, checked: selected.has(d.id) });
    box.addEventListener('change', () => {
      box.checked ? selected.add(d.id) : selected.delete(d.id);
      updateButtons();
    });
    const isOpen = open.has(d.id);
    const toggle = h('button', { type: 'button', class: 'link', 'aria-expanded': String(isOpen) }, isOpen ? 'Hide' : 'Show');
    const tr = h('tr', { 'data-id': d.id },
      h('td', {}, WRITES ? box : null), h('td', { class: 'id' }, d.id), h('td', { class: 'mono' }, idTime(d.id)), h('td', {}, d.reason),
      h('td', { class: 'num' }, num(d.attempts)), h('td', { class: 'error' }, `${d.error.name}: ${d.error.message}`), h('td', { class: 'id' }, d.sourceId),
      h('td', { class: 'mono' }, d.consumer), h('td', {}, toggle));
    const detail = h('tr', { class: 'detail', hidden: !isOpen }, h('td', { colspan: 9 }, deadLetterDetail(d)));
    toggle.addEventListener('click', () => {
      const show = detail.hidden;
      detail.hidden = !show;
      show ? open.add(d.id) : open.delete(d.id);
      toggle.textContent = show ? 'Hide' : 'Show';
      toggle.setAttribute('aria-expanded', String(show));
    });
    return [tr, detail];
  };

  const load = async append_ => {
    const page = await api('dead-letters', { stream: name, reason: reason.value.trim(), q: text.value.trim(), before: append_ ? next : undefined, count: 50 });
    if (!append_) clear(tbody);
    for (const d of page.entries) tbody.append(...row(d));
    if (!append_ && page.entries.length === 0) tbody.append(h('tr', {}, h('td', { colspan: 9, class: 'none' }, page.total ? 'No dead letter matches.' : 'No dead letters.')));
    summary.textContent = `${num(page.total)} dead letters in ${page.deadLetterKey}` + (page.next ? '; more below' : '');
    next = page.next;
    more.hidden = !next;
    const shown = new Set(page.entries.map(d => d.id));
    if (!append_) for (const id of [...selected]) if (!shown.has(id)) selected.delete(id);
    updateButtons();
  };
  const reload = () => load(false).then(() => flash(message, '', ''), err => flash(message, 'error', err.message));

  const form = h('form', { class: 'toolbar', role: 'search' },
    h('label', { for: 'dl-reason' }, 'Reason', reason), h('datalist', { id: 'reasons' }, REASONS.map(r => h('option', { value: r }))),
    h('label', { for: 'dl-text' }, 'Text (payload, error, ids)', text), h('button', { type: 'submit' }, 'Filter'));
  form.addEventListener('submit', ev => {
    ev.preventDefault();
    paged = false;
    selected.clear();
    reload();
  });
  reason.addEventListener('input', updateButtons);
  all.addEventListener('change', () => {
    for (const box of tbody.querySelectorAll('input[type=checkbox]')) {
      box.checked = all.checked;
      box.dispatchEvent(new Event('change'));
    }
  });
  more.addEventListener('click', () => {
    paged = true;
    load(true).catch(err => flash(message, 'error', err.message));
  });

  const redrive = async (body, what) => {
    if (!(await confirmDialog(`Redrive ${what}?`, groupWarning(), 'Redrive'))) return;
    flash(message, 'ok', `Redriving ${what}…`);
    try {
      let r = await write('redrive', { stream: name, ...body });
      // "Redrive all" runs on the server as a job: follow its progress.
      while (r.job) {
        const job = r.job;
        if (job.state === 'failed') throw new Error(job.error);
        if (job.state === 'done') r = job.result;
        else {
          const p = job.progress;
          flash(message, 'ok', `Redriving ${what}: ${num(p.examined)} of ${num(p.total)} examined, ${num(p.moved)} moved…`);
          await new Promise(resolve => setTimeout(resolve, 250));
          r = { job: await api('redrive-job', { id: job.id }) };
        }
      }
      selected.clear();
      await load(false);
      flash(message, 'ok', `Redriven: ${r.moved} moved back to ${name}` + (r.notFound ? `, ${r.notFound} gone already` : '') +
        (r.skipped ? `, ${r.skipped} skipped (other reason)` : '') + (r.truncated ? `, ${r.truncated} left alone (truncated payloads)` : '') + '.');
    } catch (err) {
      flash(message, 'error', err.message);
    }
  };
  redriveSelected.addEventListener('click', () => redrive({ ids: [...selected] }, `${selected.size} dead letter(s)`));
  redriveAll.addEventListener('click', () => {
    const r = reason.value.trim();
    redrive({ all: true, reason: r || undefined }, r ? `every "${r}" dead letter` : 'every dead letter');
  });
  purge.addEventListener('click', async () => {
    const r = reason.value.trim() || undefined;
    try {
      const count = await write('purge-count', { stream: name, reason: r });
      if (count.count === 0) return flash(message, 'ok', 'Nothing to purge.');
      const body = h('p', {}, `This deletes ${num(count.count)} dead letter(s)${r ? ` with reason "${r}"` : ''} of ${name}, up to ${count.upTo}, for good. They cannot be redriven afterwards.`);
      if (!(await confirmDialog('Purge dead letters?', body, 'Purge', { danger: true, typed: name }))) return;
      const done = await write('purge', { stream: name, reason: r, upTo: count.upTo, confirm: name });
      await load(false);
      flash(message, 'ok', `Purged ${num(done.deleted)} dead letter(s).`);
    } catch (err) {
      flash(message, 'error', err.message);
    }
  });

  clear(main).append(
    h('h1', {}, 'Dead letters of ', h('span', { class: 'mono' }, name)), form, message,
    WRITES ? h('div', { class: 'toolbar' }, redriveSelected, redriveAll, purge)
      : h('p', { class: 'muted' }, 'Read-only board: redrive and purge need a board started with writes allowed.'),
    summary,
    h('table', {}, h('thead', {}, h('tr', {},
      h('th', { scope: 'col' }, WRITES ? all : h('span', { class: 'skip' }, 'Select')), h('th', { scope: 'col' }, 'ID'), h('th', { scope: 'col' }, 'Dead-lettered (UTC)'),
      h('th', { scope: 'col' }, 'Reason'), h('th', { scope: 'col', class: 'num' }, 'Attempts'), h('th', { scope: 'col' }, 'Error'),
      h('th', { scope: 'col' }, 'Source id'), h('th', { scope: 'col' }, 'Consumer'), h('th', { scope: 'col' }, 'Details'))), tbody),
    more);
  updateButtons();
  return every(5000, async () => {
    const stream = await api('stream', { stream: name }).catch(() => ({ groups: [] }));
    groups = stream.groups.map(g => g.name);
    // A list being read (paged or with a dialog open) is not swapped under the operator.
    if (!paged && !document.querySelector('dialog[open]')) await load(false);
  });
}

function scheduledView(params) {
  const name = params.get('s');
  crumbs(['Streams', '#/'], [name, streamHref(name)], ['Scheduled']);
  const PAGE = 50;
  const message = h('div', { class: 'flash', id: 'sched-message' });
  const summary = h('p', { class: 'summary', id: 'sched-summary' });
  const tbody = h('tbody', { id: 'scheduled' });
  const newer = h('button', { type: 'button', hidden: true }, 'Sooner');
  const later = h('button', { type: 'button', hidden: true }, 'Later');
  const selected = new Set();
  const all = h('input', { type: 'checkbox', id: 'select-all', 'aria-label': 'Select all shown' });
  const cancelSelected = h('button', { type: 'button', class: 'danger', disabled: true }, 'Cancel selected (0)');
  let offset = 0;
  // The board server's clock against the page's, from the last reading: due times count down between readings.
  let skew = 0;
  const updateButtons = () => {
    cancelSelected.disabled = selected.size === 0;
    cancelSelected.textContent = `Cancel selected (${selected.size})`;
  };
  const tickDueTimes = () => {
    for (const cell of tbody.querySelectorAll('td.due-in')) cell.textContent = dueIn(Number(cell.dataset.due) - (Date.now() + skew));
  };

  const row = e => {
    const box = h('input', { type: 'checkbox', 'aria-label': `Select delayed emit ${e.id}`, checked: selected.has(e.id) });
    box.addEventListener('change', () => {
      box.checked ? selected.add(e.id) : selected.delete(e.id);
      updateButtons();
    });
    const m = e.message;
    const dueCell = h('td', { class: 'due-in' });
    dueCell.dataset.due = String(e.dueAt);
    return h('tr', { 'data-id': e.id },
      h('td', {}, WRITES ? box : null), h('td', { class: 'id' }, e.id), h('td', { class: 'mono due-at' }, utc(e.dueAt)), dueCell,
      h('td', { class: 'mono' }, e.key), h('td', { class: 'mono' }, m?.correlationId ?? ''),
      h('td', {}, m ? h('pre', { class: 'payload' }, pretty(m.data)) : h('span', {}, h('span', { class: 'hot' }, `undecodable: ${e.decodeError}`), h('pre', {}, pretty(e.fields)))),
      h('td', {}, m && Object.keys(m.headers).length ? h('pre', { class: 'headers' }, pretty(m.headers)) : ''),
      h('td', {}, WRITES ? h('button', { type: 'button', class: 'danger', onclick: () => cancel([e.id]) }, 'Cancel') : null));
  };

  const load = async () => {
    const list = await api('scheduled', { stream: name, offset, count: PAGE });
    skew = list.now - Date.now();
    clear(tbody);
    for (const e of list.entries) tbody.append(row(e));
    if (list.entries.length === 0) tbody.append(h('tr', {}, h('td', { colspan: 9, class: 'none' }, list.total ? 'No delayed emit on this page.' : 'No delayed emits waiting.')));
    tickDueTimes();
    summary.textContent = list.total === 0 ? `Nothing scheduled for ${name}.`
      : `${num(list.total)} delayed emit(s) waiting for ${name}, soonest first; showing ${num(offset + Math.min(1, list.entries.length))}–${num(offset + list.entries.length)}.`;
    newer.hidden = offset === 0;
    later.hidden = offset + list.entries.length >= list.total;
    const shown = new Set(list.entries.map(e => e.id));
    for (const id of [...selected]) if (!shown.has(id)) selected.delete(id);
    updateButtons();
  };
  const page = async to => {
    offset = Math.max(0, to);
    try {
      await load();
    } catch (err) {
      flash(message, 'error', err.message);
    }
  };
  newer.addEventListener('click', () => page(offset - PAGE));
  later.addEventListener('click', () => page(offset + PAGE));

  const cancel = async ids => {
    const what = ids.length === 1 ? `delayed emit ${ids[0]}` : `${ids.length} delayed emits`;
    const body = h('p', {}, `${ids.length === 1 ? 'It' : 'They'} will not enter ${name}. This cannot be undone.`);
    if (!(await confirmDialog(`Cancel ${what}?`, body, 'Cancel the emit' + (ids.length === 1 ? '' : 's'), { danger: true, dismiss: 'Keep' }))) return;
    try {
      const r = await write('cancel-scheduled', { stream: name, ids });
      for (const id of r.cancelled) selected.delete(id);
      await load();
      const notWaiting = r.notWaiting.length
        ? ` Not waiting any more (entered ${name} already, cancelled before, or never scheduled): ${r.notWaiting.join(', ')}.` : '';
      flash(message, r.notWaiting.length ? 'error' : 'ok', `Cancelled ${r.cancelled.length} delayed emit(s).${notWaiting}`);
    } catch (err) {
      flash(message, 'error', err.message);
    }
  };
  cancelSelected.addEventListener('click', () => cancel([...selected]));
  all.addEventListener('change', () => {
    for (const box of tbody.querySelectorAll('input[type=checkbox]')) {
      box.checked = all.checked;
      box.dispatchEvent(new Event('change'));
    }
  });

  clear(main).append(
    h('h1', {}, 'Scheduled emits of ', h('span', { class: 'mono' }, name)), message,
    WRITES ? h('div', { class: 'toolbar' }, cancelSelected)
      : h('p', { class: 'muted' }, 'Read-only board: cancelling delayed emits needs a board started with writes allowed.'),
    summary,
    h('table', {}, h('thead', {}, h('tr', {},
      h('th', { scope: 'col' }, WRITES ? all : h('span', { class: 'skip' }, 'Select')), h('th', { scope: 'col' }, 'Schedule id'), h('th', { scope: 'col' }, 'Due (UTC)'),
      h('th', { scope: 'col' }, 'Due'), h('th', { scope: 'col' }, 'Into stream'), h('th', { scope: 'col' }, 'Correlation id'),
      h('th', { scope: 'col' }, 'Payload'), h('th', { scope: 'col' }, 'Headers'), h('th', { scope: 'col' }, WRITES ? 'Cancel' : h('span', { class: 'skip' }, 'Actions')))), tbody),
    h('div', { class: 'toolbar' }, newer, later));
  updateButtons();
  const ticker = setInterval(tickDueTimes, 1000);
  const stopPolling = every(3000, async () => {
    // A page the operator moved to, or a dialog open, is not swapped under them.
    if (offset === 0 && !document.querySelector('dialog[open]')) await load();
  });
  return () => {
    stopPolling();
    clearInterval(ticker);
  };
}

// ---- routing (hash based: the page never reloads) ----

const views = { '': overviewView, stream: streamView, group: groupView, dlq: deadLettersView, scheduled: scheduledView };
let stopView = () => undefined;

function route() {
  stopView();
  const hash = location.hash.replace(/^#\/?/, '');
  const [path, query = ''] = hash.split('?');
  const view = Object.hasOwn(views, path) ? views[path] : overviewView;
  const params = new URLSearchParams(query);
  if (view !== overviewView && !params.get('s')) {
    location.hash = '#/';
    return;
  }
  stopView = view(params) ?? (() => undefined);
  main.focus({ preventScroll: true });
}

window.addEventListener('hashchange', route);
route();
