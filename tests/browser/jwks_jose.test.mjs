// Our EdDSA and ES256 tokens verified the way another Node service verifies them
// (docs/signing-keys.md): the npm package `jose` with createRemoteJWKSet against the running
// service and jwtVerify with issuer and audience. Includes a key rotation across two replicas
// that share the key files and a SQLite database: at every step one replica is up and every
// token issued so far keeps working until its key is dropped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { calculateJwkThumbprint, createRemoteJWKSet, decodeProtectedHeader, errors, jwtVerify }
  from 'jose';

import { binaryPath, registerUser, startService } from './support/service.mjs';

const PASSWORD = 'correct-horse-battery';

function generateKey(dir, name, alg) {
  const out = join(dir, name);
  const r = spawnSync(binaryPath(), ['keys', 'generate', '--alg', alg, '--out', out],
    { encoding: 'utf8', env: { PATH: '/usr/bin:/bin' }, timeout: 30_000 });
  assert.equal(r.status, 0, r.stderr);
  return out;
}

async function token(service, email) {
  const res = await fetch(`${service.url}/api/v1/auth/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ username: email, password: PASSWORD }),
  });
  assert.equal(res.status, 200, await res.clone().text());
  return (await res.json()).access_token;
}

async function meStatus(service, accessToken) {
  const res = await fetch(`${service.url}/api/v1/users/me`,
    { headers: { Authorization: `Bearer ${accessToken}` } });
  await res.arrayBuffer();
  return res.status;
}

// What another service does: fetch our JWKS (fresh, no cache from an earlier step) and verify.
async function verifyAt(service, accessToken, alg) {
  const jwks = createRemoteJWKSet(new URL(`${service.url}/.well-known/jwks.json`));
  return jwtVerify(accessToken, jwks,
    { issuer: 'user-service', audience: 'user-service', algorithms: [alg] });
}

async function jwksOf(service) {
  const res = await fetch(`${service.url}/.well-known/jwks.json`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('cache-control'), 'public, max-age=300');
  return (await res.json()).keys;
}

for (const alg of ['EdDSA', 'ES256']) {
  test(`${alg}: jose verifies our tokens from the JWKS, rejects tampered ones, and a ` +
       'rotation across two replicas keeps every token valid until its key is dropped',
  async () => {
    const dir = mkdtempSync(join(tmpdir(), `user-service-jose-${alg}-`));
    const replicas = { a: null, b: null };
    const start = async (name, keys) => {
      if (replicas[name]) await replicas[name].stop();
      replicas[name] = await startService({
        DATABASE_URL: `sqlite:///${join(dir, 'users.db')}`,
        JWT_ALGORITHM: alg,
        JWT_SECRET: '',
        JWT_SIGNING_KEYS: keys.join(','),
      });
      return replicas[name];
    };
    try {
      const oldKey = generateKey(dir, 'old.pem', alg);
      const newKey = generateKey(dir, 'new.pem', alg);

      // 1. Both replicas sign with the old key.
      let a = await start('a', [oldKey]);
      let b = await start('b', [oldKey]);
      const email = `jose-${alg.toLowerCase()}-${process.pid}@example.com`;
      const user = await registerUser(a, email, 'Jose Verifier', PASSWORD);
      const oldToken = await token(b, email);
      const { payload, protectedHeader } = await verifyAt(a, oldToken, alg);
      assert.equal(payload.sub, user.id);
      assert.equal(payload.iss, 'user-service');
      assert.equal(protectedHeader.alg, alg);
      const [oldJwk] = await jwksOf(a);
      assert.equal(protectedHeader.kid, oldJwk.kid);
      assert.equal(await calculateJwkThumbprint(oldJwk, 'sha256'), oldJwk.kid,
        'kid is the RFC 7638 thumbprint as jose computes it');
      assert.equal(oldJwk.d, undefined, 'no private part is published');

      // Tampered: another payload under the same signature, and one flipped signature byte.
      const [h, p, s] = oldToken.split('.');
      const forgedPayload = Buffer.from(JSON.stringify({ ...payload, sub: 'someone-else' }))
        .toString('base64url');
      await assert.rejects(verifyAt(a, `${h}.${forgedPayload}.${s}`, alg),
        errors.JWSSignatureVerificationFailed);
      const sig = Buffer.from(s, 'base64url');
      sig[5] ^= 1;
      await assert.rejects(verifyAt(a, `${h}.${p}.${sig.toString('base64url')}`, alg),
        errors.JWSSignatureVerificationFailed);
      // The wrong issuer or audience expectation is refused too: the checks are real.
      const jwks = createRemoteJWKSet(new URL(`${a.url}/.well-known/jwks.json`));
      await assert.rejects(jwtVerify(oldToken, jwks, { issuer: 'someone-else' }),
        errors.JWTClaimValidationFailed);

      // 2. Publish the new key second, one replica at a time; the other serves meanwhile.
      const stopping = replicas.b.stop();
      assert.equal(await meStatus(a, oldToken), 200);
      await stopping;
      replicas.b = null;
      b = await start('b', [oldKey, newKey]);
      assert.equal((await jwksOf(b)).length, 2);
      assert.equal(await meStatus(b, oldToken), 200);
      a = await start('a', [oldKey, newKey]);
      assert.equal(await meStatus(a, oldToken), 200);

      // 3. Move the new key first: A signs with it, B (new key still second) accepts it.
      a = await start('a', [newKey, oldKey]);
      const newToken = await token(a, email);
      assert.notEqual(decodeProtectedHeader(newToken).kid, protectedHeader.kid);
      assert.equal(await meStatus(b, newToken), 200);
      assert.equal((await verifyAt(b, newToken, alg)).payload.sub, user.id);
      assert.equal((await verifyAt(b, oldToken, alg)).payload.sub, user.id);
      b = await start('b', [newKey, oldKey]);
      assert.equal(await meStatus(b, oldToken), 200);

      // 4. Drop the old key: tokens it signed stop verifying everywhere, new ones keep working.
      a = await start('a', [newKey]);
      assert.equal(await meStatus(a, oldToken), 401);
      assert.equal(await meStatus(b, oldToken), 200, 'B still publishes the old key');
      b = await start('b', [newKey]);
      assert.equal(await meStatus(b, oldToken), 401);
      assert.equal((await jwksOf(b)).length, 1);
      await assert.rejects(verifyAt(b, oldToken, alg), errors.JWKSNoMatchingKey);
      assert.equal((await verifyAt(b, newToken, alg)).payload.sub, user.id);
      assert.equal(await meStatus(a, newToken), 200);
      console.log(`${alg}: jose verified tokens of keys ${protectedHeader.kid} and ` +
        `${decodeProtectedHeader(newToken).kid} through a four-step rotation on two replicas`);
    } finally {
      await Promise.all(Object.values(replicas).filter(Boolean).map((r) => r.stop()));
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
