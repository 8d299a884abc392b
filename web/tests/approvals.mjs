// The approvals inbox, an item's detail with its subject, decisions, and one's own item.
import assert from 'node:assert/strict';
import { env, newPage, signIn, apiSession, assertClean, assertAccessible, screenshot } from './lib.mjs';

const state = { advances: [] };

/** The submitter requests a small cash advance through the API; its approval awaits the approver. */
async function requestAdvance(purpose) {
  const rep = await apiSession(env.submitter);
  state.submitterId = rep.user.id;
  const res = await rep.call('POST', '/api/v1/expenses/advances', { amount: { amount: 10000, currency: 'CNY' }, purpose });
  assert.equal(res.status, 201, `the submitter's advance request: ${JSON.stringify(res.body)}`);
  const approvalId = res.body.approval_id || (res.body.approval && res.body.approval.id);
  assert.ok(approvalId, 'the advance went into its approval chain');
  const item = { advanceId: res.body.id, approvalId };
  state.advances.push(item);
  return item;
}

/** The submitter files and submits a two-line expense claim; returns its approval id. */
async function submitClaim() {
  const rep = await apiSession(env.submitter);
  const created = await rep.call('POST', '/api/v1/expenses/claims', {
    purpose: 'customer', description: 'Browser test: customer visit',
    lines: [
      { date: '2026-11-16', category: 'travel', merchant: 'China Railway', amount: { amount: 55300, currency: 'CNY' }, justification: 'Browser test: a repeated trip' },
      { date: '2026-11-17', category: 'travel', merchant: 'Didi', amount: { amount: 4250, currency: 'CNY' }, justification: 'Browser test: a repeated trip' },
    ],
  });
  assert.equal(created.status, 201, `the claim: ${JSON.stringify(created.body)}`);
  // Travel needs a receipt on every line: a small PDF of its own for each.
  for (const line of [1, 2]) {
    const pdf = `%PDF-1.4\n% Browser test receipt ${created.body.id} line ${line}\n%%EOF\n`;
    const attached = await rep.upload(`/api/v1/expenses/claims/${encodeURIComponent(created.body.id)}/lines/${line}/receipt`, pdf, 'application/pdf');
    assert.ok(attached.status === 200 || attached.status === 201, `receipt of line ${line}: ${JSON.stringify(attached.body)}`);
  }
  const submitted = await rep.call('POST', `/api/v1/expenses/claims/${encodeURIComponent(created.body.id)}/submit`, {});
  assert.ok(submitted.status === 200 || submitted.status === 201, `submission: ${JSON.stringify(submitted.body)}`);
  const approvalId = submitted.body.approval_id || (submitted.body.approval && submitted.body.approval.id);
  assert.ok(approvalId, 'the claim went into its approval chain');
  return { claimId: created.body.id, approvalId };
}

export const tests = [
  {
    order: 30,
    name: 'the inbox lists what awaits the approver, amounts in the locale format',
    fn: async () => {
      const { approvalId } = await requestAdvance('Browser test: trade fair deposit');
      const page = await newPage();
      await signIn(page, env.approver);
      const link = page.locator(`a[href="/approvals/${encodeURIComponent(approvalId)}"]`);
      await link.waitFor();
      assert.match(await link.innerText(), /^Cash advance /);
      const row = page.locator('tr', { has: link });
      assert.match(await row.locator('td.num').innerText(), /^CN¥100\.00$/, 'the amount in minor units, formatted exactly');
      await assertAccessible(page, 'approvals inbox');
      await screenshot(page, 'approvals-en');
      await page.locator('#lang-select').selectOption('zh-CN');
      assert.match(await row.locator('td.num').innerText(), /^¥100\.00$/);
      assert.match(await link.innerText(), /^备用金借款 /);
      await assertAccessible(page, 'approvals inbox (zh-CN)');
      assertClean(page);
      await page.context().close();
    },
  },
  {
    order: 31,
    name: 'on their own item the submitter sees no actions, and the reason',
    fn: async () => {
      const { approvalId } = state.advances[0];
      const page = await newPage();
      await signIn(page, env.submitter);
      await page.goto(`${env.url}/approvals/${encodeURIComponent(approvalId)}`);
      await page.locator('#decide-title').waitFor();
      const panel = page.locator('section', { has: page.locator('#decide-title') });
      await panel.locator('[role=status]').waitFor();
      assert.match(await panel.innerText(), /You submitted this item, so you cannot decide it/);
      assert.equal(await page.locator('[data-testid=decision-form]').count(), 0, 'no decision form');
      await screenshot(page, 'approval-own-item');
      assertClean(page);
      await page.context().close();
    },
  },
  {
    order: 32,
    name: 'the approver reads an item with its subject and approves it with a comment',
    fn: async () => {
      const { approvalId, advanceId } = state.advances[0];
      const page = await newPage();
      await signIn(page, env.approver);
      await page.locator(`a[href="/approvals/${encodeURIComponent(approvalId)}"]`).click();
      await page.locator('[data-testid=decision-form]').waitFor();
      assert.match(await page.locator('h1').innerText(), /^Cash advance /);
      assert.equal(await page.evaluate(() => document.activeElement && document.activeElement.tagName), 'H1', 'the new page title takes the focus');
      const subject = page.locator('section', { has: page.locator('#subject-title') });
      await subject.locator('dl.facts').waitFor();
      const subjectText = await subject.innerText();
      assert.ok(subjectText.includes(String(advanceId)), 'the advance itself is shown');
      assert.match(subjectText, /CN¥100\.00/);
      assert.match(subjectText, /Browser test: trade fair deposit/);
      await assertAccessible(page, 'approval detail');
      await screenshot(page, 'approval-detail');
      // keyboard: choose with the radio buttons, type the comment, submit
      await page.locator('#decision-approve').check();
      await page.locator('#decision-comment').fill('Deposit confirmed with the fair organiser.');
      await page.locator('[data-testid=decision-form] button[type=submit]').click();
      await page.locator('.alert-ok', { hasText: 'You approved this item.' }).waitFor();
      await page.locator('td', { hasText: 'Deposit confirmed with the fair organiser.' }).waitFor();
      await screenshot(page, 'approval-decided');
      await page.locator('.crumbs a').click();
      await page.locator('h1', { hasText: 'Approvals' }).waitFor();
      await page.locator('main .loading').waitFor({ state: 'detached' });
      assert.equal(await page.locator(`a[href="/approvals/${encodeURIComponent(approvalId)}"]`).count(), 0, 'decided: no longer in the inbox');
      assertClean(page);
      await page.context().close();
    },
  },
  {
    order: 33,
    name: 'the approver returns an item for changes, in Chinese',
    fn: async () => {
      const { approvalId } = await requestAdvance('Browser test: sample shipment');
      const page = await newPage({ locale: 'zh-CN' });
      await signIn(page, env.approver);
      await page.goto(`${env.url}/approvals/${encodeURIComponent(approvalId)}`);
      await page.locator('[data-testid=decision-form]').waitFor();
      assert.equal(await page.locator('label[for=decision-return]').innerText(), '退回修改');
      await page.locator('label[for=decision-return]').click();
      await page.locator('#decision-comment').fill('请补充发票。');
      assert.equal(await page.locator('[data-testid=decision-form] button[type=submit]').innerText(), '退回修改');
      await page.locator('[data-testid=decision-form] button[type=submit]').click();
      await page.locator('.alert-ok', { hasText: '您已将此事项退回提交人。' }).waitFor();
      assertClean(page);
      await page.context().close();
    },
  },
  {
    order: 34,
    name: 'an expense claim shows its lines, amounts and policy results, in both languages',
    fn: async () => {
      const { approvalId, claimId } = await submitClaim();
      const page = await newPage();
      await signIn(page, env.approver);
      await page.goto(`${env.url}/approvals/${encodeURIComponent(approvalId)}`);
      const lines = page.locator('[data-testid=claim-lines]');
      await lines.waitFor();
      assert.match(await page.locator('h1').innerText(), new RegExp(`^Expense claim ${claimId}$`));
      const rows = lines.locator('tbody tr');
      assert.equal(await rows.count(), 2);
      const first = await rows.nth(0).innerText();
      assert.match(first, /Nov 16, 2026/);
      assert.match(first, /Travel/);
      assert.match(first, /China Railway/);
      assert.match(first, /CN¥553\.00/);
      assert.match(first, /Within policy|Warning|Blocked/);
      const subject = page.locator('section', { has: page.locator('#subject-title') });
      assert.match(await subject.locator('dl.facts').innerText(), /Total\nCN¥595\.50/, 'the claim total');
      assert.match(await subject.innerText(), /The approval chain was chosen by CN¥/, 'the cumulative amount that chose the chain');
      // The receipts inline (a PDF as a link that opens it), and what the review adds for the decision.
      const receipt = page.locator('[data-testid=receipt-1] a');
      await receipt.waitFor();
      const opened = await page.request.get(new URL(await receipt.getAttribute('href'), env.url).href);
      assert.equal(opened.status(), 200, 'the receipt opens for the approver');
      assert.match(opened.headers()['content-type'], /application\/pdf/);
      const review = await page.locator('[data-testid=claim-review]').innerText();
      assert.match(review, /Outstanding cash advances of the claimant: CN¥/, 'the claimant\'s outstanding advances');
      assert.match(review, /receipt/i);
      await assertAccessible(page, 'expense claim');
      await screenshot(page, 'approval-claim-en');
      await page.locator('#lang-select').selectOption('zh-CN');
      const zh = await rows.nth(0).innerText();
      assert.match(zh, /2026年11月16日/);
      assert.match(zh, /差旅/);
      assert.match(zh, /¥553\.00/);
      await screenshot(page, 'approval-claim-zh');
      assertClean(page);
      await page.context().close();
    },
  },
];
