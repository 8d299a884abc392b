// A receipt's upload: a form with the file, the CSRF header, no JSON Content-Type (the browser sets the boundary),
// and the server's refusal as an ApiError naming its field; If-Match from a record's version.
import { test, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { upload, ifMatch, setCsrfToken, onUnauthenticated, ApiError } from '../src/api.js';

let calls;
let answer;
beforeEach(() => {
  calls = [];
  globalThis.fetch = async (path, init) => {
    calls.push({ path, init });
    return answer();
  };
  setCsrfToken('tok-9');
  onUnauthenticated(() => {});
});

test('a file goes as a form part, with the CSRF token', async () => {
  answer = () => new Response(JSON.stringify({ id: 'ec_1', version: 4 }), { status: 200 });
  const file = new Blob([new Uint8Array([0x89, 0x50, 0x4e, 0x47])], { type: 'image/png' });
  const saved = await upload('/api/v1/expenses/claims/ec_1/lines/1/receipt', file, { field: 'receipt' });
  assert.deepEqual(saved, { id: 'ec_1', version: 4 });
  const { init } = calls[0];
  assert.equal(init.method, 'POST');
  assert.equal(init.headers['X-CSRF-Token'], 'tok-9');
  assert.equal(init.headers['Content-Type'], undefined, 'the browser writes the multipart boundary');
  assert.ok(init.body instanceof FormData);
  const part = init.body.get('receipt');
  assert.equal(part.size, 4);
  assert.equal(part.type, 'image/png');
});

test('a refused upload is an ApiError with the field', async () => {
  answer = () => new Response(JSON.stringify({ error: { code: 'unsupported_media_type', message: 'not a receipt', field: 'receipt' } }), { status: 415 });
  await assert.rejects(upload('/api/v1/x', new Blob(['hello'])), (e) => e instanceof ApiError && e.status === 415 && e.field === 'receipt' && e.serverMessage === 'not a receipt');
});

test('If-Match names the version annexd gives as its ETag', () => {
  assert.deepEqual(ifMatch({ version: 3 }), { 'If-Match': '"v3"' });
});
