// Shared helpers of the browser tests: the browser, signing in, axe, screenshots, and a small API client
// for preparing data as a user would through the API.
import { chromium } from 'playwright-core';
import { createRequire } from 'node:module';
import { readFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import assert from 'node:assert/strict';

const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

// `annexctl demo load` gives every demo user this password.
const DEMO_PASSWORD = process.env.ANNEX_DEMO_PASSWORD || 'annex demo 2026';

export const env = {
  url: (process.env.ANNEX_URL || '').replace(/\/+$/, ''),
  approver: { login: process.env.ANNEX_APPROVER_LOGIN || '', password: process.env.ANNEX_APPROVER_PASSWORD || '' },
  submitter: { login: process.env.ANNEX_SUBMITTER_LOGIN || '', password: process.env.ANNEX_SUBMITTER_PASSWORD || '' },
  delegate: { login: process.env.ANNEX_DELEGATE_LOGIN || '', password: process.env.ANNEX_DELEGATE_PASSWORD || '' },
  // The sales and operations tests: an administrator, and a rep of another sector than the submitter's
  // (defaults: the demo company's).
  admin: { login: process.env.ANNEX_ADMIN_LOGIN || 'admin', password: process.env.ANNEX_ADMIN_PASSWORD || DEMO_PASSWORD },
  otherRep: { login: process.env.ANNEX_OTHER_REP_LOGIN || 'zheng.rep', password: process.env.ANNEX_OTHER_REP_PASSWORD || DEMO_PASSWORD },
  // The screens' tests: an auditor and a sector head of the submitter's sector (defaults: the demo company's).
  auditor: { login: process.env.ANNEX_AUDITOR_LOGIN || 'sun.audit', password: process.env.ANNEX_AUDITOR_PASSWORD || DEMO_PASSWORD },
  head: { login: process.env.ANNEX_HEAD_LOGIN || 'wang.head', password: process.env.ANNEX_HEAD_PASSWORD || DEMO_PASSWORD },
  demoPassword: DEMO_PASSWORD,
  chromium: process.env.ANNEX_CHROMIUM || '/usr/bin/chromium',
  screenshots: process.env.ANNEX_SCREENSHOTS || '',
  headed: process.env.ANNEX_HEADED === '1',
};

let browser = null;
export async function launch() {
  browser = await chromium.launch({
    executablePath: env.chromium,
    headless: !env.headed,
    // root in a container has no user namespaces for Chromium's sandbox
    args: process.getuid && process.getuid() === 0 ? ['--no-sandbox'] : [],
  });
  return browser;
}
export async function close() {
  if (browser) await browser.close();
  browser = null;
}

/**
 * A fresh context (no cookies, no localStorage) and page, recording console errors, CSP refusals and
 * requests to any host other than annexd's.
 * @param {{width?: number, height?: number, locale?: string}} [opts]
 */
export async function newPage(opts = {}) {
  const context = await browser.newContext({
    viewport: { width: opts.width || 1280, height: opts.height || 900 },
    locale: opts.locale || 'en-US',
  });
  const page = await context.newPage();
  const origin = new URL(env.url).origin;
  page.problems = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error' && !/status of 401|status of 404|status of 429|status of 422|status of 409/.test(msg.text())) page.problems.push(`console: ${msg.text()}`);
  });
  page.on('pageerror', (e) => page.problems.push(`page error: ${e.message}`));
  page.on('request', (r) => {
    const u = r.url();
    if (!u.startsWith(origin) && !u.startsWith('data:') && !u.startsWith('blob:')) page.problems.push(`outside request: ${u}`);
  });
  return page;
}

/** No console error, uncaught exception, CSP refusal or outside request happened on the page. */
export function assertClean(page) {
  assert.deepEqual(page.problems, [], 'the page stayed clean (no errors, CSP refusals or outside requests)');
}

export async function signIn(page, who) {
  await page.goto(`${env.url}/`);
  await page.locator('#login').fill(who.login);
  await page.locator('#password').fill(who.password);
  await page.locator('form button[type=submit]').click();
  await page.locator('nav.mainnav').waitFor();
  await settled(page);
}

/** The screen has loaded what it shows (no loading indicator left in the main area). */
export async function settled(page) {
  await page.locator('main h1').waitFor();
  await page.waitForFunction(() => !document.querySelector('main .loading'));
}

export async function signOut(page) {
  await page.locator('.topbar button.btn-quiet').click();
  await page.locator('#login').waitFor();
}

/** Runs axe-core in the page; fails on serious or critical violations. */
export async function assertAccessible(page, label) {
  // evaluate, not a <script> tag: the CSP would refuse an inline script, and rightly
  await page.evaluate(AXE_SOURCE);
  const result = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const r = await axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) }));
  });
  const bad = result.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  const minor = result.filter((v) => !bad.includes(v));
  if (minor.length) console.log(`    axe (${label}) minor/moderate: ${minor.map((v) => v.id).join(', ')}`);
  assert.deepEqual(bad, [], `axe on ${label}: no serious or critical violations`);
}

/** The page does not scroll sideways. */
export async function assertNoHorizontalScroll(page, label) {
  const { scroll, client } = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth }));
  assert.ok(scroll <= client, `${label}: page is ${scroll}px wide in a ${client}px viewport`);
}

export async function screenshot(page, name) {
  if (!env.screenshots) return;
  mkdirSync(env.screenshots, { recursive: true });
  await page.screenshot({ path: join(env.screenshots, `${name}.png`), fullPage: true });
}

/** A signed-in API session from Node, as the browser holds one: cookie plus CSRF token. */
export async function apiSession(who) {
  const res = await fetch(`${env.url}/api/v1/auth/session`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ login: who.login, password: who.password }),
  });
  assert.equal(res.status, 200, `API sign-in of ${who.login}`);
  const cookie = (res.headers.get('set-cookie') || '').split(';')[0];
  const body = await res.json();
  const call = async (method, path, data) => {
    const r = await fetch(`${env.url}${path}`, {
      method,
      headers: { Cookie: cookie, 'X-CSRF-Token': body.csrf_token, ...(data === undefined ? {} : { 'Content-Type': 'application/json' }) },
      body: data === undefined ? undefined : JSON.stringify(data),
    });
    const text = await r.text();
    return { status: r.status, body: text ? JSON.parse(text) : null };
  };
  // A raw upload (a receipt's bytes), as the browser's file input sends it.
  const upload = async (path, bytes, type) => {
    const r = await fetch(`${env.url}${path}`, {
      method: 'POST', headers: { Cookie: cookie, 'X-CSRF-Token': body.csrf_token, 'Content-Type': type }, body: bytes,
    });
    const text = await r.text();
    return { status: r.status, body: text ? JSON.parse(text) : null };
  };
  return { user: body.user, call, upload, cookie, csrf: body.csrf_token };
}
