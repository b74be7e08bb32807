// The interactive docs in a real browser (docs/http-api.md, `GET /docs`): headless Debian Chromium
// driven by playwright-core opens /docs and /redoc of the real binary, with DOCS_ASSETS_URL
// pointing at local copies of swagger-ui-dist and redoc (npm) served from 127.0.0.1. On /docs it
// checks that every documented operation is listed, authorizes through the OAuth2 password form
// with a user registered over HTTP, runs "Try it out" on GET /api/v1/users/me and sees 200 with the
// user's email; a screenshot of that is saved in the build folder. Neither page may trip its
// Content-Security-Policy, except ReDoc's badge image from its vendor's site, which the policy
// rightly keeps out.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

import { registerUser, startService } from './support/service.mjs';
import { startStaticServer } from './support/static_server.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const artifacts = process.env.BROWSER_ARTIFACTS_DIR ?? tmpdir();
const TIMEOUT = 30_000;  // per browser step; the whole test is bounded by ctest's timeout

let assets;
let service;
let profile;
let context;

before(async () => {
  assets = await startStaticServer({
    'swagger-ui-dist@5': path.join(here, 'node_modules/swagger-ui-dist'),
    'redoc@2': path.join(here, 'node_modules/redoc'),
  });
  service = await startService({ DOCS_ASSETS_URL: assets.base });
  profile = mkdtempSync(path.join(tmpdir(), 'docs-chromium-'));
  // A persistent context so Chromium gets the new empty --user-data-dir the machine needs; the
  // other flags keep it off the (closed) network and quiet.
  context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-quic'],
  });
  context.setDefaultTimeout(TIMEOUT);
});

after(async () => {
  await context?.close();
  await service?.stop();
  await assets?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

// A page that records CSP violations and script errors.
async function openPage() {
  const page = await context.newPage();
  const problems = { violations: [], errors: [] };
  await page.exposeBinding('reportViolation', (_source, v) => problems.violations.push(v));
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      window.reportViolation({ directive: e.effectiveDirective, blocked: e.blockedURI });
    });
  });
  page.on('pageerror', (e) => problems.errors.push(e.message));
  return { page, problems };
}

test('Swagger UI: every operation listed, Authorize with the password form, Try it out on /users/me', async () => {
  const email = `browser-${Date.now()}@example.com`;
  const password = 'Browser-test-password-1';
  const user = await registerUser(service, email, 'Browser Tester', password);
  const doc = await (await fetch(`${service.url}/openapi.json`)).json();

  const { page, problems } = await openPage();
  const docsResponse = await page.goto(`${service.url}/docs`);
  assert.equal(docsResponse.status(), 200);
  const csp = docsResponse.headers()['content-security-policy'];
  console.log(`/docs Content-Security-Policy: ${csp}`);

  // Every operation of the document is on the page (Swagger UI ids: operations-<tag>-<id>).
  await page.locator('.opblock').first().waitFor();
  let operations = 0;
  for (const [route, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      const block = page.locator(`#operations-${op.tags[0]}-${op.operationId}`);
      await block.waitFor();
      assert.equal(await block.locator('.opblock-summary-method').innerText(), method.toUpperCase());
      assert.equal(await block.locator('.opblock-summary-path').getAttribute('data-path'), route);
      operations += 1;
    }
  }
  console.log(`step: all ${operations} documented operations are listed`);

  // Authorize: the OAuth2 password flow form posts to the token route.
  await page.locator('.scheme-container button.authorize').click();
  const modal = page.locator('.modal-ux');
  await modal.locator('#oauth_username').fill(email);
  await modal.locator('#oauth_password').fill(password);
  const tokenResponse = page.waitForResponse((r) => r.url().endsWith('/api/v1/auth/token'));
  await modal.locator('.auth-btn-wrapper button.authorize').click();
  assert.equal((await tokenResponse).status(), 200);
  await modal.getByText('Authorized', { exact: true }).waitFor();
  await modal.getByRole('button', { name: 'Remove authorization' }).waitFor();
  await modal.locator('button.btn-done').click();
  console.log('step: authorized through the OAuth2 password form');

  // Try it out → Execute on GET /api/v1/users/me.
  const me = page.locator('#operations-users-read_current_user');
  await me.locator('.opblock-summary').click();
  await me.locator('button.try-out__btn').click();
  const meResponse = page.waitForResponse((r) => r.url().endsWith('/api/v1/users/me'));
  await me.locator('button.execute').click();
  const meStatus = (await meResponse).status();
  assert.equal(meStatus, 200);
  const live = me.locator('.live-responses-table .response');
  await live.locator('.response-col_status').getByText('200').waitFor();
  const body = await live.locator('.response-col_description pre').first().innerText();
  assert.ok(body.includes(email), `response body shows the email: ${body}`);
  assert.ok(body.includes(user.id), `response body shows the id: ${body}`);
  console.log(`step: Try it out on GET /api/v1/users/me → ${meStatus} with ${email}`);

  // From the operation's title bar (with its padlock closed) down to the server's response.
  const top = await me.locator('.opblock-summary').boundingBox();
  const bottom = await me.locator('.live-responses-table').boundingBox();
  const scroll = await page.evaluate(() => ({ x: window.scrollX, y: window.scrollY }));
  const screenshot = path.join(artifacts, 'docs-screenshot.png');
  await page.screenshot({
    path: screenshot,
    fullPage: true,
    clip: { x: 0, y: top.y + scroll.y - 8, width: 1280, height: bottom.y + bottom.height - top.y + 16 },
  });
  console.log(`screenshot: ${screenshot}`);

  assert.deepEqual(problems.violations, [], 'no CSP violation on /docs');
  assert.deepEqual(problems.errors, [], 'no script error on /docs');
  assert.ok(assets.served.some((p) => p.endsWith('/swagger-ui-bundle.js')));
  await page.close();
});

test('ReDoc renders the API title and every operation', async () => {
  const doc = await (await fetch(`${service.url}/openapi.json`)).json();
  const { page, problems } = await openPage();
  const res = await page.goto(`${service.url}/redoc`);
  assert.equal(res.status(), 200);
  await page.locator('h1').getByText(`${doc.info.title} (${doc.info.version})`).waitFor();
  for (const item of Object.values(doc.paths)) {
    for (const op of Object.values(item)) {
      await page.locator('h2').getByText(op.summary, { exact: true }).first().waitFor();
    }
  }
  const screenshot = path.join(artifacts, 'redoc-screenshot.png');
  await page.screenshot({ path: screenshot });
  console.log(`step: ReDoc shows "${doc.info.title} (${doc.info.version})" and every operation`);
  console.log(`screenshot: ${screenshot}`);

  // The only thing the policy may stop is an image from elsewhere (ReDoc's vendor badge).
  console.log(`ReDoc CSP violations (expected: the vendor badge only): ${JSON.stringify(problems.violations)}`);
  const local = [service.url, assets.base];
  for (const v of problems.violations) {
    assert.equal(v.directive, 'img-src', JSON.stringify(v));
    assert.ok(!local.some((origin) => v.blocked.startsWith(origin)), JSON.stringify(v));
  }
  assert.deepEqual(problems.errors, [], 'no script error on /redoc');
  await page.close();
});
