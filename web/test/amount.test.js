// Typed amounts become exact minor units, and back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseAmount, amountText } from '../src/amount.js';

test('typed amounts in minor units, exactly', () => {
  assert.equal(parseAmount('595.50', 2), 59550);
  assert.equal(parseAmount('1,234.5', 2), 123450);
  assert.equal(parseAmount(' 0.07 ', 2), 7);
  assert.equal(parseAmount('.5', 2), 50);
  assert.equal(parseAmount('12．30', 2), 1230);
  assert.equal(parseAmount('1200', 0), 1200);
  assert.equal(parseAmount('0.1', 2) + parseAmount('0.2', 2), 30, 'no floating-point drift');
  assert.equal(parseAmount('12.345', 3), 12345);
});

test('what is not an amount is refused', () => {
  for (const bad of ['', '  ', 'abc', '1.2.3', '-5', '1e3', '12.345', '.', '9007199254740993']) {
    assert.equal(parseAmount(bad, 2), null, bad);
  }
  assert.equal(parseAmount('1.5', 0), null);
});

test('minor units back into an input', () => {
  assert.equal(amountText(59550, 2), '595.50');
  assert.equal(amountText(7, 2), '0.07');
  assert.equal(amountText(1200, 0), '1200');
  assert.equal(amountText('123456789012345678', 2), '1234567890123456.78');
});
