// Our webhook signatures (kit/security/webhook_signature) checked by the npm package
// `standardwebhooks`, which receivers use: tests/interop/webhook_sign.cpp signs, the library's
// Webhook.verify accepts, and a changed body, id, timestamp or secret is refused. Also the
// specification's published example, byte for byte.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Webhook, WebhookVerificationError } from 'standardwebhooks';

const tool = process.env.WEBHOOK_SIGN_TOOL;

function sign(secret, id, timestamp, body) {
  const r = spawnSync(tool, [id, String(timestamp)], {
    input: body, encoding: 'utf8', env: { WEBHOOK_SECRET: secret }, timeout: 30_000,
  });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim();
}

function headers(id, timestamp, signature) {
  return { 'webhook-id': id, 'webhook-timestamp': String(timestamp), 'webhook-signature': signature };
}

test('the published example signs to the published signature', () => {
  const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
  const ours = sign(secret, 'msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330, '{"test": 2432232314}');
  assert.equal(ours, 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  const theirs = new Webhook(secret).sign('msg_p5jXN8AQM9LWM0D4loKWxJek',
    new Date(1614265330 * 1000), '{"test": 2432232314}');
  assert.equal(ours, theirs);
});

test('standardwebhooks verifies what we sign, for keys of 24 to 64 bytes and any body', () => {
  const bodies = ['{}', '{"type":"user.registered","data":{"name":"Zoë 🔑"}}',
    JSON.stringify({ data: 'x'.repeat(100_000) }), '[1,2,3]'];
  let checked = 0;
  for (const keyBytes of [24, 32, 64]) {
    const secret = `whsec_${randomBytes(keyBytes).toString('base64')}`;
    const wh = new Webhook(secret);
    for (const body of bodies) {
      const id = `0194e8a2-${checked}`;
      const now = Math.floor(Date.now() / 1000);
      const signature = sign(secret, id, now, body);
      assert.match(signature, /^v1,[A-Za-z0-9+/]{43}=$/);
      assert.deepEqual(wh.verify(body, headers(id, now, signature)), JSON.parse(body));
      checked++;
    }
  }
  assert.equal(checked, 12);
});

test('a changed body, id, timestamp or secret does not verify', () => {
  const secret = `whsec_${randomBytes(32).toString('base64')}`;
  const now = Math.floor(Date.now() / 1000);
  const body = '{"type":"user.deleted","data":{"id":"42"}}';
  const signature = sign(secret, 'evt_1', now, body);
  const wh = new Webhook(secret);
  assert.doesNotThrow(() => wh.verify(body, headers('evt_1', now, signature)));
  const refused = [
    () => wh.verify(body.replace('42', '43'), headers('evt_1', now, signature)),
    () => wh.verify(body, headers('evt_2', now, signature)),
    () => wh.verify(body, headers('evt_1', now + 1, signature)),
    () => new Webhook(`whsec_${randomBytes(32).toString('base64')}`)
      .verify(body, headers('evt_1', now, signature)),
  ];
  for (const attempt of refused) assert.throws(attempt, WebhookVerificationError);
});

test('malformed secrets are refused by the signer', () => {
  for (const bad of ['', 'MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'whsec_', 'whsec_c2hvcnQ=',
    `whsec_${randomBytes(65).toString('base64')}`, 'whsec_not base64!']) {
    const r = spawnSync(tool, ['id', '1'], { input: '{}', env: { WEBHOOK_SECRET: bad } });
    assert.equal(r.status, 2, `accepted ${JSON.stringify(bad)}`);
  }
});
