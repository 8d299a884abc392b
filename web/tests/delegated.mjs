// A delegate decides on the delegator's behalf: the item appears in their inbox, the form offers only the
// delegator (their own roles cannot take the step), and the decision records both people.
import assert from 'node:assert/strict';
import { env, newPage, signIn, apiSession, assertClean, screenshot } from './lib.mjs';

export const tests = [
  {
    order: 45,
    name: 'a delegate approves on behalf of the approver, and the decision says so',
    fn: async () => {
      const approver = await apiSession(env.approver);
      const delegate = await apiSession(env.delegate);
      const rep = await apiSession(env.submitter);
      const until = new Date(Date.now() + 2 * 86400000).toISOString().replace(/\.\d{3}Z$/, 'Z');
      const given = await approver.call('POST', '/api/v1/delegations', { delegate_id: delegate.user.id, chains: ['cash-advance'], valid_until: until });
      assert.equal(given.status, 201, `delegation: ${JSON.stringify(given.body)}`);
      try {
        const adv = await rep.call('POST', '/api/v1/expenses/advances', { amount: { amount: 10000, currency: 'CNY' }, purpose: 'Browser test: delegated decision' });
        assert.equal(adv.status, 201, `advance: ${JSON.stringify(adv.body)}`);
        const approvalId = adv.body.approval_id || (adv.body.approval && adv.body.approval.id);

        const page = await newPage();
        await signIn(page, env.delegate);
        const link = page.locator(`a[href="/approvals/${encodeURIComponent(approvalId)}"]`);
        await link.waitFor();
        const row = page.locator('tr', { has: link });
        await row.locator('text=/as delegate of/').waitFor();
        await link.click();
        await page.locator('[data-testid=decision-form]').waitFor();
        const acting = page.locator('#on-behalf-of');
        await acting.waitFor();
        const options = await acting.locator('option').allInnerTexts();
        // the delegator by name where the delegate may read accounts, else by id
        assert.equal(options.length, 1, 'only the delegator is offered, not "myself"');
        assert.ok(options[0] === `On behalf of ${approver.user.id}` || options[0].startsWith('On behalf of ') && options[0].includes(approver.user.login), options[0]);
        await page.locator('#decision-comment').fill('Decided while finance is away.');
        await page.locator('[data-testid=decision-form] button[type=submit]').click();
        await page.locator('.alert-ok', { hasText: 'You approved this item.' }).waitFor();
        const history = page.locator('section', { has: page.locator('#history-title') });
        await history.locator('td', { hasText: 'Decided while finance is away.' }).waitFor();
        assert.match(await history.innerText(), /on behalf of/);
        await screenshot(page, 'approval-delegated');
        const after = await approver.call('GET', `/api/v1/approvals/${encodeURIComponent(approvalId)}`);
        const d = after.body.decisions[after.body.decisions.length - 1];
        assert.equal(d.decider_id, delegate.user.id);
        assert.equal(d.on_behalf_of, approver.user.id);
        assertClean(page);
        await page.context().close();
      } finally {
        await approver.call('DELETE', `/api/v1/delegations/${encodeURIComponent(given.body.id)}`);
      }
    },
  },
];
