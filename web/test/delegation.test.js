import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mayTakeStep, delegationsFor } from '../src/delegation.js';

const chains = [
  { id: 'cash-advance', steps: [{ name: 'finance', role: 'finance' }] },
  { id: 'expense-claim', steps: [{ name: 'head', permission: 'expenses.claim.approve' }] },
];
const head = { id: 'h', roles: [{ role: 'sector-head', sector: 'north' }], permissions: ['*.read', '*.approve'] };

test('whether the user could take the current step themselves', () => {
  assert.equal(mayTakeStep(head, chains, { chain: 'cash-advance', current_step: 'finance' }), false);
  assert.equal(mayTakeStep(head, chains, { chain: 'expense-claim', current_step: 'head' }), true);
  assert.equal(mayTakeStep(head, chains, { chain: 'unknown', current_step: 'x' }), true, 'unknown chains are the server\'s to judge');
});

test('delegations in force for a chain', () => {
  const hour = 3600000;
  const iso = (ms) => new Date(Date.now() + ms).toISOString();
  const ds = [
    { id: 1, delegator_id: 'f', delegate_id: 'h', chains: ['cash-advance'], valid_from: iso(-hour), valid_until: iso(hour), revoked_at: null },
    { id: 2, delegator_id: 'g', delegate_id: 'h', chains: ['*'], valid_from: iso(-hour), valid_until: iso(hour), revoked_at: null },
    { id: 3, delegator_id: 'k', delegate_id: 'h', chains: ['*'], valid_from: iso(-hour), valid_until: iso(hour), revoked_at: iso(-1) },
    { id: 4, delegator_id: 'm', delegate_id: 'h', chains: ['*'], valid_from: iso(hour), valid_until: iso(2 * hour), revoked_at: null },
    { id: 5, delegator_id: 'n', delegate_id: 'h', chains: ['*'], valid_from: iso(-2 * hour), valid_until: iso(-hour), revoked_at: null },
    { id: 6, delegator_id: 'h', delegate_id: 'f', chains: ['*'], valid_from: iso(-hour), valid_until: iso(hour), revoked_at: null },
  ];
  assert.deepEqual(delegationsFor(ds, 'h', 'cash-advance').map((d) => d.id), [1, 2]);
  assert.deepEqual(delegationsFor(ds, 'h', 'expense-claim').map((d) => d.id), [2]);
});
