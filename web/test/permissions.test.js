import { test } from 'node:test';
import assert from 'node:assert/strict';
import { patternMatches, may, chainsUserDecides } from '../src/permissions.js';

test('patterns match as the server matches them', () => {
  assert.ok(patternMatches('*', 'expenses.claim.read'));
  assert.ok(patternMatches('*.read', 'expenses.claim.read'));
  assert.ok(patternMatches('expenses.*', 'expenses.claim.approve'));
  assert.ok(patternMatches('finance.expenses.pay', 'finance.expenses.pay'));
  assert.ok(!patternMatches('*.read', 'expenses.claim.approve'));
  assert.ok(!patternMatches('expenses.claim', 'expenses.claim.read'));
  assert.ok(!patternMatches('a.b', 'aXb'), 'a dot is a dot, not any character');
});

test('may() reads the user permissions', () => {
  const rep = { permissions: ['*.read', '*.write', '*.submit'] };
  assert.ok(may(rep, 'relationship.statement.read'));
  assert.ok(!may(rep, 'expenses.claim.approve'));
  assert.ok(!may(null, 'x.read'));
  assert.ok(!may({}, 'x.read'));
});

test('chains a user decides', () => {
  const chains = [
    { id: 'expense-claim', steps: [{ name: 'head', permission: 'expenses.claim.approve' }, { name: 'finance', role: 'finance' }] },
    { id: 'cash-advance', steps: [{ name: 'finance', role: 'finance' }] },
  ];
  const head = { roles: [{ role: 'sector-head', sector: 'north' }], permissions: ['*.read', '*.approve'] };
  const fin = { roles: [{ role: 'finance', sector: '*' }], permissions: [] };
  const rep = { roles: [{ role: 'sales-rep', sector: 'north' }], permissions: ['*.read', '*.submit'] };
  assert.deepEqual(chainsUserDecides(head, chains).map((c) => c.id), ['expense-claim']);
  assert.deepEqual(chainsUserDecides(fin, chains).map((c) => c.id), ['expense-claim', 'cash-advance']);
  assert.deepEqual(chainsUserDecides(rep, chains), []);
});
