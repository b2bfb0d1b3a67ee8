// End-to-end tests of the clerk's screens in headless Chromium: `kensa serve` with a registry
// and a decision log, driven as a clerk and a reviewer would.
//
//   node tests/browser/e2e.mjs [path/to/kensa]        (default: target/debug/kensa)
//
// Environment: CHROMIUM (default /usr/bin/chromium); SCREENSHOTS=DIR writes a PNG of each
// screen there (docs/screens/ holds the committed ones). Fails on any console error, any
// request to another host than the kensa server, and any expectation below.
import { chromium } from 'playwright-core';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const kensa = path.resolve(process.argv[2] || path.join(root, 'target/debug/kensa'));
const shots = process.env.SCREENSHOTS ? path.resolve(process.env.SCREENSHOTS) : null;
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'kensa-e2e-'));
const decisionLog = path.join(work, 'decisions.jsonl');

// A registry of the bundled enrolled residents.
execFileSync(kensa, ['registry', 'import', path.join(root, 'examples/registry.jsonl'), '--db', path.join(work, 'registry.db'), '--quiet'], { stdio: 'inherit' });

// The server, on a free port; its address from its first line.
const server = spawn(kensa, ['serve', '--listen', '127.0.0.1:0', '--registry', path.join(work, 'registry.db'),
  '--decision-log', decisionLog, '--today', '2026-11-27'], { stdio: ['ignore', 'ignore', 'pipe'] });
let stderr = '';
const base = await new Promise((resolve, reject) => {
  const timer = setTimeout(() => reject(new Error('kensa serve did not start:\n' + stderr)), 60_000);
  server.stderr.on('data', (d) => {
    stderr += d;
    const m = /listening on (http:\/\/[0-9.:]+)/.exec(stderr);
    if (m && /ready/.test(stderr)) { clearTimeout(timer); resolve(m[1]); }
  });
  server.on('exit', (code) => reject(new Error(`kensa serve exited (${code}):\n${stderr}`)));
});
const origin = new URL(base).origin;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const problems = [];
const checks = [];

async function newPage() {
  const context = await browser.newContext({ locale: 'ja-JP', viewport: { width: 1200, height: 900 } });
  const page = await context.newPage();
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console error on ${page.url()}: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`page error on ${page.url()}: ${e.message}`));
  page.on('request', (r) => {
    const u = new URL(r.url());
    if (u.protocol !== 'file:' && u.origin !== origin) problems.push(`request to another host: ${r.url()}`);
    if (u.pathname === '/v1/check-fields') checks.push(Date.now());
  });
  return page;
}

// At 200 % zoom a 1200-pixel window is 600 CSS pixels wide: nothing may need scrolling sideways.
async function readableAtDoubleZoom(page) {
  await page.setViewportSize({ width: 600, height: 900 });
  const [scroll, client] = await page.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]);
  assert.ok(scroll <= client + 1, `the page is ${scroll}px wide in a ${client}px window at 200 % zoom`);
  await page.setViewportSize({ width: 1200, height: 900 });
}

async function step(name, fn) {
  process.stdout.write(`e2e: ${name} … `);
  await fn();
  console.log('ok');
}

async function shot(page, name, fullPage = true) {
  if (!shots) return;
  fs.mkdirSync(shots, { recursive: true });
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: path.join(shots, name + '.png'), fullPage });
}

const dup = JSON.parse(fs.readFileSync(path.join(root, 'examples/enrollment-cases.jsonl'), 'utf8').split('\n')[34]).record;
let decisionId = null;

try {
  await step('the form shows a wrong check digit under the My Number field', async () => {
    const page = await newPage();
    await page.goto(base + '/');
    await page.waitForSelector('#f-my_number');
    assert.equal(await page.getAttribute('html', 'lang'), 'ja');
    await page.fill('#f-family_name', '柴田');
    await page.type('#f-my_number', '463760444597', { delay: 15 });
    const finding = page.locator('#f-my_number-findings li', { hasText: '検査用数字' });
    await finding.waitFor({ timeout: 10_000 });
    assert.match(await finding.innerText(), /却下/, 'the severity is written, not only coloured');
    assert.match(await page.locator('#decision').innerText(), /却下/);
    // Keyboard reachable: Tab moves from the My Number field to the next field.
    await page.focus('#f-my_number');
    await page.keyboard.press('Tab');
    assert.notEqual(await page.evaluate(() => document.activeElement.id), 'f-my_number');
    await shot(page, 'form');
    await readableAtDoubleZoom(page);
    await page.context().close();
  });

  await step('no check while a kana conversion is open', async () => {
    const page = await newPage();
    await page.goto(base + '/');
    await page.waitForSelector('#f-family_name_kana');
    await page.dispatchEvent('#f-family_name_kana', 'compositionstart');
    const before = checks.length;
    await page.type('#f-family_name_kana', 'やまだ', { delay: 20 });
    await page.waitForTimeout(800);
    assert.equal(checks.length, before, 'a request was sent during the conversion');
    await page.dispatchEvent('#f-family_name_kana', 'compositionend');
    await page.waitForFunction((n) => n, true);
    const deadline = Date.now() + 5000;
    while (checks.length === before && Date.now() < deadline) await page.waitForTimeout(50);
    assert.ok(checks.length > before, 'no check after the conversion ended');
    await page.context().close();
  });

  await step('a probable duplicate opens a review screen with both records and the waterfall', async () => {
    const page = await newPage();
    await page.goto(base + '/');
    await page.waitForSelector('#f-my_number');
    for (const [k, v] of Object.entries(dup)) {
      if (v && typeof v === 'object') for (const [k2, v2] of Object.entries(v)) await page.fill(`[name="${k}.${k2}"]`, String(v2));
      else if (await page.locator(`select[name="${k}"]`).count()) await page.selectOption(`select[name="${k}"]`, String(v));
      else await page.fill(`[name="${k}"]`, String(v));
    }
    await page.click('#enroll');
    const link = page.locator('#open-review');
    await link.waitFor({ timeout: 15_000 });
    assert.match(await page.locator('#outcome').innerText(), /要確認/);
    await link.click();
    await page.waitForSelector('section.pair svg.waterfall', { timeout: 15_000 });
    decisionId = decodeURIComponent(new URL(page.url()).pathname.replace('/review/', ''));
    const text = await page.locator('main').innerText();
    assert.match(text, new RegExp(dup.id), 'the record');
    assert.match(text, /P001398/, 'the registry record');
    assert.match(text, /registry\.probable_duplicate/, 'the finding that sent it here');
    assert.match(text, /一致/, 'agreeing fields are marked in words');
    assert.match(text, /相違/, 'differing fields too');
    assert.ok(!/\d{12}/.test(text), 'no My Number in full');
    const bars = await page.locator('svg.waterfall rect').count();
    assert.ok(bars >= 8, `the waterfall has a bar per comparison, the prior and the total (${bars})`);
    await page.check('input[value="same_person"]');
    await page.fill('#note', '運転免許証で本人確認済み');
    await shot(page, 'review');
    await readableAtDoubleZoom(page);
    await page.click('#save-mark');
    await page.locator('#status', { hasText: '記録しました' }).waitFor({ timeout: 10_000 });
    await page.context().close();
  });

  await step('the mark is in the decision log', async () => {
    const deadline = Date.now() + 5000;
    let mark = null;
    while (!mark && Date.now() < deadline) {
      const lines = fs.readFileSync(decisionLog, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
      mark = lines.find((l) => l.route === 'review' && l.reviews === decisionId);
      if (!mark) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(mark, 'no review line in the decision log');
    assert.equal(mark.action, 'same_person');
    assert.equal(mark.same_as, 'P001398');
    assert.equal(mark.note, '運転免許証で本人確認済み');
  });

  await step('the review queue lists it, reviewed, with the count per rule', async () => {
    const page = await newPage();
    await page.goto(base + '/review');
    await page.locator('#queue tbody tr').first().waitFor({ timeout: 10_000 });
    const text = await page.locator('main').innerText();
    assert.match(text, new RegExp(dup.id));
    assert.match(text, /確認済み: 同一人物/);
    assert.match(await page.locator('#counts').innerText(), /registry\.probable_duplicate\s+1/);
    await page.selectOption('#rule', 'registry.probable_duplicate');
    await page.locator('#queue-caption', { hasText: 'registry.probable_duplicate' }).waitFor();
    await shot(page, 'queue');
    await readableAtDoubleZoom(page);
    await page.context().close();
  });

  // The static reports, written by the binary from the bundled examples: each opens from its
  // file with no network, and shows its summary.
  const reports = path.join(work, 'reports');
  fs.mkdirSync(reports);
  const write = (file, args) => {
    try {
      const out = execFileSync(kensa, args, { cwd: root, stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 64 << 20 });
      if (file) fs.writeFileSync(path.join(reports, file), out);
    } catch (e) {
      // Exit 1 is an answer (findings, changed decisions), not a failure.
      if (e.status !== 1) throw e;
      if (file) fs.writeFileSync(path.join(reports, file), e.stdout);
    }
  };
  const today = ['--today', '2026-11-27'];
  write('eval.html', ['eval', ...today, '--format', 'html', 'examples/enrollment.jsonl']);
  write('dedup.html', ['dedup', ...today, '--format', 'html', 'examples/registry.jsonl']);
  write('link.html', ['link', ...today, '--registry', 'examples/registry.jsonl', '--format', 'html', 'examples/enrollment.jsonl']);
  write(null, ['test', '--html', path.join(reports, 'test.html'), 'tests/suites']);
  write('diff.html', ['diff', ...today, '--base', 'builtin', '--rules', 'examples/overlay-foreign-residents', '--expect',
    'examples/overlay-foreign-residents/intended.yaml', '--format', 'html', 'examples/overlay-foreign-residents/records.jsonl']);
  const summaries = {
    'eval.html': [/判定ごとの件数/, /合計\s*total\s*99/],
    'dedup.html': [/重複候補/, /pairs\s*40/, /svg|waterfall/i],
    'link.html': [/照合結果/, /records linked\s*18/],
    'test.html': [/回帰テスト/, /passed\s*\d{3}/, /失敗なし/],
    'diff.html': [/ルール変更の影響/, /decisions changed\s*5/],
  };
  for (const [file, patterns] of Object.entries(summaries)) {
    await step(`report ${file} opens offline and shows its summary`, async () => {
      const page = await newPage();
      await page.goto('file://' + path.join(reports, file));
      const text = await page.locator('body').innerText();
      for (const p of patterns.slice(0, 2)) assert.match(text, p, `${file}: ${p}`);
      assert.equal(await page.getAttribute('html', 'lang'), 'ja');
      if (file !== 'test.html') assert.ok(await page.locator('svg').count() > 0, `${file} draws a chart`);
      await shot(page, 'report-' + path.basename(file, '.html'), false);
      await page.context().close();
    });
  }

  assert.deepEqual(problems, [], 'console errors or foreign requests');
  console.log('e2e: all passed');
} catch (e) {
  console.error('\n' + (e.stack || e));
  if (problems.length) console.error('also: ' + problems.join('\n'));
  process.exitCode = 1;
} finally {
  await browser.close();
  server.kill('SIGTERM');
  fs.rmSync(work, { recursive: true, force: true });
}
