// Delegations: give one, see it on both sides, revoke it.
import assert from 'node:assert/strict';
import { env, newPage, signIn, apiSession, assertClean, assertAccessible, screenshot } from './lib.mjs';

export const tests = [
  {
    order: 40,
    name: 'the approver delegates to the submitter, who sees it; the approver revokes it',
    fn: async () => {
      const rep = await apiSession(env.submitter);
      const page = await newPage();
      await signIn(page, env.approver);
      await page.locator('nav.mainnav a[href="/delegations"]').click();
      const form = page.locator('[data-testid=delegation-form]');
      await form.waitFor();
      await assertAccessible(page, 'delegations');
      const delegate = page.locator('#delegate');
      if ((await delegate.evaluate((el) => el.tagName)) === 'SELECT') await delegate.selectOption(rep.user.id);
      else await delegate.fill(rep.user.id);
      // nothing chosen yet: the form says so, from the catalog
      await form.locator('button[type=submit]').click();
      assert.equal(await page.locator('#chains-problem').innerText(), 'Choose at least one approval chain.');
      await page.locator('#chain-all').check();
      await form.locator('button[type=submit]').click();
      await page.locator('.alert-ok', { hasText: 'Delegation to' }).waitFor();
      const given = page.locator('[data-testid=delegations-given]');
      await given.waitFor();
      const row = given.locator('tbody tr', { has: page.locator('.badge-delegation_active') }).first();
      assert.match(await row.innerText(), /All chains/);
      await screenshot(page, 'delegations');

      const repPage = await newPage();
      await signIn(repPage, env.submitter);
      await repPage.goto(`${env.url}/delegations`);
      await repPage.locator('[data-testid=delegations-received] tbody tr').first().waitFor();
      assert.match(await repPage.locator('[data-testid=delegations-received]').innerText(), /In force/);
      await repPage.context().close();

      const before = await given.locator('.badge-delegation_active').count();
      await row.locator('button', { hasText: 'Revoke' }).click();
      await page.locator('.alert-ok', { hasText: 'revoked' }).waitFor();
      await page.waitForFunction((n) => document.querySelectorAll('[data-testid=delegations-given] .badge-delegation_active').length === n - 1, before);
      assertClean(page);
      await page.context().close();
    },
  },
];
