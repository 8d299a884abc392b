// The API client against a stubbed fetch: the CSRF header, 401 handling, the error shape, exact big integers.
import { test, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { request, get, post, del, setCsrfToken, onUnauthenticated, parseJson, ApiError } from '../src/api.js';
import { describeError } from '../src/errors.js';
import { setLocale } from '../src/i18n.js';

let calls;
let answers;
const json = (status, body, headers = {}) => new Response(body === undefined ? null : JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json', ...headers } });

beforeEach(() => {
  calls = [];
  answers = [];
  globalThis.fetch = async (path, init) => {
    calls.push({ path, init });
    const next = answers.shift();
    if (!next) throw new TypeError('no answer');
    return next();
  };
  setCsrfToken('tok-1');
  onUnauthenticated(() => {});
  setLocale('en');
});

test('state-changing requests carry X-CSRF-Token; reads do not need it', async () => {
  answers.push(() => json(200, { items: [] }), () => json(201, { id: 'd1' }), () => new Response(null, { status: 204 }));
  await get('/api/v1/approvals');
  await post('/api/v1/delegations', { delegate_id: 'u2' });
  assert.equal(await del('/api/v1/delegations/d1'), null);
  assert.equal(calls[0].init.headers['X-CSRF-Token'], undefined);
  assert.equal(calls[1].init.headers['X-CSRF-Token'], 'tok-1');
  assert.equal(calls[1].init.headers['Content-Type'], 'application/json');
  assert.equal(calls[1].init.body, '{"delegate_id":"u2"}');
  assert.equal(calls[2].init.headers['X-CSRF-Token'], 'tok-1');
  assert.equal(calls[1].init.credentials, 'same-origin');
});

test('a 401 ends the session in the UI, unless the caller expects it', async () => {
  let ended = 0;
  onUnauthenticated(() => ended++);
  answers.push(() => json(401, { error: { code: 'unauthenticated', message: 'session expired', field: null } }));
  await assert.rejects(get('/api/v1/approvals'), (e) => e instanceof ApiError && e.status === 401 && e.code === 'unauthenticated');
  assert.equal(ended, 1);
  answers.push(() => json(401, { error: { code: 'unauthenticated', message: 'wrong login or password', field: null } }));
  await assert.rejects(post('/api/v1/auth/session', { login: 'a', password: 'b' }, { expect401: true }));
  assert.equal(ended, 1, 'a wrong password at sign-in is not a session ending');
});

test('the error shape becomes code, field, message and Retry-After', async () => {
  answers.push(() => json(429, { error: { code: 'too_many_requests', message: 'too many failed logins', field: null } }, { 'Retry-After': '600' }));
  const err = await request('POST', '/api/v1/auth/session', {}, { expect401: true }).catch((e) => e);
  assert.equal(err.status, 429);
  assert.equal(err.retryAfter, 600);
  const d = describeError(err, 'signin');
  assert.equal(d.message, 'Too many failed sign-ins. Wait a while, then try again. You can try again in about 10 min.');
  assert.equal(d.detail, 'too many failed logins');
  setLocale('zh-CN');
  assert.equal(describeError(err, 'signin').message, '登录失败次数过多，请稍后再试。约 10 分钟后可以重试。');
});

test('a field at fault is named by its translated label', async () => {
  answers.push(() => json(422, { error: { code: 'unprocessable', message: 'valid_until is more than 180 days after valid_from', field: 'valid_until' } }));
  const err = await post('/api/v1/delegations', {}).catch((e) => e);
  setLocale('zh-CN');
  const d = describeError(err);
  assert.equal(d.message, '部分输入无法接受。');
  assert.equal(d.field, '截止时间');
  assert.equal(d.detail, 'valid_until is more than 180 days after valid_from');
  assert.equal(describeError(new ApiError(401, 'unauthenticated', 'wrong login or password', 'Authorization'), 'signin').field, null,
    'a refused sign-in names no field to the user');
  const unknownField = describeError(new ApiError(400, 'bad_request', 'x', 'lines[3].amount'));
  assert.equal(unknownField.field, 'lines[3].amount', 'an unknown field is shown as the server names it');
});

test('a body that is not the error shape, and an unreachable server, still read well', async () => {
  answers.push(() => new Response('<html>bad gateway</html>', { status: 502 }));
  const err = await get('/api/v1/approvals').catch((e) => e);
  assert.equal(err.code, 'internal');
  answers.push(() => { throw new TypeError('Failed to fetch'); });
  const net = await get('/api/v1/approvals').catch((e) => e);
  assert.equal(net.status, 0);
  assert.equal(describeError(net).message, 'Annex could not be reached. Check your connection and try again.');
  assert.equal(describeError(new ApiError(418, 'teapot', '')).message, 'The request failed (status 418).');
});

test('a stale CSRF token is renewed once from /auth/me and the request sent again', async () => {
  answers.push(
    () => json(403, { error: { code: 'permission_denied', message: 'CSRF token missing or wrong', field: 'X-CSRF-Token' } }),
    () => json(200, { id: 'u1', csrf_token: 'tok-2' }),
    () => json(201, { id: 'd9' }),
  );
  const res = await post('/api/v1/delegations', { delegate_id: 'u2' });
  assert.deepEqual(res, { id: 'd9' });
  assert.equal(calls[2].init.headers['X-CSRF-Token'], 'tok-2');
});

test('whole numbers past 2^53 stay exact where the JSON reviver sees the source', () => {
  const v = parseJson('{"amount": 9223372036854775807, "small": 12, "f": 1.5}');
  assert.equal(v.small, 12);
  assert.equal(v.f, 1.5);
  // Node 21+ and current browsers pass the source text to the reviver; older runtimes keep a number
  if (typeof v.amount === 'bigint') assert.equal(v.amount, 9223372036854775807n);
  else assert.equal(typeof v.amount, 'number');
});
