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
];
