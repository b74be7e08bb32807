#!/usr/bin/env node
// A real webhook receiver for the outbox tests (docs/events.md): every call is checked with the
// npm package `standardwebhooks` exactly as a receiver in production would, and what arrived is
// kept for the test to inspect. Node >= 20, standard library plus that one package.
//
// Usage: node webhook_receiver.mjs --secret whsec_... [--port 0] [--exit-on-stdin-close]
//   (the secret may come from WEBHOOK_SECRET instead of --secret)
// Listens on 127.0.0.1 (--port 0: a free port) and prints the port, alone, on the first line of
// stdout, like tests/support/http_receiver.py, so a test reads it the same way. Stops on SIGTERM
// or SIGINT (exit 0); with --exit-on-stdin-close also when stdin ends, so a test process that
// dies without its destructor running does not leave a receiver behind.
//
// POST /hooks (and any path under /hooks/): the body (at most 1 MiB, else 413) is verified with
//   new Webhook(secret).verify(body, headers). A bad or missing signature, or a timestamp outside
//   the library's tolerance, is answered 401 and counted in `invalid`; a verified body that is not
//   JSON is answered 400 and counted in `malformed`. A verified call is answered by the mode:
//     ok          200
//     fail        `status` (default 503) to every verified call
//     fail_n      `status` (default 503) to the next `n` verified calls, then ok
//     slow        waits `ms`, then 200
//   A call answered 200 is accepted: recorded once per webhook-id, in the order of those
//   answers (after the wait in slow mode, as a receiver that processes before answering). A
//   verified call whose id was already accepted (when it is answered) counts in
//   `duplicates_by_id` and is not recorded again. A verified call that arrives while another call
//   of the same id is still being handled (arrived, not yet answered) counts in
//   `concurrent_same_id`.
// GET /_control/state      200, JSON:
//   {"accepted":[{"id","type","data","timestamp","traceparent","received_at",
//                 "webhook_timestamp","path"}...],
//    "attempts": every POST under /hooks, "attempts_by_id": {id: verified calls},
//    "failed_answers": calls answered with an injected failure, "invalid", "malformed",
//    "too_large", "duplicates_by_id", "concurrent_same_id", "in_flight": calls being handled,
//    "mode": {"mode", ...}}
//   (`timestamp` is the body's, `webhook_timestamp` the header's Unix seconds, `received_at` an
//   RFC 3339 time of acceptance; `traceparent` null when absent.)
// GET /_control/wait?accepted=N&timeout_ms=T
//   answers the state as soon as N calls are accepted (200), or after T ms (408, default 10000,
//   at most 60000), so a test waits without polling.
// POST /_control/mode      JSON {"mode":"ok"|"fail"|"fail_n"|"slow", "n":K, "ms":M, "status":S}
//   or the same as a query string (?mode=fail_n&n=2) → 204; 400 when invalid.
// POST /_control/reset     forgets everything and returns to mode ok → 204.
import { STATUS_CODES } from 'node:http';
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';

import { readBody, runReceiver } from './receiver_process.mjs';

// The package is installed by `npm ci` in tests/browser; resolving from there (not from the
// working directory) lets the receiver start from any cwd.
const require = createRequire(new URL('../browser/package.json', import.meta.url));
const { Webhook, WebhookVerificationError } = require('standardwebhooks');

const MAX_BODY = 1024 * 1024;
const MAX_WAIT_MS = 60_000;

function usage(message) {
  process.stderr.write(`webhook_receiver: ${message}\n` +
    'usage: node webhook_receiver.mjs --secret whsec_... [--port 0] [--exit-on-stdin-close]\n');
  process.exit(2);
}

let args;
try {
  args = parseArgs({
    options: {
      secret: { type: 'string' },
      port: { type: 'string', default: '0' },
      'exit-on-stdin-close': { type: 'boolean', default: false },
    },
  }).values;
} catch (e) {
  usage(e.message);
}
const secret = args.secret ?? process.env.WEBHOOK_SECRET;
if (!secret) usage('no secret (--secret or WEBHOOK_SECRET)');
const port = Number(args.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) usage(`bad port ${args.port}`);
let webhook;
try {
  webhook = new Webhook(secret);
} catch (e) {
  usage(`bad secret: ${e.message}`);
}

// ---- state -------------------------------------------------------------------------------

let state;
let mode;
let waiters = [];  // {count, finish} from /_control/wait

function reset() {
  state = {
    accepted: [],
    acceptedIds: new Set(),
    inFlight: new Map(),  // id → calls arrived, not yet answered
    attempts: 0,
    attemptsById: new Map(),
    failedAnswers: 0,
    invalid: 0,
    malformed: 0,
    tooLarge: 0,
    duplicatesById: 0,
    concurrentSameId: 0,
  };
  mode = { mode: 'ok' };
}
reset();

function snapshot() {
  let inFlight = 0;
  for (const n of state.inFlight.values()) inFlight += n;
  return {
    accepted: state.accepted,
    attempts: state.attempts,
    attempts_by_id: Object.fromEntries(state.attemptsById),
    failed_answers: state.failedAnswers,
    invalid: state.invalid,
    malformed: state.malformed,
    too_large: state.tooLarge,
    duplicates_by_id: state.duplicatesById,
    concurrent_same_id: state.concurrentSameId,
    in_flight: inFlight,
    mode,
  };
}

function wakeWaiters() {
  waiters = waiters.filter((w) => {
    if (state.accepted.length < w.count) return true;
    w.finish(200);
    return false;
  });
}

// Validates a mode request; returns the mode or throws with the reason.
function parseMode(input) {
  const name = input.mode;
  const number = (key, min) => {
    const v = Number(input[key]);
    if (input[key] === undefined || input[key] === '' || !Number.isInteger(v) || v < min) {
      throw new Error(`${key} must be an integer >= ${min}`);
    }
    return v;
  };
  const status = () => {
    if (input.status === undefined) return 503;
    const s = number('status', 300);
    if (s > 599) throw new Error('status must be 300..599');
    return s;
  };
  switch (name) {
    case 'ok': return { mode: 'ok' };
    case 'fail': return { mode: 'fail', status: status() };
    case 'fail_n': return { mode: 'fail_n', n: number('n', 0), status: status() };
    case 'slow': return { mode: 'slow', ms: number('ms', 0) };
    default: throw new Error(`unknown mode ${JSON.stringify(name)}`);
  }
}

// ---- HTTP --------------------------------------------------------------------------------

function send(res, status, body, type = 'text/plain') {
  if (res.destroyed || res.writableEnded) return;
  const payload = body === undefined ? '' : (typeof body === 'string' ? body : JSON.stringify(body));
  // A 204 has no body, hence no Content-Length either (RFC 9110, 8.6).
  const headers = status === 204 ? {} : { 'Content-Length': Buffer.byteLength(payload) };
  if (payload) headers['Content-Type'] = typeof body === 'string' ? type : 'application/json';
  res.writeHead(status, headers);
  res.end(payload);
}


const sleep = (ms) => new Promise((resolve) => { setTimeout(resolve, ms); });

// The call is "being handled" from its headers' arrival to its answer, so a second call of the
// same id that arrives while the first one's body is still coming (or, in slow mode, while the
// first one waits) is seen as concurrent.
async function handleHook(req, res, path) {
  const generation = state;  // a reset while this call is handled must not touch the new state
  state.attempts++;
  const headers = {
    'webhook-id': req.headers['webhook-id'],
    'webhook-timestamp': req.headers['webhook-timestamp'],
    'webhook-signature': req.headers['webhook-signature'],
  };
  const id = headers['webhook-id'] ?? '';
  const concurrent = (state.inFlight.get(id) ?? 0) > 0;
  state.inFlight.set(id, (state.inFlight.get(id) ?? 0) + 1);
  const done = () => {
    const left = generation.inFlight.get(id) - 1;
    if (left > 0) generation.inFlight.set(id, left); else generation.inFlight.delete(id);
  };
  try {
    const status = await answerHook(req, path, headers, concurrent, generation);
    done();
    // Only now, so a waiter's state never shows the call that woke it as still in flight.
    if (status === 200 && generation === state) wakeWaiters();
    send(res, status, STATUS_CODES[status] ?? String(status));
  } catch (e) {
    done();
    throw e;
  }
}

// The status for one call under /hooks, recording what it did (the answer is sent by the caller
// after the call stops counting as being handled).
async function answerHook(req, path, headers, concurrent, generation) {
  const body = await readBody(req, MAX_BODY);
  if (generation !== state) return 200;
  if (body === null) {
    state.tooLarge++;
    return 413;
  }
  try {
    webhook.verify(body, headers, { jsonParse: false });
  } catch (e) {
    if (!(e instanceof WebhookVerificationError)) throw e;
    state.invalid++;
    return 401;
  }
  let event;
  try {
    event = JSON.parse(body.toString('utf8'));
  } catch {
    state.malformed++;
    return 400;
  }

  const id = headers['webhook-id'];
  state.attemptsById.set(id, (state.attemptsById.get(id) ?? 0) + 1);
  if (concurrent) state.concurrentSameId++;

  let status = 200;
  if (mode.mode === 'fail') {
    status = mode.status;
  } else if (mode.mode === 'fail_n' && mode.n > 0) {
    status = mode.status;
    mode.n--;
  } else if (mode.mode === 'slow') {
    await sleep(mode.ms);
  }
  if (generation !== state) return status;

  const duplicate = state.acceptedIds.has(id);
  if (duplicate) state.duplicatesById++;
  if (status !== 200) {
    state.failedAnswers++;
  } else if (!duplicate) {
    state.acceptedIds.add(id);
    state.accepted.push({
      id,
      type: event?.type ?? null,
      data: event?.data ?? null,
      timestamp: event?.timestamp ?? null,
      traceparent: req.headers.traceparent ?? null,
      received_at: new Date().toISOString(),
      webhook_timestamp: Number(headers['webhook-timestamp']),
      path,
    });
  }
  return status;
}

async function handleMode(req, res, url) {
  const body = await readBody(req, MAX_BODY);
  let input = Object.fromEntries(url.searchParams);
  if (body !== null && body.length > 0) {
    try {
      input = { ...input, ...JSON.parse(body.toString('utf8')) };
    } catch {
      send(res, 400, 'body is not JSON');
      return;
    }
  }
  try {
    mode = parseMode(input);
  } catch (e) {
    send(res, 400, e.message);
    return;
  }
  send(res, 204);
}

function handleWait(req, res, url) {
  const count = Number(url.searchParams.get('accepted') ?? 1);
  const timeout = Math.min(Number(url.searchParams.get('timeout_ms') ?? 10_000), MAX_WAIT_MS);
  if (!Number.isInteger(count) || count < 0 || !(timeout >= 0)) {
    send(res, 400, 'accepted and timeout_ms must be numbers >= 0');
    return;
  }
  if (state.accepted.length >= count) {
    send(res, 200, snapshot());
    return;
  }
  const waiter = { count };
  const timer = setTimeout(() => {
    waiters = waiters.filter((w) => w !== waiter);
    send(res, 408, snapshot());
  }, timeout);
  waiter.finish = (status) => {
    clearTimeout(timer);
    send(res, status, snapshot());
  };
  waiters.push(waiter);
  res.on('close', () => {
    clearTimeout(timer);
    waiters = waiters.filter((w) => w !== waiter);
  });
}

async function route(req, res) {
  const url = new URL(req.url, 'http://127.0.0.1');
  const path = url.pathname;
  if (path === '/hooks' || path.startsWith('/hooks/')) {
    if (req.method !== 'POST') return send(res, 405, 'POST only');
    return handleHook(req, res, path);
  }
  if (path === '/_control/state' && req.method === 'GET') return send(res, 200, snapshot());
  if (path === '/_control/wait' && req.method === 'GET') return handleWait(req, res, url);
  if (path === '/_control/mode' && req.method === 'POST') return handleMode(req, res, url);
  if (path === '/_control/reset' && req.method === 'POST') {
    await readBody(req, MAX_BODY);
    for (const w of waiters) w.finish(408);
    waiters = [];
    reset();
    return send(res, 204);
  }
  req.resume();
  return send(res, 404, 'not found');
}

runReceiver({ name: 'webhook_receiver', port, exitOnStdinClose: args['exit-on-stdin-close'], route });
