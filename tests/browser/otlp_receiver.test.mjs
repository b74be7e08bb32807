// The OTLP/HTTP trace receiver the tracing tests export to (tests/support/otlp_receiver.mjs),
// proved on its own: it must take what the official OTLP protobuf definitions (the protobufjs
// root of @opentelemetry/otlp-transformer) decode, refuse the rest with 400 and an error entry,
// and flatten the spans for the tests (tracing: docs/life-of-a-request.md). The JSON requests
// are written by hand after the OTLP specification ("JSON Protobuf Encoding": lowerCamelCase
// keys, hex trace and span ids, enums as integers, 64-bit integers as decimal strings); the
// protobuf ones are made with the same official root's encode(), so the receiver is checked
// against the specification and not only against itself.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

import { startReceiver as startSupportReceiver } from './support/receiver.mjs';

const require = createRequire(import.meta.url);
const root = require('@opentelemetry/otlp-transformer/build/src/generated/root.js');
const { ExportTraceServiceRequest } = root.opentelemetry.proto.collector.trace.v1;
const { Span } = root.opentelemetry.proto.trace.v1;

const script = fileURLToPath(new URL('../support/otlp_receiver.mjs', import.meta.url));

// The receiver, started as a test would (support/receiver.mjs).
function startReceiver(args = [], options = {}) {
  return startSupportReceiver(script, ['--port', '0', ...args], options);
}

let receiver;
let base;

before(async () => {
  receiver = startReceiver();
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

async function post(body, { type = 'application/json', headers = {} } = {}) {
  const r = await fetch(`${base}/v1/traces`, {
    method: 'POST',
    body: typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body),
    headers: { 'content-type': type, ...headers },
    signal: AbortSignal.timeout(10_000),
  });
  return { status: r.status, type: r.headers.get('content-type'), headers: r.headers,
    body: Buffer.from(await r.arrayBuffer()) };
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
  await r.arrayBuffer();
  return r.status;
}

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const OTHER_TRACE = '0af7651916cd43dd8448eb211c80319c';
const SERVER = '00f067aa0ba902b7';
const CHILD = 'b7ad6b7169203331';

// An export as an OTLP/JSON exporter writes it, by hand: a SERVER span and its CLIENT child
// under one resource and scope, and a second resource with one span.
function handWritten() {
  return {
    resourceSpans: [
      {
        resource: {
          attributes: [
            { key: 'service.name', value: { stringValue: 'user-service' } },
            { key: 'service.instance.id', value: { stringValue: 'i-1' } },
          ],
          droppedAttributesCount: 0,
        },
        scopeSpans: [{
          scope: { name: 'kit.trace', version: '1.2.0' },
          spans: [
            {
              traceId: TRACE,
              spanId: SERVER,
              parentSpanId: '',
              traceState: 'vendor=1',
              flags: 257,
              name: 'GET /users/{id}',
              kind: 2,
              startTimeUnixNano: '1765000000000000000',
              endTimeUnixNano: '1765000000123456789',
              attributes: [
                { key: 'http.request.method', value: { stringValue: 'GET' } },
                { key: 'http.response.status_code', value: { intValue: '503' } },
                { key: 'big', value: { intValue: '9007199254740993' } },
                { key: 'small', value: { intValue: 7 } },  // proto3 JSON also takes a number
                { key: 'ratio', value: { doubleValue: 0.25 } },
                { key: 'cached', value: { boolValue: false } },
                { key: 'list', value: { arrayValue: { values: [{ stringValue: 'a' }, { intValue: '2' }] } } },
                { key: 'map', value: { kvlistValue: { values: [{ key: 'k', value: { boolValue: true } }] } } },
                { key: 'raw', value: { bytesValue: Buffer.from('hi').toString('base64') } },
                { key: 'empty', value: {} },
              ],
              events: [{
                timeUnixNano: '1765000000000000500', name: 'exception',
                attributes: [{ key: 'exception.type', value: { stringValue: 'Timeout' } }],
              }],
              links: [{ traceId: OTHER_TRACE, spanId: CHILD, attributes: [] }],
              status: { code: 2, message: 'upstream down' },
            },
            {
              traceId: TRACE.toUpperCase(),  // hex is case-insensitive
              spanId: CHILD,
              parentSpanId: SERVER,
              name: 'SELECT users',
              kind: 3,
              startTimeUnixNano: '1765000000000001000',
              endTimeUnixNano: '1765000000000002000',
              attributes: [{ key: 'db.system.name', value: { stringValue: 'postgresql' } }],
              status: {},
            },
          ],
        }],
      },
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'other' } }] },
        scopeSpans: [{
          scope: { name: 's2' },
          spans: [{
            traceId: OTHER_TRACE, spanId: '1111111111111111', name: 'job', kind: 1,
            startTimeUnixNano: '1', endTimeUnixNano: '2', status: null,
          }],
        }],
      },
    ],
  };
}

test('prints only its port and listens on 127.0.0.1', async () => {
  const port = await receiver.port;
  assert.ok(Number.isInteger(port) && port > 0 && port < 65536, String(port));
  const s = await state();
  assert.deepEqual([s.requests, s.accepted, s.errors, s.spans], [0, 0, [], []]);
  assert.deepEqual(s.mode, { status: 200 });
});

test('a hand-written OTLP/JSON export decodes, and its spans are exposed flat', async () => {
  const r = await post(handWritten(), { type: 'application/json; charset=utf-8' });
  assert.equal(r.status, 200, r.body.toString());
  assert.match(r.type, /^application\/json/);
  assert.deepEqual(JSON.parse(r.body), {});  // an ExportTraceServiceResponse: full success

  const s = await state();
  assert.deepEqual(s.errors, []);
  assert.equal(s.requests, 1);
  assert.equal(s.accepted, 1);
  assert.deepEqual(s.by_content_type, { 'application/json': 1 });
  assert.equal(s.spans.length, 3);
  const [server, child, job] = s.spans;
  assert.deepEqual(server, {
    traceId: TRACE,
    spanId: SERVER,
    parentSpanId: '',
    traceState: 'vendor=1',
    flags: 257,
    name: 'GET /users/{id}',
    kind: 2,
    startTimeUnixNano: '1765000000000000000',
    endTimeUnixNano: '1765000000123456789',
    attributes: {
      'http.request.method': 'GET',
      'http.response.status_code': 503,
      big: '9007199254740993',  // beyond 2^53: kept exact, as its decimal string
      small: 7,
      ratio: 0.25,
      cached: false,
      list: ['a', 2],
      map: { k: true },
      raw: Buffer.from('hi').toString('base64'),
      empty: null,
    },
    events: [{ name: 'exception', timeUnixNano: '1765000000000000500', attributes: { 'exception.type': 'Timeout' } }],
    links: [{ traceId: OTHER_TRACE, spanId: CHILD, attributes: {} }],
    status: { code: 2, message: 'upstream down' },
    resource: { 'service.name': 'user-service', 'service.instance.id': 'i-1' },
    scope: { name: 'kit.trace', version: '1.2.0' },
    content_type: 'application/json',
  });
  assert.equal(child.traceId, TRACE);  // lower case, whatever case it came in
  assert.equal(child.parentSpanId, SERVER);
  assert.equal(child.kind, 3);
  assert.deepEqual(child.status, { code: 0, message: '' });
  assert.deepEqual(child.resource, server.resource);
  assert.deepEqual(job.resource, { 'service.name': 'other' });
  assert.deepEqual(job.scope, { name: 's2', version: '' });
  assert.deepEqual([job.startTimeUnixNano, job.endTimeUnixNano, job.kind], ['1', '2', 1]);
});

test('an empty export decodes and keeps no span', async () => {
  assert.equal((await post({})).status, 200);
  assert.equal((await post({ resourceSpans: [] })).status, 200);
  const s = await state();
  assert.deepEqual([s.requests, s.accepted, s.errors.length, s.spans.length], [2, 2, 0, 0]);
});

// Sends `body` (JSON text or a value) and expects a 400 whose error names `pattern`.
async function refused(body, pattern, options) {
  const r = await post(body, options);
  assert.equal(r.status, 400, `expected 400 for ${String(typeof body === 'string' ? body : JSON.stringify(body)).slice(0, 300)}`);
  const s = await state();
  assert.equal(s.spans.length, 0);
  assert.equal(s.accepted, 0);
  const last = s.errors.at(-1);
  assert.equal(last.status, 400);
  assert.match(last.message, pattern);
  return { r, s };
}

// `edit` changes the first span of a fresh hand-written export.
function withSpan(edit) {
  const body = handWritten();
  edit(body.resourceSpans[0].scopeSpans[0].spans[0], body);
  return body;
}

test('a key the official schema does not know is an error, at any depth', async () => {
  const { r } = await refused(withSpan((s) => { s.nmae = s.name; }),
    /spans\[0\]\.nmae: not a field of opentelemetry\.proto\.trace\.v1\.Span/);
  // The answer is a google.rpc.Status in JSON.
  assert.match(r.type, /^application\/json/);
  const status = JSON.parse(r.body);
  assert.equal(status.code, 3);
  assert.match(status.message, /nmae/);

  await refused(withSpan((s) => { s.attributes[0].value.stringValu = 'GET'; }),
    /attributes\[0\]\.value\.stringValu: not a field of opentelemetry\.proto\.common\.v1\.AnyValue/);
  await refused(withSpan((s, b) => { b.resourceSpans[0].schemaUrl = 'x'; b.extra = 1; }),
    /extra: not a field of opentelemetry\.proto\.collector\.trace\.v1\.ExportTraceServiceRequest/);
  await refused(withSpan((s) => { s.status.detail = 'x'; }), /status\.detail: not a field/);
  // proto3 JSON parsers also take the proto field names; OTLP/JSON uses lowerCamelCase only,
  // and protobufjs's fromObject would drop a snake_case key without a word.
  await refused(withSpan((s) => { s.start_time_unix_nano = s.startTimeUnixNano; }),
    /start_time_unix_nano: not a field/);
  // The oneof's own name is not a field either.
  await refused(withSpan((s) => { s.attributes[0].value = { value: 'GET' }; }), /value\.value: not a field/);
  const s = await state();
  assert.equal(s.requests, 6);
  assert.equal(s.errors.length, 6);
  assert.equal(s.errors_total, 6);
  assert.ok(s.errors.every((e) => e.content_type === 'application/json'));
});

test('enums are integers: a name is an error, even the one proto3 JSON allows', async () => {
  // What protobufjs's generated fromObject does with them: "SERVER" is not a name of
  // Span.SpanKind and is dropped silently (the span would read as UNSPECIFIED), while the proto3
  // JSON name "SPAN_KIND_SERVER" is taken. OTLP/JSON says enum values MUST be integers, so the
  // receiver refuses both: an exporter that writes names is wrong even where a lenient parser
  // would cope.
  assert.equal(Span.fromObject({ kind: 'SERVER' }).kind, null);
  assert.equal(Span.fromObject({ kind: 'SPAN_KIND_SERVER' }).kind, 2);
  await refused(withSpan((s) => { s.kind = 'SERVER'; }), /spans\[0\]\.kind: a value the schema does not take/);
  await refused(withSpan((s) => { s.kind = 'SPAN_KIND_SERVER'; }), /spans\[0\]\.kind: a JSON number expected/);
  await refused(withSpan((s) => { s.status.code = 'STATUS_CODE_ERROR'; }), /status\.code: a JSON number expected/);
  // A number that is no value of the enum: verify() refuses it.
  await refused(withSpan((s) => { s.kind = 9; }), /kind: enum value expected/);
  await refused(withSpan((s) => { s.status.code = 3; }), /code: enum value expected/);
});

test('a value of the wrong type is an error, not coerced', async () => {
  const cases = [
    [(s) => { s.name = 5; }, /spans\[0\]\.name: a JSON string expected/],
    [(s) => { s.name = { a: 1 }; }, /spans\[0\]\.name: a JSON string expected/],
    [(s) => { s.flags = '257'; }, /flags: a JSON number expected/],
    [(s) => { s.flags = 1.5; }, /flags: a value the field cannot hold/],
    [(s) => { s.droppedAttributesCount = -1; }, /droppedAttributesCount: a value the field cannot hold/],
    [(s) => { s.startTimeUnixNano = '12x'; }, /startTimeUnixNano: a 64-bit integer as a decimal string expected/],
    // Long.fromString itself throws here, inside fromObject (its message names no field).
    [(s) => { s.startTimeUnixNano = ''; }, /fromObject: empty string/],
    [(s) => { s.startTimeUnixNano = '18446744073709551616'; }, /startTimeUnixNano: a 64-bit integer/],
    // 1765000000000000000 as a JSON number is already 1765000000000000000 ± 128 when parsed.
    [(s) => { s.startTimeUnixNano = 1765000000000000001; }, /startTimeUnixNano: a 64-bit integer above 2\^53/],
    [(s) => { s.startTimeUnixNano = true; }, /startTimeUnixNano: a 64-bit integer/],
    [(s) => { s.attributes[0].value = { boolValue: 'true' }; }, /value\.boolValue: a JSON boolean expected/],
    [(s) => { s.attributes[0].value = { stringValue: 'a', intValue: '1' }; }, /more than one member of oneof value: stringValue, intValue/],
    [(s) => { s.attributes = {}; }, /attributes: array expected|a JSON array expected/],
    [(s) => { s.status = 'ok'; }, /status: object expected/],
    [(s) => { s.status = []; }, /status: a JSON object expected/],
    [(s) => { s.events = [5]; }, /events\[0\]: a JSON object expected/],
  ];
  for (const [edit, pattern] of cases) await refused(withSpan(edit), pattern);
  const s = await state();
  assert.equal(s.errors.length, cases.length);
});

test('ids are hex in OTLP/JSON, of the right length, and not zero', async () => {
  // What fromObject alone would do with a hex id: read it as base64, 32 hex digits becoming 24
  // wrong bytes, which is why the receiver converts hex itself.
  assert.equal(Span.fromObject({ traceId: TRACE }).traceId.length, 24);
  const base64 = Buffer.from(SERVER, 'hex').toString('base64');
  await refused(withSpan((s) => { s.spanId = base64; }), /spans\[0\]\.spanId: a hex string expected/);
  await refused(withSpan((s) => { s.traceId = `${TRACE}0`; }), /traceId: a hex string expected/);
  await refused(withSpan((s) => { s.traceId = TRACE.slice(2); }), /traceId: 16 bytes expected, got 15/);
  await refused(withSpan((s) => { s.traceId = '0'.repeat(32); }), /traceId: all zero/);
  await refused(withSpan((s) => { s.spanId = ''; }), /spanId: 8 bytes expected, got 0/);
  await refused(withSpan((s) => { delete s.spanId; }), /spanId: 8 bytes expected, got 0/);
  await refused(withSpan((s) => { s.parentSpanId = 'abcd'; }), /parentSpanId: 8 bytes expected, got 2/);
  await refused(withSpan((s) => { s.links[0].spanId = 'zz'.repeat(8); }), /links\[0\]\.spanId: a hex string expected/);
  await refused(withSpan((s) => { s.traceId = 12; }), /traceId: a hex string expected/);
});

test('a body that is not JSON, or not an object, is an error', async () => {
  await refused('{"resourceSpans": [', /not JSON/);
  await refused('[]', /a JSON object expected for opentelemetry\.proto\.collector\.trace\.v1\.ExportTraceServiceRequest/);
  await refused('null', /a JSON object expected/);
});

test('a protobuf export made with the official encode() decodes to the same spans', async () => {
  const json = handWritten();
  // The same export as a message: ids as bytes (protobuf has no hex exception).
  const message = ExportTraceServiceRequest.fromObject(json);
  for (const rs of message.resourceSpans) {
    for (const ss of rs.scopeSpans) {
      ss.spans.forEach((span, i) => {
        const original = json.resourceSpans[message.resourceSpans.indexOf(rs)]
          .scopeSpans[rs.scopeSpans.indexOf(ss)].spans[i];
        span.traceId = Buffer.from(original.traceId, 'hex');
        span.spanId = Buffer.from(original.spanId, 'hex');
        span.parentSpanId = Buffer.from(original.parentSpanId ?? '', 'hex');
        for (const [l, link] of span.links.entries()) {
          link.traceId = Buffer.from(original.links[l].traceId, 'hex');
          link.spanId = Buffer.from(original.links[l].spanId, 'hex');
        }
      });
    }
  }
  assert.equal(ExportTraceServiceRequest.verify(message), null);
  const bytes = ExportTraceServiceRequest.encode(message).finish();

  const r = await post(bytes, { type: 'application/x-protobuf' });
  assert.equal(r.status, 200, r.body.toString());
  assert.equal(r.type, 'application/x-protobuf');
  assert.equal(r.body.length, 0);  // an empty ExportTraceServiceResponse

  // gzip, which OTLP/HTTP exporters may use.
  const z = await post(gzipSync(bytes), { type: 'application/x-protobuf', headers: { 'content-encoding': 'gzip' } });
  assert.equal(z.status, 200, z.body.toString());

  const fromProtobuf = (await state()).spans;
  assert.equal(fromProtobuf.length, 6);
  await fetch(`${base}/_control/reset`, { method: 'POST', signal: AbortSignal.timeout(5000) });
  assert.equal((await post(json)).status, 200);
  const s = await state();
  const strip = (spans) => spans.map(({ content_type: _, ...rest }) => rest);
  assert.deepEqual(strip(fromProtobuf.slice(0, 3)), strip(s.spans));
  assert.deepEqual(strip(fromProtobuf.slice(3)), strip(s.spans));
  assert.ok(fromProtobuf.every((x) => x.content_type === 'application/x-protobuf'));
});

test('a protobuf body with unknown fields, bad ids or broken bytes is an error', async () => {
  const message = ExportTraceServiceRequest.fromObject({
    resourceSpans: [{ scopeSpans: [{ spans: [{
      traceId: Buffer.from(TRACE, 'hex'), spanId: Buffer.from(SERVER, 'hex'), name: 'x', kind: 2,
      startTimeUnixNano: '1', endTimeUnixNano: '2',
    }] }] }],
  });
  const bytes = Buffer.from(ExportTraceServiceRequest.encode(message).finish());
  const protobuf = { type: 'application/x-protobuf' };
  // Field 99, varint 1, appended at the top level: a field the schema does not define.
  const { r } = await refused(Buffer.concat([bytes, Buffer.from([0x98, 0x06, 0x01])]),
    /1 field\(s\) whose number ExportTraceServiceRequest \(or a message in it\) does not define/, protobuf);
  // The answer is a google.rpc.Status in protobuf: code 3 (field 1), then the message (field 2).
  assert.equal(r.type, 'application/x-protobuf');
  assert.deepEqual([...r.body.subarray(0, 3)], [0x08, 0x03, 0x12]);
  await refused(bytes.subarray(0, bytes.length - 3), /decode: /, protobuf);
  await refused(Buffer.from([0x0f, 0xff, 0xff]), /decode: /, protobuf);

  const bad = ExportTraceServiceRequest.fromObject(message.toJSON());
  bad.resourceSpans[0].scopeSpans[0].spans[0].spanId = Buffer.alloc(8);
  await refused(ExportTraceServiceRequest.encode(bad).finish(), /spanId: all zero/, protobuf);
  bad.resourceSpans[0].scopeSpans[0].spans[0].spanId = Buffer.from(SERVER, 'hex');
  bad.resourceSpans[0].scopeSpans[0].spans[0].kind = 9;
  await refused(ExportTraceServiceRequest.encode(bad).finish(), /kind: enum value expected/, protobuf);
});

test('another Content-Type or Content-Encoding is refused with 415, a body over 8 MiB with 413', async () => {
  const text = await post(handWritten(), { type: 'text/plain' });
  assert.equal(text.status, 415);
  const br = await post(JSON.stringify(handWritten()), { headers: { 'content-encoding': 'br' } });
  assert.equal(br.status, 415);
  const big = await post(`{"resourceSpans":[],"x":"${'a'.repeat(8 * 1024 * 1024)}"}`);
  assert.equal(big.status, 413);
  const bomb = await post(gzipSync(Buffer.alloc(9 * 1024 * 1024, 0x20)), { headers: { 'content-encoding': 'gzip' } });
  assert.equal(bomb.status, 413);
  const s = await state();
  assert.equal(s.requests, 4);
  assert.deepEqual(s.errors.map((e) => e.status), [415, 415, 413, 413]);
  assert.equal(s.spans.length, 0);
});

test('mode 503 answers every export with 503, counts it and keeps nothing, until set back', async () => {
  assert.equal(await setMode({ status: 503 }), 204);
  const r = await post(handWritten());
  assert.equal(r.status, 503);
  assert.equal(JSON.parse(r.body).code, 14);  // google.rpc.Status UNAVAILABLE
  assert.equal((await post(Buffer.from([1, 2, 3]), { type: 'application/x-protobuf' })).status, 503);
  let s = await state();
  assert.deepEqual([s.requests, s.refused, s.accepted, s.spans.length, s.errors.length], [2, 2, 0, 0, 0]);
  assert.deepEqual(s.mode, { status: 503 });

  assert.equal(await setMode({ status: 200 }), 204);
  assert.equal((await post(handWritten())).status, 200);
  s = await state();
  assert.deepEqual([s.requests, s.refused, s.accepted, s.spans.length], [3, 2, 1, 3]);
});

test('a failure mode can be limited to the next n exports and carry Retry-After', async () => {
  assert.equal(await setMode({ status: 429, n: 2, retry_after: 1 }), 204);
  const first = await post(handWritten());
  assert.equal(first.status, 429);
  assert.equal(first.headers.get('retry-after'), '1');
  assert.equal((await post(handWritten())).status, 429);
  assert.equal((await post(handWritten())).status, 200);
  const s = await state();
  assert.deepEqual([s.requests, s.refused, s.accepted, s.spans.length], [3, 2, 1, 3]);
  assert.deepEqual(s.mode, { status: 200 });
});

test('an invalid mode is refused and changes nothing', async () => {
  for (const mode of [{}, { status: 302 }, { status: 600 }, { status: 'x' }, { status: 503, n: 0 }, { status: 503, oops: 1 }]) {
    assert.equal(await setMode(mode), 400, JSON.stringify(mode));
  }
  assert.deepEqual((await state()).mode, { status: 200 });
});

test('reset forgets requests, errors, spans and the mode', async () => {
  await post(handWritten());
  await post({ bogus: 1 });
  await setMode({ status: 503 });
  let s = await state();
  assert.deepEqual([s.requests, s.errors.length, s.spans.length], [2, 1, 3]);
  const r = await fetch(`${base}/_control/reset`, { method: 'POST', signal: AbortSignal.timeout(5000) });
  assert.equal(r.status, 204);
  s = await state();
  assert.deepEqual([s.requests, s.accepted, s.refused, s.errors, s.spans, s.mode],
    [0, 0, 0, [], [], { status: 200 }]);
});

test('other paths and methods are refused', async () => {
  const get = await fetch(`${base}/v1/traces`, { signal: AbortSignal.timeout(5000) });
  assert.equal(get.status, 405);
  const other = await fetch(`${base}/v1/metrics`, { method: 'POST', body: '{}', signal: AbortSignal.timeout(5000) });
  assert.equal(other.status, 404);
  assert.equal((await state()).requests, 0);
});

test('stops on SIGTERM, and with --exit-on-stdin-close when stdin ends', async () => {
  const a = startReceiver();
  await a.port;
  a.child.kill('SIGTERM');
  assert.deepEqual(await a.exited, { code: 0, signal: null });
  const b = startReceiver(['--exit-on-stdin-close']);
  await b.port;
  b.child.stdin.end();
  assert.deepEqual(await b.exited, { code: 0, signal: null });
});
