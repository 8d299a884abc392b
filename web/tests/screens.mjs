// The expenses, statements and audit screens, each as the role that uses it: a rep files a claim with a receipt
// and submits it, requests an advance, reads their statement and is refused a payout with the reason; a rep
// cannot open another sector's statement; a sector head spot-checks; an auditor reads a month, the exceptions
// and the audit log, and verifies the chain. Axe on every screen; the claim form at 390 px.
import assert from 'node:assert/strict';
import { env, newPage, signIn, settled, apiSession, assertClean, assertAccessible, assertNoHorizontalScroll, screenshot } from './lib.mjs';

// A 1×1 PNG, with bytes after its end so that every run uploads a receipt never seen before.
const PNG = Buffer.concat([
  Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==', 'base64'),
  Buffer.from(`receipt ${Date.now()} ${Math.random()}`),
]);
// An amount no earlier run used, so the duplicate check does not warn: 20.00 to 79.99.
const cents = 2000 + Math.floor(Math.random() * 6000);
const amountText = `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`;

/** A statement of another sector than the submitter's, found through the auditor's reach. */
async function foreignStatement() {
  const auditor = await apiSession(env.auditor);
  const rep = await apiSession(env.submitter);
  const me = await rep.call('GET', '/api/v1/auth/me');
  const sectors = new Set((me.body.roles || []).map((r) => r.sector));
  const all = await auditor.call('GET', '/api/v1/relationship-spending/statements?limit=200');
  assert.equal(all.status, 200);
  return (all.body.items || []).find((s) => !sectors.has(s.sector_id) && s.rep_id !== me.body.id);
}

/** The login of a user id, read with the auditor's reach (the demo company's users share one password). */
async function demoUser(auditor, id) {
  const u = await auditor.call('GET', `/api/v1/users/${encodeURIComponent(id)}`);
  return u.status === 200 ? { login: u.body.login, password: env.demoPassword } : null;
}

export const tests = [
  {
    order: 70,
    name: 'a rep enters a claim, sees its policy result, attaches a receipt and submits it',
    fn: async () => {
      const page = await newPage();
      await signIn(page, env.submitter);
      await page.locator('nav.mainnav a[href="/expenses"]').click();
      await settled(page);
      await page.locator('#claims-title').waitFor();
      await assertAccessible(page, 'expenses');
      await page.locator('a[href="/expenses/claims/new"]').click();
      await page.locator('[data-testid=claim-form]').waitFor();
      assert.equal(await page.evaluate(() => document.activeElement && document.activeElement.tagName), 'H1', 'the new page title takes the focus');
      await page.locator('#claim-purpose').selectOption('customer');
      const line = page.locator('[data-testid=claim-line]').first();
      // the company's own categories, as the expenses plugin lists them
      const listed = await (await page.request.get(`${env.url}/api/v1/expenses/categories`)).json();
      const codes = listed.items.map((c) => c.code);
      assert.ok(codes.includes('transport'), JSON.stringify(listed));
      await line.locator('select[id$="-category"] option[value="transport"]').waitFor({ state: 'attached' });
      const offered = await line.locator('select[id$="-category"] option').evaluateAll((os) => os.map((o) => o.value).filter(Boolean));
      assert.deepEqual(offered, codes, 'the form offers the categories the server lists');
      await line.locator('input[type=date]').fill('2026-11-18');
      await line.locator('select[id$="-category"]').selectOption('transport');
      await line.locator('input[id$="-merchant"]').fill('Browser test: taxi to the customer');
      await line.locator('input[id$="-amount"]').fill(amountText);
      // saved a moment after the last keystroke, with the line's policy result from the server
      await page.locator('[data-testid=save-state][data-state=saved]').waitFor();
      await line.locator('.line-policy .badge').waitFor();
      assert.match(await line.locator('.line-policy').innerText(), /Within policy|Warning|Blocked/);
      assert.match(page.url(), /\/expenses\/claims\/ec_/, 'the draft has its own address once created');
      const input = line.locator('input[type=file]');
      assert.equal(await input.getAttribute('accept'), 'image/*,application/pdf');
      assert.equal(await input.getAttribute('capture'), 'environment');
      await input.setInputFiles({ name: 'taxi.png', mimeType: 'image/png', buffer: PNG });
      await line.locator('[data-testid=receipt-state] a', { hasText: 'Receipt attached' }).waitFor();
      await assertAccessible(page, 'claim form');
      await screenshot(page, 'claim-form');
      // a warned line needs its justification before submission
      const justification = line.locator('textarea[id$="-justification"]');
      if (await justification.count()) {
        await justification.fill('Browser test: the customer is outside the metro network.');
        await page.locator('[data-testid=save-state][data-state=saved]').waitFor();
      }
      const claimId = decodeURIComponent(page.url().split('/').pop());
      await page.locator('[data-testid=claim-form] button[type=submit]').click();
      await page.locator('[data-testid=claim-status]').waitFor();
      await page.locator('.alert-ok', { hasText: 'Submitted.' }).waitFor();
      await page.locator('[data-testid=approval-progress] .step').first().waitFor();
      assert.match(await page.locator('[data-testid=claim-status]').innerText(), /Submitted/);
      assert.match(await page.locator('[data-testid=claim-lines-view]').innerText(), new RegExp(`CN¥${amountText.replace('.', '\\.')}`));
      await assertAccessible(page, 'submitted claim');
      await screenshot(page, 'claim-submitted');
      // what the server holds: submitted, the receipt on its line
      const rep = await apiSession(env.submitter);
      const saved = await rep.call('GET', `/api/v1/expenses/claims/${encodeURIComponent(claimId)}`);
      assert.equal(saved.body.status, 'submitted');
      assert.equal(saved.body.lines[0].amount.amount, cents);
      assert.match(saved.body.lines[0].receipt_sha256 || '', /^[0-9a-f]{64}$/);
      // and it is in the list, with its state, in Chinese too
      await page.locator('.crumbs a').click();
      const row = page.locator('[data-testid=my-claims] tr', { has: page.locator(`a[href="/expenses/claims/${claimId}"]`) });
      await row.waitFor();
      assert.match(await row.innerText(), /Submitted/);
      await page.locator('#lang-select').selectOption('zh-CN');
      assert.match(await row.innerText(), /已提交/);
      await assertAccessible(page, 'expenses (zh-CN)');
      assertClean(page);
      await page.context().close();
    },
  },
  {
    order: 71,
    name: 'the claim form at 390 px: no sideways scrolling, and accessible',
    fn: async () => {
      const page = await newPage({ width: 390, height: 844 });
      await signIn(page, env.submitter);
      await page.goto(`${env.url}/expenses/claims/new`);
      await page.locator('[data-testid=claim-form]').waitFor();
      await page.locator('button', { hasText: 'Add a line' }).click();
      const second = page.locator('[data-testid=claim-line]').nth(1);
      await second.locator('input[id$="-merchant"]').fill('A merchant with a rather long name, Shanghai Pudong branch');
      // asked to submit, the form marks what is missing and takes the rep there
      await page.locator('[data-testid=claim-form] button[type=submit]').click();
      await page.locator('#claim-purpose[aria-invalid=true]').waitFor();
      assert.equal(await page.evaluate(() => document.activeElement && document.activeElement.id), 'claim-purpose');
      assert.match(await page.locator('#claim-purpose-problem').innerText(), /Choose the claim’s purpose/);
      await assertNoHorizontalScroll(page, 'claim form at 390 px');
      await assertAccessible(page, 'claim form at 390 px');
      // removing a line leaves the focus on the line that takes its place
      await page.locator('button', { hasText: 'Remove line 1' }).click();
      assert.equal(await page.locator('[data-testid=claim-line]').count(), 1);
      // The focus is put on it once the line is gone from the page, after the click returns.
      await page.waitForFunction(() => /^line-\d+-date$/.test(document.activeElement && document.activeElement.id), null, { timeout: 5000 }).catch(() => {});
      assert.match(await page.evaluate(() => document.activeElement.id), /^line-\d+-date$/);
      await screenshot(page, 'mobile-claim-form');
      await page.goto(`${env.url}/expenses`);
      await settled(page);
      await page.locator('#advances-title').waitFor();
      await assertNoHorizontalScroll(page, 'expenses at 390 px');
      assertClean(page);
      await page.context().close();
    },
  },
  {
    order: 72,
    name: 'a rep requests an advance and sees it against the cap',
    fn: async () => {
      const page = await newPage();
      await signIn(page, env.submitter);
      await page.goto(`${env.url}/expenses`);
      await page.locator('[data-testid=advance-balance]').waitFor();
      const before = await page.locator('[data-testid=advance-balance]').innerText();
      assert.match(before, /Outstanding\nCN¥[\d,]+\.\d\d/);
      assert.match(before, /Cap\nCN¥[\d,]+\.\d\d/);
      // the form says what is missing, next to the field
      await page.locator('[data-testid=advance-form] button[type=submit]').click();
      assert.equal(await page.locator('#advance-amount').getAttribute('aria-invalid'), 'true');
      await page.locator('#advance-amount').fill('12.34');
      await page.locator('#advance-purpose').fill('Browser test: parking at the fair');
      await page.locator('[data-testid=advance-form] button[type=submit]').click();
      await page.locator('.alert-ok', { hasText: 'CN¥12.34' }).waitFor();
      await page.locator('[data-testid=my-advances] th', { hasText: 'Browser test: parking at the fair' }).first().waitFor();
      await page.waitForFunction((b) => document.querySelector('[data-testid=advance-balance]').innerText !== b, before);
      await assertAccessible(page, 'advances');
      assertClean(page);
      await page.context().close();
    },
  },
  {
    order: 73,
    name: 'a rep reads their statement, its signatures and print link, and a payout refusal with its field',
    fn: async () => {
      const rep = await apiSession(env.submitter);
      const list = await rep.call('GET', '/api/v1/relationship-spending/statements');
      const own = (list.body.items || []).find((s) => s.rep_id === rep.user.id);
      const page = await newPage();
      await signIn(page, env.submitter);
      await page.locator('nav.mainnav a[href="/statements"]').click();
      await settled(page);
      await assertAccessible(page, 'statements');
      if (!own) {
        await page.locator('.empty').waitFor();
      } else {
        await page.locator(`a[href="/statements/${own.id}"]`).click();
        await page.locator('[data-testid=signatures]').waitFor();
        await settled(page);
        assert.equal(await page.locator('[data-testid=print-link]').getAttribute('href'), `/api/v1/relationship-spending/statements/${own.id}/print`);
        const customers = page.locator('[data-testid=statement-customers]');
        if (await customers.count()) assert.match(await customers.locator('thead').innerText(), /Carried forward/);
        if (own.status === 'signed' && own.valid) {
          // the demo's month is drawn from its 9th working day: before that, the refusal names payout_from
          await page.locator('[data-testid=payout-form] button[type=submit]').click();
          const refusal = page.locator('[data-testid=payout-refusal], .alert-ok').first();
          await refusal.waitFor();
          if (await page.locator('[data-testid=payout-refusal]').count()) {
            const field = await page.locator('[data-testid=payout-refusal]').getAttribute('data-field');
            assert.ok(['payout_from', 'amount', 'amount.amount', 'status'].includes(field), `a known field: ${field}`);
            assert.match(await page.locator('[data-testid=payout-refusal]').innerText(), /Field: /);
            await page.locator('#lang-select').selectOption('zh-CN');
            assert.match(await page.locator('[data-testid=payout-refusal]').innerText(), /相关字段：/);
            await page.locator('#lang-select').selectOption('en');
          }
        }
        if (own.status === 'draft' || own.status === 'returned') await page.locator('[data-testid=statement-submit]').waitFor();
        await assertAccessible(page, 'statement detail');
        await screenshot(page, 'statement-rep');
      }
      assertClean(page);
      await page.context().close();
    },
  },
  {
    order: 74,
    name: 'a rep opening another sector’s statement gets the not-found state',
    fn: async () => {
      const foreign = await foreignStatement();
      assert.ok(foreign, 'the data holds a statement of another sector');
      const page = await newPage();
      await signIn(page, env.submitter);
      await page.goto(`${env.url}/statements/${encodeURIComponent(foreign.id)}`);
      await page.locator('[data-testid=out-of-reach]').waitFor();
      assert.equal(await page.locator('main h1').innerText(), 'Not found');
      assert.equal(await page.locator('[data-testid=signatures]').count(), 0, 'nothing of the statement is shown');
      await assertAccessible(page, 'statement out of reach');
      assertClean(page);
      await page.context().close();
    },
  },
  {
    order: 75,
    name: 'a sector head spot-checks a signed statement of the sector',
    fn: async () => {
      const head = await apiSession(env.head);
      const list = await head.call('GET', '/api/v1/relationship-spending/statements?status=signed');
      const signed = (list.body.items || []).find((s) => s.valid && s.rep_id !== head.user.id);
      assert.ok(signed, 'the head reaches a signed statement');
      const page = await newPage();
      await signIn(page, env.head);
      await page.goto(`${env.url}/statements/${encodeURIComponent(signed.id)}`);
      const section = page.locator('[data-testid=spot-check]');
      await section.waitFor();
      await settled(page);
      const draw = section.locator('button', { hasText: 'Draw the sample' });
      if (await draw.count()) await draw.click();
      if (Number(signed.drawn.amount) === 0) {
        // nothing drawn yet (the demo's month pays from its 9th working day): the sample follows the first payout
        await section.locator('text=The sample is drawn once the rep has drawn a first payout').waitFor();
        assert.equal(await draw.count(), 0, 'no draw offered before a payout');
      } else {
        await section.locator('[data-testid=spot-item]').first().waitFor();
      }
      const pending = section.locator('[data-testid=spot-item]', { has: page.locator('textarea') }).first();
      if (await pending.count()) {
        await pending.locator('button', { hasText: 'Confirm' }).click();
        assert.equal(await pending.locator('textarea').getAttribute('aria-invalid'), 'true', 'a note is required');
        await pending.locator('textarea').fill('Browser test: met the buyer, fees confirmed.');
        const before = await section.locator('.badge-spot_confirmed').count();
        await pending.locator('button', { hasText: 'Confirm' }).click();
        await page.waitForFunction((n) => document.querySelectorAll('[data-testid=spot-check] .badge-spot_confirmed').length > n, before);
      }
      await assertAccessible(page, 'spot check');
      await screenshot(page, 'statement-spot-check');
      assertClean(page);
      await page.context().close();
    },
  },
  {
    order: 76,
    name: 'the auditor reads a month’s statements, the exceptions, the audit log, and verifies the chain',
    fn: async () => {
      const auditor = await apiSession(env.auditor);
      const period = (await auditor.call('GET', '/api/v1/relationship-spending/statements?limit=200')).body.items.map((s) => s.period).sort().pop();
      const month = await auditor.call('GET', `/api/v1/relationship-spending/periods/${period}`);
      assert.equal(month.status, 200);
      // leave one exception on record: the rep of an unsigned statement tries to draw its payout
      const unsigned = month.body.statements.find((s) => !s.valid);
      if (unsigned) {
        const u = await auditor.call('GET', `/api/v1/users/${unsigned.rep_id}`);
        if (u.status === 200) {
          try {
            const rep = await apiSession({ login: u.body.login, password: env.demoPassword });
            const r = await rep.call('POST', `/api/v1/relationship-spending/statements/${unsigned.id}/payouts`, {});
            assert.equal(r.status, 422);
          } catch {
            // not the demo company: the exceptions already on record are what the screen shows
          }
        }
      }
      const exceptions = (await auditor.call('GET', '/api/v1/relationship-spending/exceptions?limit=200')).body.items;

      const page = await newPage();
      await signIn(page, env.auditor);
      await page.locator('nav.mainnav a[href="/audit"]').click();
      await settled(page);
      await page.locator('#audit-period').fill(period);
      await page.locator('button', { hasText: 'Show' }).click();
      const table = page.locator('[data-testid=period-statements]');
      await table.waitFor();
      await page.waitForFunction((n) => document.querySelectorAll('[data-testid=period-statements] tbody tr').length === n, month.body.statements.length);
      const text = await table.innerText();
      for (const s of ['Signed', 'Submitted']) if (month.body.by_status[s.toLowerCase()]) assert.match(text, new RegExp(s));
      assert.match(text, /missing: |✓ /, 'signatures and what is missing');
      assert.match(text, /On time|late/);
      assert.equal(await page.locator('[data-testid=period-evidence]').getAttribute('href'), `/api/v1/relationship-spending/periods/${period}/evidence`);
      assert.equal(await table.locator('a[href$="/evidence"]').count(), month.body.statements.length, 'an evidence pack per statement');
      // the pack itself: a ZIP archive, fetched with the auditor's session
      const pack = await page.request.get(`${env.url}${await table.locator('a[href$="/evidence"]').first().getAttribute('href')}`);
      assert.equal(pack.status(), 200);
      assert.equal((await pack.body()).subarray(0, 2).toString('latin1'), 'PK', 'an evidence pack is a ZIP archive');
      if (exceptions.length) {
        await page.locator('[data-testid=exceptions] tbody tr').first().waitFor();
        assert.equal(await page.locator('[data-testid=exceptions] tbody tr').count(), exceptions.length);
        if (exceptions.some((x) => x.kind === 'missing_signature')) assert.match(await page.locator('[data-testid=exceptions]').innerText(), /Missing signature/);
      } else {
        await page.locator('#exceptions-title ~ .empty, section:has(#exceptions-title) .empty').first().waitFor();
      }
      // the audit log: search, then verify the chain
      await page.locator('#audit-object_type').fill('relationship.statement');
      if (await page.locator('select#audit-principal').count()) {
        assert.ok(await page.locator('select#audit-principal option').count() > 1, 'principals by name');
      }
      await page.locator('[data-testid=audit-search] button[type=submit]').click();
      await page.locator('[data-testid=audit-entries] tbody tr').first().waitFor();
      assert.match(await page.locator('[data-testid=audit-entries]').innerText(), /relationship\.statement\//);
      await page.locator('[data-testid=verify-chain]').click();
      const result = page.locator('[data-testid=verify-result]');
      await result.waitFor();
      assert.equal(await result.getAttribute('data-ok'), 'true');
      assert.match(await result.innerText(), /intact/);
      assert.match(await result.innerText(), /\d+ entries and \d+ signed checkpoint/);
      await assertAccessible(page, 'audit');
      await screenshot(page, 'audit');
      await page.locator('#lang-select').selectOption('zh-CN');
      assert.match(await result.innerText(), /完好/);
      await assertAccessible(page, 'audit (zh-CN)');
      assertClean(page);
      await page.context().close();
    },
  },
  {
    order: 77,
    name: 'the rep of a draft or returned statement submits it',
    fn: async () => {
      const auditor = await apiSession(env.auditor);
      const all = (await auditor.call('GET', '/api/v1/relationship-spending/statements?limit=200')).body.items;
      const open = all.find((s) => s.status === 'draft' || s.status === 'returned');
      if (!open) {
        console.log('    (no draft or returned statement left on this daemon: nothing to submit)');
        return;
      }
      const rep = await demoUser(auditor, open.rep_id);
      assert.ok(rep, 'the rep of the statement is known');
      const page = await newPage();
      await signIn(page, rep);
      await page.goto(`${env.url}/statements/${encodeURIComponent(open.id)}`);
      const submit = page.locator('[data-testid=statement-submit]');
      await submit.waitFor();
      await settled(page);
      await assertAccessible(page, `a ${open.status} statement`);
      await submit.click();
      await page.locator('.alert-ok', { hasText: 'Statement submitted for signature.' }).waitFor();
      await page.locator('[data-testid=statement-submit]').waitFor({ state: 'detached' });
      const after = await auditor.call('GET', `/api/v1/relationship-spending/statements/${open.id}`);
      assert.equal(after.body.status, 'submitted');
      assertClean(page);
      await page.context().close();
    },
  },
  {
    order: 78,
    name: 'a returned claim opens as a form, with the decision that returned it',
    fn: async () => {
      const auditor = await apiSession(env.auditor);
      const returned = (await auditor.call('GET', '/api/v1/expenses/claims?status=returned&limit=50')).body.items[0];
      if (!returned) {
        console.log('    (no returned claim on this daemon)');
        return;
      }
      const rep = await demoUser(auditor, returned.claimant_id);
      assert.ok(rep, 'the claimant is known');
      const page = await newPage({ width: 390, height: 844 });
      await signIn(page, rep);
      await page.goto(`${env.url}/expenses/claims/${encodeURIComponent(returned.id)}`);
      await page.locator('[data-testid=claim-form]').waitFor();
      await page.locator('[data-testid=approval-progress]').waitFor();
      assert.match(await page.locator('.alert-warn').innerText(), /returned to you/);
      assert.match(await page.locator('[data-testid=approval-progress]').innerText(), /Returned/);
      const lines = page.locator('[data-testid=claim-line]');
      assert.ok(await lines.count() >= 1, 'its lines are in the form');
      assert.notEqual(await lines.first().locator('input[id$="-amount"]').inputValue(), '', 'with their amounts');
      await assertNoHorizontalScroll(page, 'returned claim at 390 px');
      await assertAccessible(page, 'returned claim');
      assertClean(page);
      await page.context().close();
    },
  },
  {
    order: 79,
    name: 'an entertainment line asks who was entertained, and the draft keeps it',
    fn: async () => {
      const page = await newPage({ locale: 'zh-CN' });
      await signIn(page, env.submitter);
      await page.goto(`${env.url}/expenses/claims/new`);
      await page.locator('[data-testid=claim-form]').waitFor();
      await page.locator('#claim-purpose').selectOption('customer');
      const line = page.locator('[data-testid=claim-line]').first();
      assert.equal(await line.locator('textarea[id$="-attendees"]').count(), 0, 'not asked for other categories');
      await line.locator('input[type=date]').fill('2026-11-19');
      await line.locator('select[id$="-category"]').selectOption('entertainment');
      assert.equal(await line.locator('label[for$="-attendee_count"]').innerText(), '参与人数');
      await line.locator('input[id$="-amount"]').fill(`1${amountText}`);
      await line.locator('input[id$="-attendee_count"]').fill('3');
      await line.locator('textarea[id$="-attendees"]').fill('王伟 Wang Wei\n赵丽 Zhao Li');
      await page.locator('[data-testid=save-state][data-state=saved]').waitFor();
      await line.locator('.line-policy .badge').waitFor();
      await assertAccessible(page, 'entertainment line (zh-CN)');
      const id = decodeURIComponent(page.url().split('/').pop());
      const rep = await apiSession(env.submitter);
      const saved = (await rep.call('GET', `/api/v1/expenses/claims/${encodeURIComponent(id)}`)).body;
      assert.equal(saved.status, 'draft');
      assert.equal(saved.lines[0].attendee_count, 3);
      assert.deepEqual(saved.lines[0].attendees.map((a) => a.name), ['王伟 Wang Wei', '赵丽 Zhao Li']);
      assertClean(page);
      await page.context().close();
    },
  },
  {
    order: 80,
    name: 'a statement’s special expenses are listed (the statement as served, with two added)',
    fn: async () => {
      const rep = await apiSession(env.submitter);
      const own = ((await rep.call('GET', '/api/v1/relationship-spending/statements')).body.items || []).find((s) => s.rep_id === rep.user.id);
      assert.ok(own, 'the submitter has a statement');
      const page = await newPage();
      // the demo files no special expense: the statement the server answers is given one on it and one filed
      await page.route(`**/api/v1/relationship-spending/statements/${own.id}`, async (route) => {
        const res = await route.fetch();
        const doc = await res.json();
        const party = (doc.content.customers[0] || {}).party_id || 'p_1';
        doc.content.special_expenses = {
          on_statement: [{ application_id: 'rse_1', party_id: party, contract: { contract_id: 'ct_1', number: 'HT-TEST-1', signed_on: '2026-11-10' },
            amount: 50000, payable_before: 0, payable_after: 25000, state: 'partly_payable' }],
          filed_in_month: [{ application_id: 'rse_2', party_id: party, amount: { amount: 30000, currency: 'CNY' }, purpose: 'new_customer_special',
            status: 'approved', filed_on: '2026-11-04' }],
        };
        await route.fulfill({ response: res, json: doc });
      });
      await signIn(page, env.submitter);
      await page.goto(`${env.url}/statements/${encodeURIComponent(own.id)}`);
      await page.locator('[data-testid=special-on-statement]').waitFor();
      const on = await page.locator('[data-testid=special-on-statement] tbody').innerText();
      assert.match(on, /HT-TEST-1/);
      assert.match(on, /CN¥500\.00/);
      assert.match(on, /CN¥250\.00/);
      assert.match(on, /Partly payable/);
      const filed = await page.locator('[data-testid=special-filed] tbody').innerText();
      assert.match(filed, /New-customer special expense/);
      assert.match(filed, /Nov 4, 2026/);
      await assertAccessible(page, 'statement with special expenses');
      await page.locator('#lang-select').selectOption('zh-CN');
      assert.match(await page.locator('[data-testid=special-filed] tbody').innerText(), /争取新客户特殊费用/);
      assertClean(page);
      await page.context().close();
    },
  },
  {
    order: 81,
    name: 'the statements list filters by state on the server',
    fn: async () => {
      const auditor = await apiSession(env.auditor);
      const signed = (await auditor.call('GET', '/api/v1/relationship-spending/statements?status=signed&limit=100')).body.items;
      const page = await newPage();
      await signIn(page, env.auditor);
      await page.goto(`${env.url}/statements`);
      await page.locator('[data-testid=statements-table]').waitFor();
      await page.locator('#statements-status').selectOption('signed');
      await page.waitForFunction((n) => document.querySelectorAll('[data-testid=statements-table] tbody tr').length === n
        && !document.querySelector('main .loading'), signed.length);
      for (const text of await page.locator('[data-testid=statements-table] tbody td:nth-child(4)').allInnerTexts()) assert.equal(text, 'Signed');
      await assertAccessible(page, 'statements filtered');
      assertClean(page);
      await page.context().close();
    },
  },
];
