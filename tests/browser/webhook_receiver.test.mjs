// The webhook receiver the outbox tests deliver to (tests/support/webhook_receiver.mjs), proved
// on its own: it must accept exactly what `standardwebhooks` verifies, refuse the rest, keep one
// record per webhook-id, and inject the failures the delivery tests rely on (docs/events.md).
// Calls are signed here with the package's own Webhook.sign, and one by hand with node:crypto,
// so the receiver is checked against the specification and not only against itself.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Webhook } from 'standardwebhooks';

import { startReceiver as startSupportReceiver } from './support/receiver.mjs';

const script = fileURLToPath(new URL('../support/webhook_receiver.mjs', import.meta.url));
const secret = `whsec_${randomBytes(32).toString('base64')}`;
const wh = new Webhook(secret);

// The receiver, started as a test would (support/receiver.mjs), without a WEBHOOK_SECRET in its
// environment: the secret comes from the arguments only.
function startReceiver(args, options = {}) {
  const env = { ...process.env };
  delete env.WEBHOOK_SECRET;
  return startSupportReceiver(script, args, { env, ...options });
}

let receiver;
let base;

before(async () => {
  receiver = startReceiver(['--secret', secret, '--port', '0']);
  base = `http://127.0.0.1:${await receiver.port}`;
});

after(async () => {
  receiver.child.kill('SIGTERM');
  await receiver.exited;
});

beforeEach(async () => {
  const r = await fetch(`${base}/_control/reset`, { method: 'POST', signal: AbortSignal.timeout(5000) });
  assert.equal(r.status, 204);
});

function event(type = 'user.registered', data = { id: '0193-a', email: 'ada@example.com' }) {
  return JSON.stringify({ type, timestamp: new Date().toISOString(), data });
}

function signedHeaders(id, body, { key = wh, at = new Date() } = {}) {
  return {
    'content-type': 'application/json',
    'webhook-id': id,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': key.sign(id, at, body),
  };
}

async function deliver(id, body, options = {}, extraHeaders = {}, path = '/hooks') {
  const r = await fetch(`${base}${path}`, {
    method: 'POST', body, headers: { ...signedHeaders(id, body, options), ...extraHeaders },
    signal: AbortSignal.timeout(10_000),
  });
  await r.arrayBuffer();
  return r.status;
}

async function state() {
  const r = await fetch(`${base}/_control/state`, { signal: AbortSignal.timeout(5000) });
  assert.equal(r.status, 200);
  return r.json();
}

async function setMode(mode) {
  const r = await fetch(`${base}/_control/mode`, {
    method: 'POST', body: JSON.stringify(mode), headers: { 'content-type': 'application/json' },
    signal: AbortSignal.timeout(5000),
  });
  return r.status;
}

test('prints only its port and listens on 127.0.0.1', async () => {
  const port = await receiver.port;
  assert.ok(Number.isInteger(port) && port > 0 && port < 65536, String(port));
  const s = await state();
  assert.deepEqual(s.accepted, []);
  assert.equal(s.attempts, 0);
});

test('a correctly signed call is accepted and recorded with its traceparent', async () => {
  const body = event();
  const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
  assert.equal(await deliver('evt_1', body, {}, { traceparent }), 200);
  assert.equal(await deliver('evt_2', event('user.deleted', { id: '0193-a' }), {}, {}, '/hooks/b'), 200);
  const s = await state();
  assert.equal(s.attempts, 2);
  assert.equal(s.invalid, 0);
  assert.equal(s.accepted.length, 2);
  const [first, second] = s.accepted;
  assert.equal(first.id, 'evt_1');
  assert.equal(first.type, 'user.registered');
  assert.deepEqual(first.data, JSON.parse(body).data);
  assert.equal(first.timestamp, JSON.parse(body).timestamp);
  assert.equal(first.traceparent, traceparent);
  assert.ok(!Number.isNaN(Date.parse(first.received_at)), first.received_at);
  assert.equal(first.path, '/hooks');
  assert.equal(second.id, 'evt_2');
  assert.equal(second.type, 'user.deleted');
  assert.equal(second.traceparent, null);
  assert.equal(second.path, '/hooks/b');
});

test('a call signed by hand per the specification is accepted', async () => {
  const body = event();
  const id = 'msg_by_hand';
  const timestamp = Math.floor(Date.now() / 1000);
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
  const mac = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64');
  const r = await fetch(`${base}/hooks`, {
    method: 'POST', body,
    headers: { 'webhook-id': id, 'webhook-timestamp': String(timestamp), 'webhook-signature': `v1,${mac}` },
    signal: AbortSignal.timeout(10_000),
  });
  assert.equal(r.status, 200);
  assert.deepEqual((await state()).accepted.map((a) => a.id), [id]);
});

test('a wrong signature, secret, body, timestamp or missing header is refused with 401', async () => {
  const body = event();
  const other = new Webhook(`whsec_${randomBytes(32).toString('base64')}`);
  const good = signedHeaders('evt_x', body);
  const attempts = [
    { ...good, 'webhook-signature': 'v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=' },
    signedHeaders('evt_x', body, { key: other }),
    { ...good, 'webhook-id': 'evt_y' },
    signedHeaders('evt_x', body, { at: new Date(Date.now() - 3600_000) }),
    { 'webhook-id': 'evt_x', 'webhook-timestamp': good['webhook-timestamp'] },
  ];
  for (const headers of attempts) {
    const r = await fetch(`${base}/hooks`, {
      method: 'POST', body, headers, signal: AbortSignal.timeout(10_000),
    });
    assert.equal(r.status, 401, JSON.stringify(headers));
  }
  const tampered = await fetch(`${base}/hooks`, {
    method: 'POST', body: body.replace('ada', 'eve'), headers: good, signal: AbortSignal.timeout(10_000),
  });
  assert.equal(tampered.status, 401);
  const s = await state();
  assert.equal(s.invalid, 6);
  assert.equal(s.attempts, 6);
  assert.deepEqual(s.accepted, []);
});

test('a redelivery of an accepted id is counted as a duplicate, not accepted twice', async () => {
  const body = event();
  assert.equal(await deliver('evt_dup', body), 200);
  assert.equal(await deliver('evt_dup', body), 200);
  assert.equal(await deliver('evt_dup', body), 200);
  const s = await state();
  assert.equal(s.accepted.length, 1);
  assert.equal(s.duplicates_by_id, 2);
  assert.equal(s.attempts, 3);
  assert.equal(s.attempts_by_id.evt_dup, 3);
  assert.equal(s.concurrent_same_id, 0);
});

test('fail mode answers 503 to every valid call and counts the attempts', async () => {
  assert.equal(await setMode({ mode: 'fail' }), 204);
  for (let i = 0; i < 3; i++) assert.equal(await deliver('evt_f', event()), 503);
  let s = await state();
  assert.equal(s.attempts, 3);
  assert.equal(s.failed_answers, 3);
  assert.deepEqual(s.accepted, []);
  assert.equal(s.duplicates_by_id, 0);
  // Back to ok: the retry of the same id is a first acceptance, not a duplicate.
  assert.equal(await setMode({ mode: 'ok' }), 204);
  assert.equal(await deliver('evt_f', event()), 200);
  s = await state();
  assert.deepEqual(s.accepted.map((a) => a.id), ['evt_f']);
  assert.equal(s.duplicates_by_id, 0);
  assert.equal(s.attempts_by_id.evt_f, 4);
});

test('fail mode can answer another status, and invalid calls are still 401', async () => {
  assert.equal(await setMode({ mode: 'fail', status: 500 }), 204);
  assert.equal(await deliver('evt_s', event()), 500);
  const r = await fetch(`${base}/hooks`, {
    method: 'POST', body: '{}', headers: { 'webhook-id': 'x' }, signal: AbortSignal.timeout(10_000),
  });
  assert.equal(r.status, 401);
  const s = await state();
  assert.equal(s.failed_answers, 1);
  assert.equal(s.invalid, 1);
});

test('fail_n fails the next n valid calls, then accepts', async () => {
  const mode = await fetch(`${base}/_control/mode?mode=fail_n&n=2`, {
    method: 'POST', signal: AbortSignal.timeout(5000),
  });
  assert.equal(mode.status, 204);
  const body = event();
  assert.equal(await deliver('evt_n', body), 503);
  assert.equal(await deliver('evt_n', body), 503);
  assert.equal(await deliver('evt_n', body), 200);
  assert.equal(await deliver('evt_m', event()), 200);
  const s = await state();
  assert.equal(s.attempts, 4);
  assert.equal(s.failed_answers, 2);
  assert.deepEqual(s.accepted.map((a) => a.id), ['evt_n', 'evt_m']);
});

test('slow mode delays the answer, and a concurrent call of the same id is counted', async () => {
  assert.equal(await setMode({ mode: 'slow', ms: 400 }), 204);
  const body = event();
  const started = Date.now();
  const first = deliver('evt_slow', body);
  await new Promise((resolve) => { setTimeout(resolve, 100); });
  const second = deliver('evt_slow', body);
  assert.deepEqual(await Promise.all([first, second]), [200, 200]);
  assert.ok(Date.now() - started >= 400, 'answered before the delay');
  const s = await state();
  assert.equal(s.concurrent_same_id, 1);
  assert.equal(s.duplicates_by_id, 1);
  assert.equal(s.accepted.length, 1);
  assert.equal(s.in_flight, 0);
});

test('/_control/wait answers once enough calls are accepted, 408 when they are not', async () => {
  const waiting = fetch(`${base}/_control/wait?accepted=2&timeout_ms=5000`, {
    signal: AbortSignal.timeout(10_000),
  });
  assert.equal(await deliver('evt_w1', event()), 200);
  assert.equal(await deliver('evt_w2', event()), 200);
  const r = await waiting;
  assert.equal(r.status, 200);
  assert.equal((await r.json()).accepted.length, 2);
  const late = await fetch(`${base}/_control/wait?accepted=3&timeout_ms=100`, {
    signal: AbortSignal.timeout(10_000),
  });
  assert.equal(late.status, 408);
  assert.equal((await late.json()).accepted.length, 2);
});

test('bad modes are refused, bodies over 1 MiB get 413, a verified non-JSON body 400', async () => {
  assert.equal(await setMode({ mode: 'sometimes' }), 400);
  assert.equal(await setMode({ mode: 'fail_n' }), 400);
  assert.equal(await setMode({ mode: 'slow', ms: -1 }), 400);
  assert.equal(await deliver('evt_big', JSON.stringify({ data: 'x'.repeat(1024 * 1024) })), 413);
  assert.equal(await deliver('evt_text', 'not json'), 400);
  const s = await state();
  assert.equal(s.too_large, 1);
  assert.equal(s.malformed, 1);
  assert.equal(s.attempts, 2);
  assert.deepEqual(s.mode, { mode: 'ok' });
});

test('reset forgets every record and counter and returns to mode ok', async () => {
  assert.equal(await deliver('evt_r', event()), 200);
  await fetch(`${base}/hooks`, { method: 'POST', body: '{}', signal: AbortSignal.timeout(5000) });
  assert.equal(await setMode({ mode: 'fail' }), 204);
  assert.equal(await deliver('evt_r', event()), 503);
  let s = await state();
  assert.equal(s.attempts, 3);
  const r = await fetch(`${base}/_control/reset`, { method: 'POST', signal: AbortSignal.timeout(5000) });
  assert.equal(r.status, 204);
  s = await state();
  assert.deepEqual(s, {
    accepted: [], attempts: 0, attempts_by_id: {}, failed_answers: 0, invalid: 0, malformed: 0,
    too_large: 0, duplicates_by_id: 0, concurrent_same_id: 0, in_flight: 0, mode: { mode: 'ok' },
  });
  // The id accepted before the reset is new again.
  assert.equal(await deliver('evt_r', event()), 200);
  assert.equal((await state()).duplicates_by_id, 0);
});

test('it stops with status 0 on SIGTERM, and when stdin closes if asked to', async () => {
  const a = startReceiver(['--secret', secret, '--port', '0']);
  await a.port;
  a.child.kill('SIGTERM');
  assert.deepEqual(await a.exited, { code: 0, signal: null });
  const b = startReceiver(['--secret', secret, '--exit-on-stdin-close'], { cwd: '/tmp' });
  await b.port;
  b.child.stdin.end();
  assert.deepEqual(await b.exited, { code: 0, signal: null });
});

test('it refuses to start without a usable secret', async () => {
  for (const args of [[], ['--secret', ''], ['--secret', 'whsec_'], ['--port', 'x', '--secret', secret]]) {
    const r = startReceiver(args);
    await assert.rejects(r.port, /exited with 2/);
  }
});
