// The approvals inbox with 10,000 pending approvals, measured in the browser: how long from asking for the inbox
// until its first screen is usable (rows shown, nothing loading). Run by inbox_bench.sh against an annexd loaded
// with the demo company; prints the figures.
//   node tests/bench/inbox_bench.mjs URL [PENDING] [RUNS]
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(join(here, '../../web/package.json'));
const { chromium } = require('playwright-core');

const [url, pendingArg, runsArg] = process.argv.slice(2);
const pending = Number(pendingArg || 10000), runs = Number(runsArg || 7);
const password = 'annex demo 2026';

async function session(login) {
  const r = await fetch(`${url}/api/v1/auth/session`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ login, password }),
  });
  if (r.status !== 200) throw new Error(`sign-in of ${login}: ${r.status}`);
  const cookie = (r.headers.get('set-cookie') || '').split(';')[0];
  const { csrf_token: csrf } = await r.json();
  return (method, path, body) => fetch(`${url}${path}`, {
    method, headers: { Cookie: cookie, 'X-CSRF-Token': csrf, 'Content-Type': 'application/json' }, body: body && JSON.stringify(body),
  });
}

// Cash advances of a rep await finance: each is one pending approval (1 minor unit each, far under the cap).
const reps = ['li.rep', 'zhang.rep', 'yang.rep', 'wu.rep', 'zheng.rep'];
const calls = await Promise.all(reps.map(session));
const started = Date.now();
let made = 0;
await Promise.all(Array.from({ length: 8 }, async (_, worker) => {
  for (let i = worker; i < pending; i += 8) {
    const r = await calls[i % reps.length]('POST', '/api/v1/expenses/advances', { amount: { amount: 1, currency: 'CNY' }, purpose: `Inbox benchmark ${i}` });
    if (r.status !== 201) throw new Error(`advance ${i}: ${r.status} ${await r.text()}`);
    made++;
  }
}));
console.log(`${made} pending approvals made in ${((Date.now() - started) / 1000).toFixed(1)} s`);

const finance = await session('liu.finance');
const api = [];
for (let i = 0; i < runs; i++) {
  const t = performance.now();
  const r = await finance('GET', '/api/v1/approvals?limit=100');
  const page = await r.json();
  api.push(performance.now() - t);
  if (i === 0) console.log(`GET /api/v1/approvals: total ${page.total}, ${page.items.length} on the first page`);
}

const browser = await chromium.launch({
  executablePath: process.env.ANNEX_CHROMIUM || '/usr/bin/chromium', headless: true,
  args: process.getuid && process.getuid() === 0 ? ['--no-sandbox'] : [],
});
const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
const page = await context.newPage();
await page.goto(`${url}/`);
await page.locator('#login').fill('liu.finance');
await page.locator('#password').fill(password);
await page.locator('form button[type=submit]').click();
await page.locator('nav.mainnav').waitFor();
const screen = [];
for (let i = 0; i < runs; i++) {
  const t = performance.now();
  await page.goto(`${url}/approvals`);
  await page.locator('main h1').waitFor();
  await page.locator('main table tbody tr').first().waitFor();
  await page.waitForFunction(() => !document.querySelector('main .loading'));
  screen.push(performance.now() - t);
}
const rows = await page.locator('main table tbody tr').count();
await browser.close();

const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return `median ${s[Math.floor(s.length / 2)].toFixed(0)} ms, worst ${s[s.length - 1].toFixed(0)} ms`;
};
console.log(`inbox API (first page of 100): ${stats(api)}`);
console.log(`inbox first screen in Chromium (page load to rows shown, ${rows} rows): ${stats(screen)}`);
