// weir console: a small single-page app over the JSON API in docs/console-api.md.
// Vanilla JS, no build step. Every piece of data goes into the DOM through textContent or
// attributes (h() below), never through innerHTML. Lists are paged by the server.
'use strict';
(() => {
  const API = '/api/v1';
  const TOPICS_PAGE = 50, GROUPS_PAGE = 50, PARTITIONS_PAGE = 100, OFFSETS_PAGE = 100;
  const REFRESH_MS = 10000;
  let RO = true; // read-only until /console says otherwise
  let INFO = {};
  let current = null; // the view on screen: { alive, params, refresh, auto }
  let flash = null; // a message to show after the next navigation

  // ---------------------------------------------------------------- DOM helpers
  const $ = (sel, root = document) => root.querySelector(sel);
  const enc = encodeURIComponent;

  function h(tag, attrs, ...kids) {
    const e = document.createElement(tag);
    setAttrs(e, attrs);
    return add(e, kids);
  }
  function svg(tag, attrs, ...kids) {
    const e = document.createElementNS('http://www.w3.org/2000/svg', tag);
    setAttrs(e, attrs);
    return add(e, kids);
  }
  function setAttrs(e, attrs) {
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v == null || v === false) continue;
      if (k === 'text') e.textContent = v;
      else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
      else if (k === 'value' && 'value' in e) e.value = v;
      else e.setAttribute(k, v === true ? '' : String(v));
    }
  }
  // Replaces e's children (null and false kids are left out, strings become text nodes).
  function fill(e, ...kids) { e.replaceChildren(); return add(e, kids); }
  function add(e, ...kids) {
    for (const k of kids.flat(Infinity)) {
      if (k == null || k === false) continue;
      e.append(k instanceof Node ? k : String(k)); // strings become text nodes
    }
    return e;
  }
  const nf = new Intl.NumberFormat('en-US');
  const num = (n) => (n == null ? '—' : nf.format(n));
  const pad = (x, n = 2) => String(x).padStart(n, '0');
  function fmtTime(ms, withMs = true) {
    if (ms == null || ms < 0) return '—';
    const d = new Date(ms);
    const s = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
      `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
    return withMs ? `${s}.${pad(d.getMilliseconds(), 3)}` : s;
  }
  function ago(ms) {
    const s = Math.round((Date.now() - ms) / 1000);
    if (s < 0) return 'in the future';
    if (s < 60) return `${s} s ago`;
    if (s < 3600) return `${Math.floor(s / 60)} min ago`;
    if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
    return `${Math.floor(s / 86400)} d ago`;
  }
  function debounce(fn, ms) {
    let t = null;
    return (...a) => { clearTimeout(t); t = setTimeout(() => fn(...a), ms); };
  }
  const badge = (text, kind = '', title) => h('span', { class: `badge ${kind ? 'badge-' + kind : ''}`, text, title });
  const btn = (label, attrs) => h('button', Object.assign({ type: 'button', class: 'btn' }, attrs), label);

  // ---------------------------------------------------------------- API
  class ApiError extends Error {
    constructor(status, code, message) { super(message); this.status = status; this.code = code; }
  }
  async function api(method, path, body) {
    const opts = { method, headers: { Accept: 'application/json' } };
    if (body !== undefined) {
      opts.headers['Content-Type'] = 'application/json';
      opts.body = JSON.stringify(body);
    }
    let res;
    try {
      res = await fetch(API + path, opts);
    } catch (e) {
      throw new ApiError(0, 'NETWORK', `The console could not reach the broker (${e.message}).`);
    }
    const text = await res.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch (_) { data = null; }
    if (!res.ok) {
      const msg = data && typeof data.error === 'string' ? data.error : `${res.status} ${res.statusText}`;
      throw new ApiError(res.status, (data && data.code) || `HTTP_${res.status}`, msg);
    }
    return data;
  }
  function qs(params) {
    const u = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v != null && v !== '') u.set(k, String(v));
    const s = u.toString();
    return s ? `?${s}` : '';
  }

  // ---------------------------------------------------------------- banner
  let bannerTimer = null;
  function banner(msg, kind = 'error') {
    const b = $('#banner');
    clearTimeout(bannerTimer);
    b.className = `banner banner-${kind}`;
    b.setAttribute('role', kind === 'error' ? 'alert' : 'status');
    fill(b, 
      h('span', { class: 'banner-icon', 'aria-hidden': 'true', text: kind === 'error' ? '!' : '✓' }),
      h('span', { class: 'banner-text', text: msg }),
      h('button', { type: 'button', class: 'banner-close', 'aria-label': 'Dismiss', text: '×', onclick: clearBanner }));
    b.hidden = false;
    if (kind !== 'error') bannerTimer = setTimeout(clearBanner, 8000);
  }
  function clearBanner() { const b = $('#banner'); b.hidden = true; fill(b); }
  function showError(err) {
    if (err instanceof ApiError) banner(err.code && !err.code.startsWith('HTTP_') ? `${err.message} (${err.code})` : err.message);
    else banner(`Unexpected error: ${(err && err.message) || err}`);
  }

  // ---------------------------------------------------------------- routing
  function parseHash() {
    const raw = location.hash.replace(/^#/, '') || '/';
    const i = raw.indexOf('?');
    const path = i < 0 ? raw : raw.slice(0, i);
    let parts;
    try { parts = path.split('/').filter(Boolean).map(decodeURIComponent); } catch (_) { parts = null; }
    return { parts, params: new URLSearchParams(i < 0 ? '' : raw.slice(i + 1)) };
  }
  // Rewrites the hash's query (for back/forward and reloads) without routing again.
  function setParams(params) {
    const raw = location.hash.replace(/^#/, '') || '/';
    const path = raw.split('?')[0];
    const next = `#${path}${qs(params)}`;
    if (next !== location.hash) history.replaceState(null, '', next);
  }
  function route() {
    if (current) current.alive = false;
    clearBanner();
    if (flash) { banner(flash, 'ok'); flash = null; }
    const { parts, params } = parseHash();
    const ctx = { alive: true, params, refresh: null, auto: false };
    current = ctx;
    const view = $('#view');
    fill(view);
    let nav = '', fn = viewNotFound, args = [];
    const p = parts || [null];
    if (p.length === 0) { nav = 'overview'; fn = viewOverview; }
    else if (p[0] === 'topics' && p.length === 1) { nav = 'topics'; fn = viewTopics; }
    else if (p[0] === 'topics' && p.length === 2) { nav = 'topics'; fn = viewTopic; args = [p[1]]; }
    else if (p[0] === 'topics' && p.length === 3 && p[2] === 'messages') { nav = 'topics'; fn = viewMessages; args = [p[1]]; }
    else if (p[0] === 'groups' && p.length === 1) { nav = 'groups'; fn = viewGroups; }
    else if (p[0] === 'groups' && p.length === 2) { nav = 'groups'; fn = viewGroup; args = [p[1]]; }
    else if (p[0] === 'brokers' && p.length === 2) { nav = 'overview'; fn = viewBroker; args = [p[1]]; }
    for (const a of document.querySelectorAll('#nav a')) a.classList.toggle('active', a.dataset.nav === nav);
    document.title = `weir · ${nav || 'not found'}`;
    view.setAttribute('data-view', fn.name.replace(/^view/, '').toLowerCase());
    view.removeAttribute('data-ready');
    // data-ready: the view's first load is done (shown or failed); scripts and tests wait on it.
    Promise.resolve().then(() => fn(ctx, view, ...args)).catch((e) => { if (ctx.alive) showError(e); })
      .finally(() => { if (ctx.alive) view.setAttribute('data-ready', ''); });
  }
  // loader(ctx, fn) returns load(): runs fn(fresh), where fresh() tells whether this run is still
  // the latest one of a live view (older answers are dropped, never rendered). The auto-refresh
  // calls ctx.refresh, which skips a tick while a load is in flight.
  function loader(ctx, fn) {
    let seq = 0, inflight = 0;
    const load = async () => {
      const my = ++seq;
      inflight++;
      try { await fn(() => ctx.alive && my === seq); } catch (e) { if (ctx.alive && my === seq) showError(e); } finally { inflight--; }
    };
    ctx.refresh = () => (inflight ? Promise.resolve() : load());
    return load;
  }
  setInterval(() => { if (!document.hidden && current && current.auto && current.refresh) current.refresh(); }, REFRESH_MS);
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden && current && current.auto && current.refresh) current.refresh();
  });

  // ---------------------------------------------------------------- shared widgets
  function pager(total, offset, limit, go, label = '') {
    const last = total > 0 ? Math.floor((total - 1) / limit) * limit : 0;
    const pages = Math.max(1, Math.ceil(total / limit));
    const b = (text, title, to, disabled, which) =>
      btn(text, { class: 'btn btn-sm', title, 'aria-label': title, disabled, 'data-page': which, onclick: () => go(to) });
    return h('div', { class: 'pager' },
      h('span', { class: 'pager-info', text: total ? `${num(offset + 1)}–${num(Math.min(offset + limit, total))} of ${num(total)}${label}` : `0${label}` }),
      h('span', { class: 'pager-buttons' },
        b('«', 'First page', 0, offset <= 0, 'first'),
        b('‹', 'Previous page', Math.max(0, offset - limit), offset <= 0, 'prev'),
        h('span', { class: 'pager-page', text: `page ${num(Math.floor(offset / limit) + 1)} of ${num(pages)}` }),
        b('›', 'Next page', offset + limit, offset + limit >= total, 'next'),
        b('»', 'Last page', last, offset >= last, 'last')));
  }
  // table([[label, cls]], rows, row => <tr>, emptyText)
  function table(cols, rows, rowFn, empty, cls = '') {
    const head = h('tr', null, cols.map(([label, c]) => h('th', { class: c, scope: 'col', text: label })));
    const body = h('tbody', null, rows.length ? rows.map(rowFn)
      : h('tr', { class: 'empty' }, h('td', { colspan: cols.length, text: empty })));
    return h('div', { class: 'table-wrap' }, h('table', { class: cls }, h('thead', null, head), body));
  }
  const td = (text, cls, attrs) => h('td', Object.assign({ class: cls, text: text == null ? '—' : String(text) }, attrs));
  function card(label, value, kind, id) {
    return h('div', { class: `card ${kind ? 'card-' + kind : ''}`, 'data-stat': id },
      h('div', { class: 'card-value', text: typeof value === 'number' ? num(value) : value }),
      h('div', { class: 'card-label', text: label }));
  }
  function searchBox(id, placeholder, value, onSearch) {
    const input = h('input', { type: 'search', id, placeholder, 'aria-label': placeholder, value, autocomplete: 'off', spellcheck: 'false' });
    input.addEventListener('input', debounce(() => onSearch(input.value.trim()), 300));
    return h('div', { class: 'search' }, input);
  }
  function stateBadge(state) {
    const kind = { Stable: 'ok', Empty: '', Dead: 'bad' }[state];
    return badge(state || 'unknown', kind === undefined ? 'warn' : kind);
  }
  // The confirmation dialog: resolves true once the user typed `expect` and pressed the button.
  function confirmTyped({ title, text, expect, action }) {
    const d = $('#confirm'), input = $('#confirm-input'), ok = $('#confirm-ok');
    $('#confirm-title').textContent = title;
    $('#confirm-text').textContent = text;
    fill($('#confirm-label'), 'Type ', h('code', { text: expect }), ' to confirm:');
    ok.textContent = action;
    ok.value = 'ok';
    ok.disabled = true;
    input.value = '';
    input.oninput = () => { ok.disabled = input.value !== expect; };
    $('#confirm-cancel').onclick = () => d.close('cancel');
    d.returnValue = '';
    return new Promise((resolve) => {
      d.addEventListener('close', () => resolve(d.returnValue === 'ok' && input.value === expect), { once: true });
      d.showModal();
      input.focus();
    });
  }

  // ---------------------------------------------------------------- charts (inline SVG)
  function lagSeries(hist) { return (hist || []).filter((p) => p && p.lag != null && p.t != null); }
  function sparkline(hist) {
    const pts = lagSeries(hist);
    const W = 120, H = 28;
    const el = svg('svg', { class: 'spark', viewBox: `0 0 ${W} ${H}`, width: W, height: H, role: 'img' });
    if (pts.length === 0) { el.setAttribute('aria-label', 'no lag samples yet'); return el; }
    const max = Math.max(1, ...pts.map((p) => p.lag));
    const t0 = pts[0].t, t1 = pts[pts.length - 1].t;
    const x = (p, i) => (t1 > t0 ? (p.t - t0) / (t1 - t0) : pts.length > 1 ? i / (pts.length - 1) : 1) * (W - 4) + 2;
    const y = (v) => 2 + (1 - v / max) * (H - 4);
    const line = pts.map((p, i) => `${x(p, i).toFixed(1)},${y(p.lag).toFixed(1)}`);
    if (pts.length === 1) line.unshift(`2,${y(pts[0].lag).toFixed(1)}`);
    const last = pts[pts.length - 1];
    el.setAttribute('aria-label', `lag over time, now ${last.lag}, max ${max}`);
    add(el, [
      svg('title', { text: `lag now ${num(last.lag)}, max ${num(max)} over ${pts.length} samples` }),
      svg('polygon', { class: 'spark-area', points: `${line[0].split(',')[0]},${H} ${line.join(' ')} ${line[line.length - 1].split(',')[0]},${H}` }),
      svg('polyline', { class: 'spark-line', points: line.join(' ') }),
      svg('circle', { class: 'spark-dot', cx: x(last, pts.length - 1), cy: y(last.lag), r: 2 })]);
    return el;
  }
  function lagChart(hist, width) {
    const pts = lagSeries(hist);
    const W = Math.max(320, Math.round(width || 800)), H = 220, L = 64, R = 16, T = 14, B = 30;
    const el = svg('svg', { class: 'chart', viewBox: `0 0 ${W} ${H}`, width: W, height: H, role: 'img', 'aria-label': 'total lag over time' });
    if (pts.length === 0) {
      add(el, svg('text', { x: W / 2, y: H / 2, class: 'chart-empty', 'text-anchor': 'middle', text: 'No lag samples yet' }));
      return el;
    }
    const max = Math.max(1, ...pts.map((p) => p.lag));
    const t0 = pts[0].t, t1 = Math.max(pts[pts.length - 1].t, t0 + 1);
    const x = (t) => L + ((t - t0) / (t1 - t0)) * (W - L - R);
    const y = (v) => T + (1 - v / max) * (H - T - B);
    for (const f of [0, 0.5, 1]) {
      const v = Math.round(max * f);
      add(el, svg('line', { class: 'chart-grid', x1: L, x2: W - R, y1: y(v), y2: y(v) }),
        svg('text', { class: 'chart-label', x: L - 8, y: y(v) + 4, 'text-anchor': 'end', text: num(v) }));
    }
    const hm = (t) => fmtTime(t, false).slice(11);
    add(el, svg('text', { class: 'chart-label', x: L, y: H - 8, text: hm(t0) }),
      svg('text', { class: 'chart-label', x: W - R, y: H - 8, 'text-anchor': 'end', text: hm(pts[pts.length - 1].t) }));
    const line = pts.length === 1 ? [`${L},${y(pts[0].lag)}`, `${W - R},${y(pts[0].lag)}`]
      : pts.map((p) => `${x(p.t).toFixed(1)},${y(p.lag).toFixed(1)}`);
    const base = y(0);
    add(el, svg('polygon', { class: 'chart-area', points: `${line[0].split(',')[0]},${base} ${line.join(' ')} ${line[line.length - 1].split(',')[0]},${base}` }),
      svg('polyline', { class: 'chart-line', points: line.join(' ') }));
    // Hover: a cursor line and the nearest sample's value.
    const cursor = svg('line', { class: 'chart-cursor', y1: T, y2: H - B, visibility: 'hidden' });
    const tip = svg('text', { class: 'chart-tip', y: T + 12, visibility: 'hidden' });
    const hit = svg('rect', { x: L, y: T, width: W - L - R, height: H - T - B, fill: 'transparent' });
    hit.addEventListener('mousemove', (ev) => {
      const r = el.getBoundingClientRect();
      const t = t0 + ((((ev.clientX - r.left) / r.width) * W - L) / (W - L - R)) * (t1 - t0);
      let best = pts[0];
      for (const p of pts) if (Math.abs(p.t - t) < Math.abs(best.t - t)) best = p;
      const cx = pts.length === 1 ? L : x(best.t);
      cursor.setAttribute('x1', cx); cursor.setAttribute('x2', cx); cursor.setAttribute('visibility', 'visible');
      tip.textContent = `${hm(best.t)}  lag ${num(best.lag)}`;
      tip.setAttribute('x', Math.min(cx + 6, W - R - 150)); tip.setAttribute('visibility', 'visible');
    });
    hit.addEventListener('mouseleave', () => { cursor.setAttribute('visibility', 'hidden'); tip.setAttribute('visibility', 'hidden'); });
    return add(el, [cursor, tip, hit]);
  }

  // ---------------------------------------------------------------- overview
  async function viewOverview(ctx, view) {
    ctx.auto = true;
    const body = h('div');
    view.append(h('div', { class: 'page-head' }, h('h1', { text: 'Cluster' })), body);
    await loader(ctx, async (fresh) => {
      const c = await api('GET', '/cluster');
      if (!fresh()) return;
      fill(body, 
        h('div', { class: 'cards' },
          card('Brokers', c.brokers.length, '', 'brokers'), card('Topics', c.topics, '', 'topics'),
          card('Partitions', c.partitions, '', 'partitions'),
          card('Under-replicated', c.under_replicated_partitions, c.under_replicated_partitions > 0 ? 'warn' : '', 'urp'),
          card('Offline partitions', c.offline_partitions, c.offline_partitions > 0 ? 'bad' : '', 'offline'),
          card('Consumer groups', c.groups, '', 'groups')),
        h('section', { class: 'panel' },
          h('h2', { text: 'Brokers' }),
          h('dl', { class: 'kv' },
            h('dt', { text: 'Cluster id' }), h('dd', { class: 'mono', text: c.cluster_id || '—' }),
            h('dt', { text: 'Controller' }), h('dd', { text: c.controller_id == null ? '—' : `broker ${c.controller_id}` }),
            h('dt', { text: 'Bootstrap' }), h('dd', { class: 'mono', text: INFO.bootstrap || '—' })),
          table([['Id', 'num'], ['Host'], ['Port', 'num'], ['Rack'], ['Role'], ['']], c.brokers, (b) => h('tr', { 'data-broker': b.id },
            td(b.id, 'num'), td(b.host, 'mono'), td(b.port, 'num'), td(b.rack),
            h('td', null, b.id === c.controller_id ? badge('controller', 'info') : null, b.id === INFO.broker_id ? badge('this console') : null),
            h('td', { class: 'right' }, h('a', { href: `#/brokers/${enc(b.id)}`, text: 'Configs' }))), 'No brokers.')));
    })();
  }

  // ---------------------------------------------------------------- broker configs
  async function viewBroker(ctx, view, id) {
    const box = h('div');
    view.append(h('div', { class: 'crumbs' }, h('a', { href: '#/', text: 'Overview' }), ' / broker'),
      h('div', { class: 'page-head' }, h('h1', { text: `Broker ${id}` })), h('section', { class: 'panel' }, h('h2', { text: 'Configs' }), box));
    await loader(ctx, async (fresh) => {
      const r = await api('GET', `/brokers/${enc(id)}/configs`);
      if (fresh()) fill(box, configsTable(r.configs, null));
    })();
  }
  // The configs of a topic (edit = async body => answer, for PATCH) or a broker (edit = null).
  function configsTable(configs, edit) {
    let filter = '', onlySet = false;
    const wrap = h('div');
    const draw = () => {
      const rows = configs.filter((c) => c.name.toLowerCase().includes(filter) && (!onlySet || c.source !== 'DEFAULT_CONFIG'));
      fill(wrap, table([['Name'], ['Value'], ['Source'], [''], edit ? [''] : null].filter(Boolean), rows, (c) => {
        const valCell = h('td', { class: 'mono wrap', text: c.sensitive ? '(sensitive)' : c.value == null ? '—' : c.value });
        const tr = h('tr', { 'data-config': c.name, class: c.source === 'DYNAMIC_TOPIC_CONFIG' ? 'override' : '' },
          td(c.name, 'mono'), valCell, td(c.source, 'muted small'),
          h('td', null, c.read_only ? badge('read-only') : null, c.sensitive ? badge('sensitive', 'warn') : null));
        if (!edit) return tr;
        const actions = h('td', { class: 'right nowrap' });
        const reset = () => fill(actions, c.read_only ? null : btn('Edit', { class: 'btn btn-sm', 'data-action': 'edit', onclick: startEdit }),
          c.source === 'DYNAMIC_TOPIC_CONFIG' && !c.read_only ? btn('Reset', { class: 'btn btn-sm', title: 'Remove the override (back to the default)', onclick: () => save({ delete: [c.name] }) }) : null);
        async function save(body) {
          try {
            const r = await edit(body);
            configs = r.configs;
            banner(`Config ${c.name} updated.`, 'ok');
            draw();
          } catch (e) { showError(e); }
        }
        function startEdit() {
          const input = h('input', { class: 'mono', value: c.sensitive ? '' : c.value || '', 'aria-label': `New value of ${c.name}` });
          input.addEventListener('keydown', (e) => { if (e.key === 'Enter') save({ set: { [c.name]: input.value } }); if (e.key === 'Escape') draw(); });
          fill(valCell, input);
          fill(actions, btn('Save', { class: 'btn btn-sm btn-primary', onclick: () => save({ set: { [c.name]: input.value } }) }), btn('Cancel', { class: 'btn btn-sm', onclick: draw }));
          input.focus();
        }
        reset();
        return add(tr, [actions]);
      }, 'No configs match.', 'configs'));
    };
    const box = h('input', { type: 'search', placeholder: 'Filter configs', 'aria-label': 'Filter configs', class: 'small-search' });
    box.addEventListener('input', () => { filter = box.value.trim().toLowerCase(); draw(); });
    const only = h('input', { type: 'checkbox' });
    only.addEventListener('change', () => { onlySet = only.checked; draw(); });
    draw();
    return h('div', null, h('div', { class: 'toolbar' }, box, h('label', { class: 'check' }, only, 'only non-default')), wrap);
  }

  // ---------------------------------------------------------------- topics
  async function viewTopics(ctx, view) {
    const p = ctx.params;
    let q = p.get('q') || '', offset = Math.max(0, +p.get('offset') || 0), internal = p.get('internal') !== 'false';
    const list = h('div', { class: 'list' });
    const form = RO ? null : createTopicForm(async (name) => { form.hidden = true; banner(`Topic ${name} created.`, 'ok'); await load(); });
    if (form) form.hidden = true;
    const internalBox = h('input', { type: 'checkbox', id: 'show-internal', checked: internal });
    view.append(
      h('div', { class: 'page-head' }, h('h1', { text: 'Topics' }),
        RO ? null : btn('New topic', { class: 'btn btn-primary', id: 'new-topic', onclick: () => { form.hidden = !form.hidden; if (!form.hidden) $('[name=name]', form).focus(); } })),
      form,
      h('div', { class: 'toolbar' }, searchBox('topic-search', 'Search topics', q, (v) => { q = v; offset = 0; load(); }),
        h('label', { class: 'check' }, internalBox, 'internal topics')),
      list);
    internalBox.addEventListener('change', () => { internal = internalBox.checked; offset = 0; load(); });
    const load = loader(ctx, async (fresh) => {
      setParams({ q, offset: offset || '', internal: internal ? '' : 'false' });
      const r = await api('GET', `/topics${qs({ q, offset, limit: TOPICS_PAGE, internal })}`);
      if (!fresh()) return;
      if (r.total > 0 && offset >= r.total) { offset = Math.floor((r.total - 1) / TOPICS_PAGE) * TOPICS_PAGE; load(); return; }
      fill(list, 
        table([['Name'], ['Partitions', 'num'], ['Replication', 'num'], ['Under-replicated', 'num'], ['Offline', 'num'], RO ? null : ['']].filter(Boolean),
          r.topics, (t) => h('tr', { 'data-topic': t.name },
            h('td', null, h('a', { href: `#/topics/${enc(t.name)}`, class: 'strong', text: t.name }), t.internal ? badge('internal') : null),
            td(num(t.partitions), 'num'), td(t.replication_factor, 'num'),
            td(num(t.under_replicated_partitions), `num ${t.under_replicated_partitions > 0 ? 'warn-text' : ''}`),
            td(num(t.offline_partitions), `num ${t.offline_partitions > 0 ? 'bad-text' : ''}`),
            RO ? null : h('td', { class: 'right' }, btn('Delete', { class: 'btn btn-sm btn-danger-ghost', 'data-action': 'delete', 'aria-label': `Delete topic ${t.name}`, onclick: () => deleteTopic(t.name, async (msg) => { banner(msg, 'ok'); await load(); }) }))),
          q ? `No topic matches “${q}”.` : 'No topics yet.', 'topics'),
        pager(r.total, offset, TOPICS_PAGE, (o) => { offset = o; load(); }, ' topics'));
    });
    await load();
  }
  async function deleteTopic(name, after) {
    const ok = await confirmTyped({ title: 'Delete topic', text: `This deletes the topic ${name} and every message in it. It cannot be undone.`, expect: name, action: 'Delete topic' });
    if (!ok) return;
    try {
      await api('DELETE', `/topics/${enc(name)}`);
      await after(`Topic ${name} deleted.`);
    } catch (e) { showError(e); }
  }
  function field(label, input, hint) {
    return h('label', { class: 'field' }, h('span', { class: 'label', text: label }), input, hint ? h('span', { class: 'hint', text: hint }) : null);
  }
  function createTopicForm(onCreated) {
    const rows = h('div', { class: 'cfg-rows' });
    const addRow = () => {
      const row = h('div', { class: 'cfg-row' },
        h('input', { name: 'cfg-key', class: 'mono', placeholder: 'retention.ms', 'aria-label': 'Config name', autocomplete: 'off', spellcheck: 'false' }),
        h('span', { class: 'muted', text: '=' }),
        h('input', { name: 'cfg-value', class: 'mono', placeholder: 'value', 'aria-label': 'Config value', autocomplete: 'off', spellcheck: 'false' }),
        btn('×', { class: 'btn btn-sm btn-ghost', 'aria-label': 'Remove this config', onclick: () => row.remove() }));
      rows.append(row);
      return row;
    };
    const submit = h('button', { type: 'submit', class: 'btn btn-primary', id: 'create-topic-submit', text: 'Create topic' });
    const form = h('form', { id: 'create-topic-form', class: 'panel form', novalidate: true },
      h('h2', { text: 'New topic' }),
      h('div', { class: 'form-grid' },
        field('Name', h('input', { name: 'name', required: true, maxlength: 249, placeholder: 'orders', autocomplete: 'off', spellcheck: 'false' }), 'letters, digits, . _ -'),
        field('Partitions', h('input', { name: 'partitions', type: 'number', min: 1, step: 1, placeholder: 'broker default' })),
        field('Replication factor', h('input', { name: 'replication_factor', type: 'number', min: 1, step: 1, placeholder: 'broker default' }))),
      h('div', { class: 'field' }, h('span', { class: 'label', text: 'Configs' }), rows,
        btn('+ Add config', { class: 'btn btn-sm', id: 'add-config', onclick: () => $('input', addRow()).focus() })),
      h('div', { class: 'form-actions' }, submit,
        btn('Cancel', { onclick: () => { form.reset(); fill(rows); form.hidden = true; } })));
    const int = (v, what) => {
      if (v.trim() === '') return undefined;
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1) throw new Error(`${what} must be a whole number of at least 1.`);
      return n;
    };
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const val = (n) => $(`[name=${n}]`, form).value;
      const body = { name: val('name').trim() };
      const configs = {};
      try {
        if (!body.name) throw new Error('The topic needs a name.');
        const parts = int(val('partitions'), 'Partitions'), rf = int(val('replication_factor'), 'Replication factor');
        if (parts !== undefined) body.partitions = parts;
        if (rf !== undefined) body.replication_factor = rf;
        for (const row of rows.children) {
          const k = $('[name=cfg-key]', row).value.trim();
          if (k) configs[k] = $('[name=cfg-value]', row).value;
        }
      } catch (e) { banner(e.message); return; }
      if (Object.keys(configs).length) body.configs = configs;
      submit.disabled = true;
      try {
        const r = await api('POST', '/topics', body);
        form.reset();
        fill(rows);
        await onCreated(r.name || body.name);
      } catch (e) { showError(e); } finally { submit.disabled = false; }
    });
    return form;
  }

  // ---------------------------------------------------------------- one topic
  async function viewTopic(ctx, view, name) {
    let offset = Math.max(0, +ctx.params.get('offset') || 0);
    const meta = h('div', { class: 'cards' }), parts = h('div'), cfgs = h('div', null, h('p', { class: 'muted', text: 'Loading…' }));
    const base = `#/topics/${enc(name)}`;
    view.append(
      h('div', { class: 'crumbs' }, h('a', { href: '#/topics', text: 'Topics' }), ' / ', h('span', { text: name })),
      h('div', { class: 'page-head' }, h('h1', { text: name }),
        h('div', { class: 'actions' },
          h('a', { class: 'btn btn-primary', id: 'browse-messages', href: `${base}/messages` }, 'Browse messages'),
          RO ? null : btn('Delete topic', { class: 'btn btn-danger', id: 'delete-topic', onclick: () => deleteTopic(name, (msg) => { flash = msg; location.hash = '#/topics'; }) }))),
      meta,
      h('section', { class: 'panel' }, h('h2', { text: 'Partitions' }), parts),
      h('section', { class: 'panel' }, h('h2', { text: 'Configs' }), cfgs));
    const load = loader(ctx, async (fresh) => {
      setParams({ offset: offset || '' });
      const t = await api('GET', `/topics/${enc(name)}${qs({ offset, limit: PARTITIONS_PAGE })}`);
      if (!fresh()) return;
      if (t.total > 0 && offset >= t.total) { offset = Math.floor((t.total - 1) / PARTITIONS_PAGE) * PARTITIONS_PAGE; load(); return; }
      fill(meta, card('Partitions', t.total, '', 'partitions'), card('Replication factor', t.replication_factor, '', 'rf'),
        card('Topic id', t.topic_id || '—', 'id', 'topic-id'), t.internal ? card('Kind', 'internal') : null);
      const go = (o) => { offset = o; load(); };
      const list = (a) => (a && a.length ? a.join(', ') : '—');
      fill(parts, 
        pager(t.total, offset, PARTITIONS_PAGE, go, ' partitions'),
        table([['Partition', 'num'], ['Leader', 'num'], ['Replicas'], ['ISR'], ['Offline'], ['Log start', 'num'], ['Log end', 'num'], ['Messages', 'num'], ['Status']],
          t.partitions, (p) => {
            const under = p.isr && p.replicas && p.isr.length < p.replicas.length;
            return h('tr', { 'data-partition': p.partition },
              h('td', { class: 'num' }, h('a', { href: `${base}/messages?partition=${p.partition}`, title: 'Browse this partition', text: String(p.partition) })),
              td(p.leader == null || p.leader < 0 ? 'none' : p.leader, `num ${p.leader == null || p.leader < 0 ? 'bad-text' : ''}`),
              td(list(p.replicas)), td(list(p.isr), under ? 'warn-text' : ''),
              td(list(p.offline), p.offline && p.offline.length ? 'bad-text' : ''),
              td(p.log_start_offset, 'num'), td(p.log_end_offset, 'num'), td(num(p.messages), 'num'),
              h('td', null, p.error ? badge(p.error, 'bad') : under ? badge('under-replicated', 'warn') : badge('ok', 'ok')));
          }, 'No partitions.', 'partitions'),
        t.total > PARTITIONS_PAGE ? pager(t.total, offset, PARTITIONS_PAGE, go, ' partitions') : null);
    });
    const loadConfigs = async () => {
      try {
        const r = await api('GET', `/topics/${enc(name)}/configs`);
        if (ctx.alive) fill(cfgs, configsTable(r.configs, RO ? null : (body) => api('PATCH', `/topics/${enc(name)}/configs`, body)));
      } catch (e) { if (ctx.alive) { fill(cfgs, h('p', { class: 'muted', text: 'Configs could not be loaded.' })); showError(e); } }
    };
    await Promise.all([load(), loadConfigs()]);
  }

  // ---------------------------------------------------------------- message browser
  // Pretty-prints a JSON text without parsing numbers (big integers keep every digit).
  function prettyJson(s) {
    let out = '', ind = 0, inStr = false, esc = false;
    const nl = () => `\n${'  '.repeat(Math.max(0, ind))}`;
    for (let i = 0; i < s.length; i++) {
      const c = s[i];
      if (inStr) {
        out += c;
        if (esc) esc = false; else if (c === '\\') esc = true; else if (c === '"') inStr = false;
      } else if (c === '"') { inStr = true; out += c; }
      else if (c === '{' || c === '[') {
        let j = i + 1;
        while (j < s.length && ' \t\r\n'.includes(s[j])) j++;
        if (s[j] === (c === '{' ? '}' : ']')) { out += c + s[j]; i = j; } else { ind++; out += c + nl(); }
      } else if (c === '}' || c === ']') { ind--; out += nl() + c; }
      else if (c === ',') out += `,${nl()}`;
      else if (c === ':') out += ': ';
      else if (!' \t\r\n'.includes(c)) out += c;
    }
    return out;
  }
  const spacedHex = (hex) => (hex || '').replace(/(..)(?!$)/g, '$1 ');
  function payload(v, fmt, what) {
    if (v == null) return h('span', { class: 'null', text: 'null' });
    let text, kind;
    if (fmt === 'hex' || v.text == null) { text = spacedHex(v.hex); kind = 'hex'; }
    else if (fmt === 'json' && v.json) { text = prettyJson(v.text); kind = 'json'; }
    else { text = v.text; kind = 'text'; }
    const notes = [`${num(v.size)} B`];
    if (v.text == null && fmt !== 'hex') notes.push('not UTF-8, shown as hex');
    if (v.truncated) notes.push('truncated to 64 KiB');
    return h('div', { class: 'payload-wrap' },
      h('pre', { class: `payload payload-${kind}`, 'data-field': what, 'data-format': kind, text }),
      h('div', { class: 'payload-meta', text: notes.join(' · ') }));
  }
  function headersCell(headers, fmt) {
    if (!headers || !headers.length) return h('span', { class: 'muted', text: '—' });
    return h('ul', { class: 'headers' }, headers.map((x) => {
      const v = x.value;
      const text = v == null ? 'null' : fmt === 'hex' || v.text == null ? spacedHex(v.hex) : v.text;
      return h('li', { 'data-header': x.key }, h('span', { class: 'hdr-key', text: x.key }), h('span', { class: `hdr-val ${v == null ? 'null' : ''}`, text }));
    }));
  }
  async function viewMessages(ctx, view, name) {
    const p = ctx.params;
    const st = {
      partition: Math.max(0, +p.get('partition') || 0),
      mode: p.has('offset') ? 'offset' : p.has('timestamp') ? 'timestamp' : 'newest',
      offset: p.get('offset') || '', timestamp: p.get('timestamp') || '',
      limit: [20, 50, 100].includes(+p.get('limit')) ? +p.get('limit') : 20,
      fmt: ['text', 'json', 'hex'].includes(p.get('format')) ? p.get('format') : 'json',
    };
    let last = null; // the page on screen
    const base = `#/topics/${enc(name)}`;
    const partIn = h('input', { type: 'number', id: 'msg-partition', name: 'partition', min: 0, step: 1, value: st.partition, 'aria-label': 'Partition' });
    const partOf = h('span', { class: 'hint' });
    const modeSel = h('select', { id: 'msg-mode', name: 'mode', 'aria-label': 'Start at' },
      [['newest', 'Newest'], ['offset', 'Offset'], ['timestamp', 'Timestamp']].map(([v, l]) => h('option', { value: v, text: l, selected: st.mode === v })));
    const offIn = h('input', { type: 'number', id: 'msg-offset', name: 'offset', min: 0, step: 1, value: st.offset, placeholder: '0', 'aria-label': 'Offset' });
    const tsIn = h('input', { type: 'datetime-local', id: 'msg-timestamp', name: 'timestamp', step: 1, 'aria-label': 'Timestamp' });
    if (st.timestamp) { const d = new Date(+st.timestamp); tsIn.value = `${fmtTime(+st.timestamp, false).replace(' ', 'T')}`; if (isNaN(d)) tsIn.value = ''; }
    const limSel = h('select', { id: 'msg-limit', 'aria-label': 'Messages per page' }, [20, 50, 100].map((n) => h('option', { value: n, text: `${n} per page`, selected: st.limit === n })));
    const offField = field('Offset', offIn), tsField = field('At or after', tsIn);
    const showMode = () => { offField.hidden = modeSel.value !== 'offset'; tsField.hidden = modeSel.value !== 'timestamp'; };
    modeSel.addEventListener('change', showMode);
    showMode();
    const fmtBtns = h('div', { class: 'segmented', role: 'group', 'aria-label': 'Show keys and values as' },
      [['text', 'Text'], ['json', 'JSON'], ['hex', 'Hex']].map(([v, l]) =>
        btn(l, { class: 'btn seg', 'data-format': v, 'aria-pressed': String(st.fmt === v), onclick: () => { st.fmt = v; syncFmt(); render(); } })));
    const syncFmt = () => { for (const b of fmtBtns.children) b.setAttribute('aria-pressed', String(b.dataset.format === st.fmt)); saveParams(); };
    const form = h('form', { id: 'msg-controls', class: 'panel controls' },
      field('Partition', partIn, null), partOf, field('Start at', modeSel), offField, tsField, field('Page size', limSel),
      h('div', { class: 'controls-go' }, h('button', { type: 'submit', class: 'btn btn-primary', id: 'msg-go', text: 'Load' })));
    const info = h('div', { class: 'msg-info' }), out = h('div'), nav = h('div', { class: 'pager msg-pager' });
    view.append(
      h('div', { class: 'crumbs' }, h('a', { href: '#/topics', text: 'Topics' }), ' / ', h('a', { href: base, text: name }), ' / messages'),
      h('div', { class: 'page-head' }, h('h1', null, 'Messages ', h('span', { class: 'muted', text: `in ${name}` })), fmtBtns),
      form, h('div', { class: 'msg-bar' }, info, nav), out);
    function saveParams() {
      setParams({ partition: st.partition || '', offset: st.mode === 'offset' ? st.offset : '', timestamp: st.mode === 'timestamp' ? st.timestamp : '',
        limit: st.limit === 20 ? '' : st.limit, format: st.fmt === 'json' ? '' : st.fmt });
    }
    const load = loader(ctx, async (fresh) => {
      saveParams();
      const q = { partition: st.partition, limit: st.limit };
      if (st.mode === 'offset') q.offset = st.offset || 0;
      if (st.mode === 'timestamp') q.timestamp = st.timestamp;
      out.classList.add('loading');
      let r;
      try { r = await api('GET', `/topics/${enc(name)}/messages${qs(q)}`); } catch (e) { if (fresh()) { fill(out); last = null; } throw e; } finally { if (fresh()) out.classList.remove('loading'); }
      if (!fresh()) return;
      last = r;
      render();
    });
    function render() {
      const r = last;
      if (!r) return;
      const msgs = r.messages || [];
      fill(info, 
        h('span', null, 'Partition ', h('strong', { text: String(r.partition) }), ` · log ${r.log_start_offset} – ${r.log_end_offset} (${num(r.log_end_offset - r.log_start_offset)} messages)`),
        msgs.length ? h('span', { class: 'muted', text: ` · showing offsets ${msgs[0].offset} – ${msgs[msgs.length - 1].offset}` }) : null);
      const page = (o) => { st.mode = 'offset'; st.offset = String(o); modeSel.value = 'offset'; offIn.value = st.offset; showMode(); load(); };
      fill(nav, 
        btn('‹ Older', { class: 'btn btn-sm', id: 'msg-prev', 'data-page': 'prev', disabled: r.prev_offset == null, onclick: () => page(r.prev_offset) }),
        btn('Newer ›', { class: 'btn btn-sm', id: 'msg-next', 'data-page': 'next', disabled: r.next_offset == null || r.next_offset >= r.log_end_offset, onclick: () => page(r.next_offset) }),
        btn('Newest', { class: 'btn btn-sm', id: 'msg-newest', onclick: () => { st.mode = 'newest'; modeSel.value = 'newest'; showMode(); load(); } }));
      fill(out, table([['Offset', 'num'], ['Timestamp'], ['Key'], ['Value'], ['Headers']], msgs, (m) => h('tr', { 'data-offset': m.offset },
        td(m.offset, 'num'),
        h('td', { class: 'nowrap', title: m.timestamp >= 0 ? `${new Date(m.timestamp).toISOString()} (${m.timestamp})` : null },
          h('div', { class: 'ts', text: fmtTime(m.timestamp) }),
          h('div', { class: 'small muted', 'data-field': 'timestamp-type', text: `${m.timestamp_type === 'log_append' ? 'LogAppendTime' : 'CreateTime'}${m.timestamp >= 0 ? ' · ' + ago(m.timestamp) : ''}` })),
        h('td', { class: 'key-cell' }, payload(m.key, st.fmt, 'key')),
        h('td', { class: 'value-cell' }, payload(m.value, st.fmt, 'value')),
        h('td', { class: 'headers-cell' }, headersCell(m.headers, st.fmt))),
      st.mode === 'timestamp' ? 'No message at or after this time.' : 'No messages here.', 'messages'));
    }
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const part = Number(partIn.value);
      if (!Number.isInteger(part) || part < 0) { banner('The partition must be a whole number, 0 or more.'); return; }
      st.partition = part;
      st.mode = modeSel.value;
      st.limit = +limSel.value;
      if (st.mode === 'offset') {
        const o = Number(offIn.value || 0);
        if (!Number.isInteger(o) || o < 0) { banner('The offset must be a whole number, 0 or more.'); return; }
        st.offset = String(o);
      }
      if (st.mode === 'timestamp') {
        const t = new Date(tsIn.value).getTime();
        if (!tsIn.value || isNaN(t)) { banner('Pick a date and time to start at.'); return; }
        st.timestamp = String(t);
      }
      clearBanner();
      load();
    });
    // The partition count, for the hint and the input's bound (one partition row is enough).
    api('GET', `/topics/${enc(name)}${qs({ limit: 1 })}`).then((t) => {
      if (!ctx.alive) return;
      partIn.max = Math.max(0, t.total - 1);
      partOf.textContent = `of ${num(t.total)} (0 – ${t.total - 1})`;
    }, () => {});
    await load();
  }

  // ---------------------------------------------------------------- groups
  async function viewGroups(ctx, view) {
    ctx.auto = true;
    let q = ctx.params.get('q') || '', offset = Math.max(0, +ctx.params.get('offset') || 0);
    const list = h('div', { class: 'list' });
    view.append(h('div', { class: 'page-head' }, h('h1', { text: 'Consumer groups' })),
      h('div', { class: 'toolbar' }, searchBox('group-search', 'Search groups', q, (v) => { q = v; offset = 0; load(); }),
        h('span', { class: 'muted small', text: `lag sampled every ${INFO.lag_sample_seconds || 10} s` })),
      list);
    const load = loader(ctx, async (fresh) => {
      setParams({ q, offset: offset || '' });
      const r = await api('GET', `/groups${qs({ q, offset, limit: GROUPS_PAGE })}`);
      if (!fresh()) return;
      if (r.total > 0 && offset >= r.total) { offset = Math.floor((r.total - 1) / GROUPS_PAGE) * GROUPS_PAGE; load(); return; }
      fill(list, 
        table([['Group'], ['State'], ['Type'], ['Members', 'num'], ['Total lag', 'num'], ['Lag trend']], r.groups, (g) => h('tr', { 'data-group': g.group },
          h('td', null, h('a', { href: `#/groups/${enc(g.group)}`, class: 'strong', text: g.group })),
          h('td', null, stateBadge(g.state)), td(g.protocol_type || '—', 'muted'), td(num(g.members), 'num'),
          td(num(g.total_lag), 'num lag', { 'data-lag': g.total_lag == null ? '' : g.total_lag }),
          h('td', { class: 'spark-cell' }, sparkline(g.lag_history))),
        q ? `No group matches “${q}”.` : 'No consumer groups yet.', 'groups'),
        pager(r.total, offset, GROUPS_PAGE, (o) => { offset = o; load(); }, ' groups'));
    });
    await load();
  }

  async function viewGroup(ctx, view, id) {
    ctx.auto = true;
    let offset = 0;
    const head = h('div', { class: 'cards' }), chart = h('div', { class: 'chart-box' }), members = h('div'), offsets = h('div');
    view.append(
      h('div', { class: 'crumbs' }, h('a', { href: '#/groups', text: 'Consumer groups' }), ' / ', h('span', { text: id })),
      h('div', { class: 'page-head' }, h('h1', { text: id }),
        RO ? null : btn('Delete group', { class: 'btn btn-danger', id: 'delete-group', onclick: del })),
      head,
      h('section', { class: 'panel' }, h('h2', { text: 'Total lag over time' }), chart),
      h('section', { class: 'panel' }, h('h2', { text: 'Members' }), members),
      h('section', { class: 'panel' }, h('h2', { text: 'Offsets and lag' }), offsets));
    async function del() {
      const ok = await confirmTyped({ title: 'Delete consumer group', text: `This deletes the group ${id} and its committed offsets. The group must have no members.`, expect: id, action: 'Delete group' });
      if (!ok) return;
      try {
        await api('DELETE', `/groups/${enc(id)}`);
        flash = `Group ${id} deleted.`;
        location.hash = '#/groups';
      } catch (e) { showError(e); }
    }
    let g = null;
    const drawOffsets = () => {
      const rows = (g.offsets || []).slice().sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition));
      if (offset >= rows.length) offset = Math.max(0, Math.floor((rows.length - 1) / OFFSETS_PAGE) * OFFSETS_PAGE);
      const go = (o) => { offset = o; drawOffsets(); };
      fill(offsets, 
        rows.length > OFFSETS_PAGE ? pager(rows.length, offset, OFFSETS_PAGE, go, ' partitions') : null,
        table([['Topic'], ['Partition', 'num'], ['Committed', 'num'], ['Log end', 'num'], ['Lag', 'num'], ['Member'], ['Client'], ['Host']],
          rows.slice(offset, offset + OFFSETS_PAGE), (o) => h('tr', { 'data-topic': o.topic, 'data-partition': o.partition },
            h('td', null, h('a', { href: `#/topics/${enc(o.topic)}`, text: o.topic })), td(o.partition, 'num'),
            td(o.current_offset, 'num'), td(o.log_end_offset, 'num'),
            td(num(o.lag), `num lag ${o.lag > 0 ? 'strong' : ''}`, { 'data-lag': o.lag == null ? '' : o.lag }),
            td(o.member_id || '—', 'mono small ellipsis', { title: o.member_id || null }), td(o.client_id || '—'), td(o.host || '—', 'mono')),
          'No committed offsets.', 'offsets'),
        rows.length > OFFSETS_PAGE ? pager(rows.length, offset, OFFSETS_PAGE, go, ' partitions') : null);
    };
    await loader(ctx, async (fresh) => {
      const r = await api('GET', `/groups/${enc(id)}`);
      if (!fresh()) return;
      g = r;
      fill(head, 
        h('div', { class: 'card', 'data-stat': 'state' }, h('div', { class: 'card-value' }, stateBadge(g.state)), h('div', { class: 'card-label', text: 'State' })),
        card('Members', (g.members || []).length, '', 'members'),
        h('div', { class: `card ${g.total_lag > 0 ? 'card-warn' : ''}`, 'data-stat': 'total-lag' },
          h('div', { class: 'card-value', 'data-lag': g.total_lag == null ? '' : g.total_lag, text: num(g.total_lag) }), h('div', { class: 'card-label', text: 'Total lag' })),
        card('Protocol', [g.protocol_type, g.protocol].filter(Boolean).join(' / ') || '—', 'id', 'protocol'));
      fill(chart, lagChart(g.lag_history, chart.clientWidth));
      fill(members, table([['Member'], ['Instance'], ['Client'], ['Host'], ['Assignment']], g.members || [], (m) => h('tr', { 'data-member': m.member_id },
        td(m.member_id, 'mono small wrap'), td(m.group_instance_id || '—', 'mono'), td(m.client_id), td(m.host, 'mono'),
        h('td', null, (m.assignment || []).length ? h('ul', { class: 'assign' }, m.assignment.map((a) =>
          h('li', null, h('a', { href: `#/topics/${enc(a.topic)}`, text: a.topic }), h('span', { class: 'mono muted', text: ` [${a.partitions.join(', ')}]` })))) : h('span', { class: 'muted', text: 'none' }))),
      'No active members.', 'members'));
      drawOffsets();
    })();
  }

  function viewNotFound(ctx, view) {
    view.append(h('div', { class: 'page-head' }, h('h1', { text: 'Page not found' })),
      h('p', null, 'Nothing lives at this address. ', h('a', { href: '#/', text: 'Back to the overview' }), '.'));
  }

  // ---------------------------------------------------------------- start
  window.addEventListener('unhandledrejection', (e) => { e.preventDefault(); showError(e.reason); });
  async function start() {
    try {
      INFO = await api('GET', '/console');
      RO = !!INFO.read_only;
      $('#whoami').textContent = `broker ${INFO.broker_id} · v${INFO.version}`;
    } catch (e) {
      RO = true; // cannot tell: offer nothing that changes the cluster
    }
    $('#ro-badge').hidden = !RO;
    document.body.classList.toggle('read-only', RO);
    window.addEventListener('hashchange', route);
    route();
  }
  start();
})();
