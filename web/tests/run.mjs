#!/usr/bin/env node
// Browser tests of the web UI against a running annexd that serves it, in Debian's Chromium (headless) with
// axe-core. Run from the repository root or web/:   node web/tests/run.mjs [name-filter]
//
// Environment:
//   ANNEX_URL                  annexd's base URL, e.g. http://127.0.0.1:8080 (required)
//   ANNEX_APPROVER_LOGIN       a user who decides approvals (e.g. a sector head or finance) …
//   ANNEX_APPROVER_PASSWORD    … and their password
//   ANNEX_SUBMITTER_LOGIN      a user who submits items the approver decides (e.g. a sales rep) …
//   ANNEX_SUBMITTER_PASSWORD   … and their password
//   ANNEX_DELEGATE_LOGIN       a third user, whose own roles cannot decide cash advances (e.g. a sector head),
//   ANNEX_DELEGATE_PASSWORD    to whom the approver delegates the cash-advance chain for one test
//   ANNEX_ADMIN_LOGIN          an administrator (default admin, the demo company's) for the Operations screen …
//   ANNEX_ADMIN_PASSWORD       … and their password (default ANNEX_DEMO_PASSWORD)
//   ANNEX_OTHER_REP_LOGIN      a sales rep of another sector than the submitter's (default zheng.rep, the demo's
//   ANNEX_OTHER_REP_PASSWORD   south rep), whose opportunities the submitter's board must not show
//   ANNEX_AUDITOR_LOGIN        an auditor (default sun.audit, the demo company's) for the audit screen …
//   ANNEX_AUDITOR_PASSWORD     … and their password (default ANNEX_DEMO_PASSWORD)
//   ANNEX_HEAD_LOGIN           the sector head of the submitter's sector (default wang.head, the demo's north head),
//   ANNEX_HEAD_PASSWORD        who spot-checks the submitter's signed statement (default ANNEX_DEMO_PASSWORD)
//   ANNEX_DEMO_PASSWORD        the demo company's password (default "annex demo 2026"); the audit test signs in
//                              with it as the rep of an unsigned statement to leave one exception on record
//   ANNEX_CHROMIUM             the browser (default /usr/bin/chromium: apt-get install chromium)
//   ANNEX_SCREENSHOTS          a directory to save a screenshot of every page visited (optional)
//
// Each run makes one failed sign-in, and annexd throttles after five in fifteen minutes per account AND per
// address: run it at most four times in fifteen minutes against one daemon (a fresh daemon starts afresh).
// The sales tests have the submitter (a sales rep) open opportunities and move them, one of 2^53 + 1 minor units
// (to see the forecast stay exact), and the other rep open one in their own sector.
// The submitter requests two cash advances of 100.00 CNY and files a 595.50 CNY travel claim for the
// approver (who must decide the cash-advance chain and see expense claims) to decide.
// Closing line: "N passed, N failed".
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { env, launch, close } from './lib.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const missing = ['url'].filter((k) => !env[k]);
for (const who of ['approver', 'submitter', 'delegate']) if (!env[who].login || !env[who].password) missing.push(`${who} login/password`);
if (missing.length) {
  console.error(`missing: ${missing.join(', ')} (see the top of tests/run.mjs)`);
  process.exit(2);
}

const filter = process.argv[2] || '';
const files = readdirSync(here).filter((f) => f.endsWith('.mjs') && f !== 'run.mjs' && f !== 'lib.mjs').sort();
const tests = [];
for (const f of files) {
  const mod = await import(pathToFileURL(join(here, f)).href);
  for (const t of mod.tests || []) tests.push({ ...t, file: f });
}
// Files may name an order: tests run in the order of `order` (lower first), then by file name.
tests.sort((a, b) => (a.order ?? 50) - (b.order ?? 50));

await launch();
let passed = 0;
let failed = 0;
for (const t of tests) {
  const name = `${t.file.replace(/\.mjs$/, '')}: ${t.name}`;
  if (filter && !name.includes(filter)) continue;
  const started = Date.now();
  try {
    await t.fn();
    passed++;
    console.log(`ok - ${name} (${Date.now() - started} ms)`);
  } catch (e) {
    failed++;
    console.log(`not ok - ${name}`);
    console.log(String(e && e.stack ? e.stack : e).split('\n').map((l) => `    ${l}`).join('\n'));
  }
}
await close();
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
