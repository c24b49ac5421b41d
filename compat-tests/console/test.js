// The web console in a real browser: Debian's headless Chromium driven by playwright-core,
// against a running weir (run.sh starts it), with the stock confluent-kafka client
// (kafka_helper.py) making and checking what the pages show. One `PASS console: ...` /
// `FAIL console: ... -- detail` line per scenario; every wait is bounded.
//
// Environment (set by run.sh): WEIR_CONSOLE_URL, BOOTSTRAP (the broker), WEIR_CONSOLE_RO_URL,
// RO_BOOTSTRAP (a second broker with http.console.read.only=true), PY (the venv's python),
// WEIR_SCREENSHOTS (a folder), WORK_DIR, WEIR_CONSOLE_SCALE_PARTITIONS (default 1000).
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const crypto = require('crypto');
const { execFile } = require('child_process');
const { chromium } = require('playwright-core');

const CLIENT = 'console';
const URL_MAIN = must('WEIR_CONSOLE_URL');
const URL_RO = must('WEIR_CONSOLE_RO_URL');
const BOOTSTRAP = must('BOOTSTRAP');
const RO_BOOTSTRAP = must('RO_BOOTSTRAP');
const PY = must('PY');
const WORK = process.env.WORK_DIR || fs.mkdtempSync(path.join(os.tmpdir(), 'weir-console-'));
const SHOTS = process.env.WEIR_SCREENSHOTS || path.join(WORK, 'screenshots');
// 10,000 is the goal; on the 2-core dev machine one CreateTopics of 1,000+ partitions already takes
// weir past its broker session (it fences itself) and 10,000 exceed its 20,000 open files.
const SCALE_PARTITIONS = Number(process.env.WEIR_CONSOLE_SCALE_PARTITIONS || 1000);
const SCALE_TOPICS = 200;
const HELPER = path.join(__dirname, 'kafka_helper.py');
const RUN = crypto.randomBytes(4).toString('hex');
const name = (tag) => `console-${tag}-${RUN}`;
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

function must(v) {
  if (!process.env[v]) { console.log(`FAIL ${CLIENT}: setup -- ${v} is not set`); process.exit(1); }
  return process.env[v];
}
const oneLine = (s) => String(s).split(/\s+/).join(' ').slice(0, 700);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------- the stock client
function kafka(args, { bootstrap = BOOTSTRAP, timeoutMs = 90000 } = {}) {
  return new Promise((resolve, reject) => {
    execFile(PY, [HELPER, ...args.map(String)], { env: { ...process.env, BOOTSTRAP: bootstrap }, timeout: timeoutMs, maxBuffer: 16 << 20 },
      (err, stdout, stderr) => {
        const last = stdout.trim().split('\n').pop() || '';
        let out = null;
        try { out = JSON.parse(last); } catch (_) { /* below */ }
        if (err || !out || out.error) {
          reject(new Error(`kafka_helper ${args[0]}: ${out && out.error ? out.error : err ? err.message : 'no answer'} ${oneLine(stderr).slice(-300)}`));
        } else resolve(out);
      });
  });
}

// ---------------------------------------------------------------- the browser
let context = null;
const offsite = []; // requests to anything but 127.0.0.1 (aborted, and a failure)

// A page that records what went wrong: console errors, uncaught exceptions, failed requests,
// answers >= 400 that the scenario did not announce with allow(status).
async function openPage(base) {
  const page = await context.newPage();
  page.setDefaultTimeout(15000);
  const problems = [], allowed = new Set();
  const onConsole = (m) => {
    if (m.type() !== 'error') return;
    const st = /status of (\d{3})/.exec(m.text());
    if (st && allowed.has(Number(st[1]))) return;
    problems.push(`console error: ${m.text()}`);
  };
  const onPageError = (e) => problems.push(`page error: ${e.message}`);
  const onFailed = (r) => problems.push(`request failed: ${r.method()} ${r.url()} ${r.failure() ? r.failure().errorText : ''}`);
  const onResponse = (r) => { if (r.status() >= 400 && !allowed.has(r.status())) problems.push(`HTTP ${r.status()} for ${r.request().method()} ${r.url()}`); };
  page.on('console', onConsole); page.on('pageerror', onPageError); page.on('requestfailed', onFailed); page.on('response', onResponse);
  const w = {
    page,
    base,
    allow: (status) => allowed.add(status),
    problems,
    // Navigates to a hash route and waits until its first load is done (#view[data-ready]).
    async go(hash) {
      const target = `${base}/${hash}`;
      if (page.url().startsWith(`${base}/`)) {
        await page.evaluate((h) => {
          document.querySelector('#view').removeAttribute('data-ready');
          if (location.hash === h) window.dispatchEvent(new HashChangeEvent('hashchange')); else location.hash = h;
        }, hash);
      } else {
        await page.goto(target, { waitUntil: 'load' });
      }
      await page.waitForSelector('#view[data-ready]', { timeout: 20000 });
    },
    async close() {
      page.off('console', onConsole); page.off('pageerror', onPageError); page.off('requestfailed', onFailed); page.off('response', onResponse);
      await page.close().catch(() => {});
    },
  };
  return w;
}

// Polls fn() (async, returning a truthy value when done) every `step` ms until `ms` pass;
// returns the value or throws with the last detail fn gave through `note`.
async function until(what, ms, fn, step = 250) {
  const deadline = Date.now() + ms;
  let last = '';
  for (;;) {
    let v;
    try { v = await fn((d) => { last = d; }); } catch (e) { last = e.message; }
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms${last ? ` (last: ${last})` : ''}`);
    await sleep(step);
  }
}
const text = (page, sel) => page.locator(sel).first().textContent({ timeout: 5000 });
const count = (page, sel) => page.locator(sel).count();
async function noErrorBanner(page) {
  const b = page.locator('#banner.banner-error');
  if (await b.count() && await b.isVisible()) throw new Error(`error banner: ${oneLine(await b.textContent())}`);
}
function assert(cond, msg) { if (!cond) throw new Error(msg); }
const num = (s) => Number(String(s).replace(/[^0-9-]/g, ''));

// ---------------------------------------------------------------- scenarios
const shared = {};
let failed = 0;

async function scenario(title, budgetMs, fn) {
  const pages = [];
  const open = async (base) => { const w = await openPage(base); pages.push(w); return w; };
  let timer;
  const started = Date.now();
  try {
    const run = fn(open);
    run.catch(() => {});
    await Promise.race([run, new Promise((_, rej) => { timer = setTimeout(() => rej(new Error(`took longer than ${budgetMs / 1000} s`)), budgetMs); })]);
    const problems = pages.flatMap((w) => w.problems);
    if (offsite.length) problems.push(`off-host requests: ${offsite.slice(0, 3).join(', ')}`);
    if (problems.length) throw new Error(problems.slice(0, 4).join('; '));
    console.log(`PASS ${CLIENT}: ${title} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${CLIENT}: ${title} -- ${oneLine(e.message)}`);
  } finally {
    clearTimeout(timer);
    for (const w of pages) await w.close();
  }
}

// 1. Every page loads, with no console error and no failed request.
async function pagesLoad(open) {
  const topic = name('pages'), group = name('pages-g');
  await kafka(['backlog', topic, group, 3, 30, 12]);
  shared.pagesTopic = topic; shared.pagesGroup = group;
  const checks = [
    ['overview', '#/', async (p) => assert(num(await text(p, '[data-stat=brokers] .card-value')) >= 1, 'no broker counted')],
    ['topics', '#/topics', async (p) => { await p.waitForSelector('table.topics tr[data-topic]'); }],
    ['topic', `#/topics/${topic}`, async (p) => {
      assert(await count(p, 'table.partitions tr[data-partition]') === 3, 'the partitions table does not show 3 partitions');
      await p.waitForSelector('table.configs tr[data-config]');
    }],
    ['topic messages', `#/topics/${topic}/messages`, async (p) => assert(await count(p, 'table.messages tr[data-offset]') === 10, 'partition 0 does not show its 10 messages')],
    ['groups', '#/groups', async (p) => { await p.waitForSelector(`tr[data-group="${group}"]`); }],
    ['group', `#/groups/${group}`, async (p) => { await p.waitForSelector('[data-stat=total-lag]'); await p.waitForSelector('svg.chart'); }],
    ['broker configs', '#/brokers/1', async (p) => { await p.waitForSelector('table.configs tr[data-config]'); }],
  ];
  for (const [what, hash, check] of checks) {
    const w = await open(URL_MAIN); // a fresh load of each address (deep links)
    await w.go(hash);
    await noErrorBanner(w.page);
    try { await check(w.page); } catch (e) { throw new Error(`${what}: ${e.message}`); }
    // The app's own navigation too: the header's links.
    if (what === 'overview') {
      await w.page.click('#nav a[data-nav=topics]');
      await w.page.waitForSelector('#view[data-view=topics][data-ready] table.topics');
      await w.page.click('#nav a[data-nav=groups]');
      await w.page.waitForSelector('#view[data-view=groups][data-ready] table.groups');
    }
    if (w.problems.length) throw new Error(`${what}: ${w.problems.slice(0, 3).join('; ')}`);
  }
}

// 2. Create a topic with the form; the client sees it. Delete it with the dialog; it is gone.
async function createDelete(open) {
  const topic = name('created');
  const w = await open(URL_MAIN);
  const p = w.page;
  await w.go('#/topics');
  await p.click('#new-topic');
  await p.fill('#create-topic-form [name=name]', topic);
  await p.fill('#create-topic-form [name=partitions]', '3');
  await p.fill('#create-topic-form [name=replication_factor]', '1');
  await p.click('#add-config');
  await p.fill('#create-topic-form .cfg-row:last-child [name=cfg-key]', 'retention.ms');
  await p.fill('#create-topic-form .cfg-row:last-child [name=cfg-value]', '3600000');
  await p.click('#create-topic-submit');
  await p.waitForSelector('#banner.banner-ok');
  await noErrorBanner(p);
  const seen = await kafka(['wait-topic', topic, 3, 20]);
  assert(seen.ok, `the client sees ${topic} with ${seen.partitions} partitions, not 3`);
  // Its page shows the partitions and the config set in the form.
  await w.go(`#/topics/${topic}`);
  assert(await count(p, 'table.partitions tr[data-partition]') === 3, 'the topic page does not list 3 partitions');
  const retention = await text(p, 'table.configs tr[data-config="retention.ms"] td:nth-child(2)');
  assert(retention.trim() === '3600000', `retention.ms shows ${retention}, not 3600000`);
  // Delete from the list: search, the row's Delete, the dialog wants the name typed.
  await w.go(`#/topics?q=${topic}`);
  await p.click(`tr[data-topic="${topic}"] [data-action=delete]`);
  await p.waitForSelector('#confirm[open]');
  assert(await p.isDisabled('#confirm-ok'), 'the dialog lets one delete before typing the name');
  await p.fill('#confirm-input', topic.slice(0, -1));
  assert(await p.isDisabled('#confirm-ok'), 'the dialog lets one delete with a wrong name');
  await p.fill('#confirm-input', topic);
  await p.click('#confirm-ok');
  await p.waitForSelector(`tr[data-topic="${topic}"]`, { state: 'detached' });
  await noErrorBanner(p);
  const gone = await kafka(['wait-gone', topic, 20]);
  assert(gone.ok, `the client still sees ${topic}`);
}

// 3. A record with a key, a JSON value and two headers, as the message browser shows it.
async function messageBrowser(open) {
  const topic = name('msgs');
  const t0 = 1750000000000; // whole seconds: datetime-local has second precision
  const r = await kafka(['produce', topic, t0]);
  const off = r.offsets, last = off[off.length - 1];
  const w = await open(URL_MAIN);
  const p = w.page;
  await w.go(`#/topics/${topic}/messages?partition=${r.partition}`);
  const row = `tr[data-offset="${last}"]`;
  await p.waitForSelector(row);
  assert((await text(p, `${row} [data-field=key]`)) === r.key, 'the key is not shown as text');
  const pretty = JSON.stringify(JSON.parse(r.value), null, 2);
  assert(await p.getAttribute(`${row} [data-field=value]`, 'data-format') === 'json', 'the value is not shown as JSON by default');
  assert((await text(p, `${row} [data-field=value]`)) === pretty, `the value is not pretty-printed JSON: ${await text(p, `${row} [data-field=value]`)}`);
  for (const [k, v] of r.headers) {
    const got = await text(p, `${row} li[data-header="${k}"] .hdr-val`);
    assert(got === v, `header ${k} shows ${got}, not ${v}`);
  }
  const tsType = await text(p, `${row} [data-field=timestamp-type]`);
  assert(tsType.startsWith('CreateTime'), `timestamp type shows ${tsType}`);
  const d = new Date(t0 + 120000), pad = (x, n = 2) => String(x).padStart(n, '0');
  const when = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.000`;
  assert((await text(p, `${row} .ts`)) === when, `the timestamp shows ${await text(p, `${row} .ts`)}, not ${when}`);
  // The toggle: raw text, then hex.
  await p.click('.segmented [data-format=text]');
  assert((await text(p, `${row} [data-field=value]`)) === r.value, 'Text does not show the value as sent');
  await p.click('.segmented [data-format=hex]');
  const hex = Buffer.from(r.key).toString('hex').replace(/(..)(?!$)/g, '$1 ');
  assert((await text(p, `${row} [data-field=key]`)) === hex, `Hex shows the key as ${await text(p, `${row} [data-field=key]`)}`);
  await p.click('.segmented [data-format=json]');
  // Paging with prev_offset / next_offset: the newest page holds the last 20 of 28 records.
  const firstRow = async () => Number(await p.getAttribute('table.messages tbody tr[data-offset] >> nth=0', 'data-offset'));
  const rows = () => count(p, 'table.messages tr[data-offset]');
  assert(await rows() === 20 && await firstRow() === off[8], `the newest page starts at ${await firstRow()} with ${await rows()} rows`);
  await p.click('#msg-prev');
  await until('the older page', 10000, async () => (await firstRow()) === off[0]);
  const n = await rows();
  const lastShown = Number(await p.getAttribute(`table.messages tbody tr[data-offset] >> nth=${n - 1}`, 'data-offset'));
  await p.click('#msg-next');
  await until('the newer page', 10000, async (note) => { const f = await firstRow(); note(`first ${f}`); return f === lastShown + 1; });
  // Start at an offset, then at a time (the second of the three timed records).
  await p.selectOption('#msg-mode', 'offset');
  await p.fill('#msg-offset', String(off[26]));
  await p.click('#msg-go');
  await until('start at an offset', 10000, async () => (await firstRow()) === off[26]);
  const t = new Date(t0 + 60000);
  await p.selectOption('#msg-mode', 'timestamp');
  await p.fill('#msg-timestamp', `${t.getFullYear()}-${pad(t.getMonth() + 1)}-${pad(t.getDate())}T${pad(t.getHours())}:${pad(t.getMinutes())}:${pad(t.getSeconds())}`);
  await p.click('#msg-go');
  await until('start at a timestamp', 10000, async (note) => { const f = await firstRow(); note(`first ${f}`); return f === off[26]; });
  await noErrorBanner(p);
  shared.msgTopic = topic;
}

// 4. A backlog: N produced, M consumed and committed; the pages show lag N - M.
async function groupLag(open) {
  const topic = name('lag'), group = name('lag-g');
  const N = 45, M = 17;
  const r = await kafka(['backlog', topic, group, 3, N, M]);
  assert(r.lag === N - M, `the client committed a lag of ${r.lag}, not ${N - M}`);
  const w = await open(URL_MAIN);
  const p = w.page;
  // The list's lag comes from the sampler: re-route until it shows.
  await w.go(`#/groups?q=${group}`);
  await until('the groups list shows the lag', 40000, async (note) => {
    await w.go(`#/groups?q=${group}&t=${Date.now()}`);
    const lag = await p.getAttribute(`tr[data-group="${group}"] td.lag`, 'data-lag', { timeout: 5000 });
    note(`lag ${lag}`);
    return lag === String(N - M);
  }, 1000);
  assert(await count(p, `tr[data-group="${group}"] svg.spark`) === 1, 'no sparkline in the group row');
  await w.go(`#/groups/${group}`);
  const total = await p.getAttribute('[data-stat=total-lag] .card-value', 'data-lag');
  assert(total === String(N - M), `the group page shows total lag ${total}, not ${N - M}`);
  const lags = await p.$$eval('table.offsets td.lag', (tds) => tds.map((t) => t.getAttribute('data-lag')));
  assert(lags.length === 3, `the offsets table has ${lags.length} rows, not 3`);
  const sum = lags.reduce((a, b) => a + Number(b), 0);
  assert(sum === N - M, `per-partition lags ${lags.join('+')} = ${sum}, not ${N - M}`);
  for (const [part, lag] of Object.entries(r.lags)) {
    const got = await p.getAttribute(`table.offsets tr[data-partition="${part}"] td.lag`, 'data-lag');
    assert(got === String(lag), `partition ${part} shows lag ${got}, the client committed for ${lag}`);
  }
  assert(await count(p, 'svg.chart') === 1, 'no lag chart');
  // Delete the (empty) group through the page.
  await p.click('#delete-group');
  await p.fill('#confirm-input', group);
  await p.click('#confirm-ok');
  await p.waitForSelector('#view[data-view=groups][data-ready]');
  await noErrorBanner(p);
  const gone = await kafka(['wait-group-gone', group, 20]);
  assert(gone.ok, `the client still lists group ${group}`);
}

// 5. Read-only: no control that changes anything, and the API refuses with 403.
async function readOnly(open) {
  const topic = name('ro'), group = name('ro-g');
  await kafka(['backlog', topic, group, 1, 5, 2], { bootstrap: RO_BOOTSTRAP });
  const w = await open(URL_RO);
  const p = w.page;
  await w.go('#/topics');
  await p.waitForSelector(`tr[data-topic="${topic}"]`);
  assert(await p.isVisible('#ro-badge'), 'no read-only badge');
  const none = async (sel, what) => { const n = await count(p, sel); assert(n === 0, `${what}: ${n} found`); };
  await none('#new-topic', 'the New topic button'); await none('#create-topic-form', 'the create form');
  await none('[data-action=delete]', 'delete buttons on the list');
  await w.go(`#/topics/${topic}`);
  await p.waitForSelector('table.configs tr[data-config]');
  await none('#delete-topic', 'the Delete topic button'); await none('[data-action=edit]', 'config Edit buttons');
  await w.go(`#/groups/${group}`);
  await none('#delete-group', 'the Delete group button');
  w.allow(403);
  const answers = await p.evaluate(async (t) => {
    const json = { 'Content-Type': 'application/json' };
    const call = async (method, url, body) => { 
      const r = await fetch(url, { method, headers: body ? json : {}, body });
      const t = await r.text();
      try { return [r.status, JSON.parse(t).code]; } catch (_) { return [r.status, `not JSON: ${t.slice(0, 80)}`]; }
    };
    return [
      await call('POST', '/api/v1/topics', JSON.stringify({ name: `${t}-new`, partitions: 1 })),
      await call('DELETE', `/api/v1/topics/${t}`),
      await call('PATCH', `/api/v1/topics/${t}/configs`, JSON.stringify({ set: { 'retention.ms': '1000' } })),
    ];
  }, topic);
  for (const [i, what] of ['POST /topics', 'DELETE /topics/NAME', 'PATCH configs'].entries()) {
    assert(answers[i][0] === 403, `${what} answered ${answers[i][0]}, not 403`);
    assert(answers[i][1] === 'READ_ONLY', `${what} answered code ${answers[i][1]}, not READ_ONLY`);
  }
  // The writable console does show the badge's absence (the control for this check).
  const m = await open(URL_MAIN);
  await m.go('#/topics');
  assert(!(await m.page.isVisible('#ro-badge')), 'the writable console shows the read-only badge');
  assert(await count(m.page, '#new-topic') === 1, 'the writable console has no New topic button');
}

// 6. Scale: a topic with many partitions pages; the list's search finds one topic of many.
async function scale(open) {
  const big = name('big'), prefix = name('many');
  await kafka(['create-many', prefix, SCALE_TOPICS]);
  const made = await kafka(['create', big, SCALE_PARTITIONS, 150], { timeoutMs: 170000 });
  console.log(`# ${CLIENT}: created a topic of ${SCALE_PARTITIONS} partitions in ${made.create_seconds} s (readable after ${made.seconds} s)`);
  shared.bigTopic = big;
  const w = await open(URL_MAIN);
  const p = w.page;
  const t0 = Date.now();
  await w.go(`#/topics/${big}`);
  await p.waitForSelector('table.partitions tr[data-partition="0"]');
  const ms = Date.now() - t0;
  const shown = await count(p, 'table.partitions tr[data-partition]');
  assert(shown === Math.min(100, SCALE_PARTITIONS), `the first page shows ${shown} partitions`);
  assert(ms < 5000, `the topic page took ${ms} ms`);
  console.log(`# ${CLIENT}: the topic page of ${SCALE_PARTITIONS} partitions rendered in ${ms} ms`);
  const info = await text(p, '.pager-info');
  assert(info.includes(`of ${SCALE_PARTITIONS.toLocaleString('en-US')}`), `the pager says ${info}`);
  await p.click('[data-page=last] >> nth=0');
  const lastP = SCALE_PARTITIONS - 1;
  await p.waitForSelector(`table.partitions tr[data-partition="${lastP}"]`);
  const lastRows = await count(p, 'table.partitions tr[data-partition]');
  const expect = SCALE_PARTITIONS % 100 || 100;
  assert(lastRows === expect, `the last page shows ${lastRows} partitions, not ${expect}`);
  assert(await count(p, 'tr') < 250, 'the page holds more than one page of rows');
  // The message browser on the last partition (empty) loads without an error.
  await w.go(`#/topics/${big}/messages?partition=${lastP}`);
  await p.waitForSelector('table.messages tr.empty');
  await noErrorBanner(p);
  // The list: paged, and the debounced search finds one topic among SCALE_TOPICS + others.
  await w.go('#/topics');
  const listed = await count(p, 'table.topics tr[data-topic]');
  assert(listed <= 50, `the topics list shows ${listed} rows at once`);
  const total = num((await text(p, '.pager-info')).split('of')[1]);
  assert(total >= SCALE_TOPICS + 1, `the pager counts ${total} topics`);
  const want = `${prefix}-137`;
  let searches = 0;
  const onReq = (r) => { if (r.url().includes('/api/v1/topics?')) searches++; };
  p.on('request', onReq);
  await p.locator('#topic-search').pressSequentially(want, { delay: 20 });
  await until('the search finds the topic', 10000, async (note) => {
    const names = await p.$$eval('table.topics tr[data-topic]', (rs) => rs.map((r) => r.getAttribute('data-topic')));
    note(names.slice(0, 3).join(','));
    return names.length === 1 && names[0] === want;
  });
  p.off('request', onReq);
  assert(searches <= 3, `typing ${want.length} characters sent ${searches} searches (no debounce?)`);
}

// 7. Screenshots of every page.
async function screenshots(open) {
  fs.mkdirSync(SHOTS, { recursive: true });
  const t = shared.pagesTopic, g = shared.pagesGroup;
  const pages = [['overview', URL_MAIN, '#/'], ['topics', URL_MAIN, '#/topics'], ['topic', URL_MAIN, t && `#/topics/${t}`],
    ['messages', URL_MAIN, shared.msgTopic && `#/topics/${shared.msgTopic}/messages`], ['groups', URL_MAIN, '#/groups'],
    ['group', URL_MAIN, g && `#/groups/${g}`], ['topic-big', URL_MAIN, shared.bigTopic && `#/topics/${shared.bigTopic}`],
    ['read-only-topics', URL_RO, '#/topics']];
  const missing = [];
  for (const [what, base, hash] of pages) {
    if (!hash) { missing.push(`${what} (its scenario made no data)`); continue; }
    const w = await open(base);
    await w.page.setViewportSize({ width: 1366, height: 900 });
    await w.go(hash);
    const file = path.join(SHOTS, `${what}.png`);
    await w.page.screenshot({ path: file, fullPage: true });
    if (!fs.existsSync(file) || fs.statSync(file).size < 2000) missing.push(file);
  }
  if (missing.length) throw new Error(`no screenshot of ${missing.join(', ')}`);
}

(async () => {
  const profile = fs.mkdtempSync(path.join(WORK, 'chromium-profile-'));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS,
    viewport: { width: 1366, height: 900 },
  });
  // Only loopback: anything else is aborted and reported.
  await context.route('**/*', (route) => {
    const u = new URL(route.request().url());
    if (u.protocol === 'data:' || u.hostname === '127.0.0.1') return route.continue();
    offsite.push(u.href);
    return route.abort();
  });
  await scenario('every page loads without console errors or failed requests', 90000, pagesLoad);
  await scenario('create a topic with the form (client sees 3 partitions), delete it with the dialog (client sees it gone)', 90000, createDelete);
  await scenario('message browser: key, JSON value (pretty and text), hex, headers, timestamp, paging, start at offset/time', 90000, messageBrowser);
  await scenario('group lag: list and group page show N-M, per-partition lags sum to it; delete the group', 120000, groupLag);
  await scenario('read-only console: no create/delete/edit controls, the API answers 403 READ_ONLY', 90000, readOnly);
  await scenario(`scale: ${SCALE_PARTITIONS} partitions page quickly, the last page works, search finds 1 of ${SCALE_TOPICS} topics`, 300000, scale);
  await scenario('screenshots of every page', 90000, screenshots);
  await context.close().catch(() => {});
  console.log(`# ${CLIENT}: screenshots in ${SHOTS}`);
  process.exit(failed ? 1 : 0);
})().catch((e) => {
  console.log(`FAIL ${CLIENT}: the test program -- ${oneLine(e.stack || e)}`);
  process.exit(1);
});
