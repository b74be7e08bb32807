#!/usr/bin/env node
// A test receiver of OpenTelemetry traces over OTLP/HTTP (the tracing of docs/life-of-a-request.md):
// every export is decoded with the OFFICIAL OTLP protobuf definitions, the protobufjs root that
// the npm package `@opentelemetry/otlp-transformer` generates from the opentelemetry-proto files
// and ships (build/src/generated/root.js; 0.216.0 is the last release whose root has the trace
// messages: 0.217.0's lacks them and later releases encode by hand). No schema is written here.
// Node >= 20, standard library plus that package.
//
// Usage: node otlp_receiver.mjs [--port 0] [--exit-on-stdin-close]
// Listens on 127.0.0.1 (--port 0: a free port) and prints the port, alone, on the first line of
// stdout, like tests/support/webhook_receiver.mjs. Stops on SIGTERM or SIGINT (exit 0); with
// --exit-on-stdin-close also when stdin ends, so a test process that dies without its destructor
// running does not leave a receiver behind.
//
// POST /v1/traces, the body at most 8 MiB (also after `Content-Encoding: gzip`), else 413:
//   Content-Type application/json (OTLP/JSON) or application/x-protobuf; any other is 415.
//   The body must decode into an opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest:
//   JSON: JSON.parse; every key must be a field of the official message it stands in (checked
//     recursively, at most one member of a oneof); traceId/spanId/parentSpanId of Span and
//     Span.Link are hex strings (the OTLP/JSON exception to proto3's base64) and are turned into
//     bytes; then ExportTraceServiceRequest.fromObject(), verify(), encode(), decode(), verify(),
//     and every value of the JSON must have come through that round trip unchanged. fromObject
//     alone is lenient (it drops an unknown key, reads kind "SERVER" as unset, "12x" as 12, a
//     hex id as base64), so this comparison is what turns those into errors. Accepted forms:
//       enums                  JSON numbers only (OTLP/JSON: "values of enum fields MUST be
//                              encoded as integer values"), known values only (verify());
//                              a name, even proto3's "SPAN_KIND_SERVER", is an error
//       int64/fixed64          decimal strings ("1765000000000000000"), or JSON integers up to
//                              2^53 (proto3 JSON); a larger JSON number has lost digits: error
//       int32/uint32           JSON numbers that fit
//       double                 JSON numbers, or "NaN", "Infinity", "-Infinity"
//       other bytes            base64 (AnyValue.bytesValue)
//       null                   the field's default, as in proto3 JSON
//     Unlike an OTLP collector (which must ignore unknown fields), an unknown key is an error
//     here: a misspelt field in our exporter must fail the test, not vanish.
//   Protobuf: ExportTraceServiceRequest.decode(), verify(); a field number the schema does not
//     know (skipped by the decoder) is an error for the same reason.
//   Both: trace ids must be 16 bytes and not all zero, span ids 8 bytes and not all zero, a
//   parent span id empty or 8 bytes (opentelemetry-proto trace.proto).
//   Decoded: 200, an empty ExportTraceServiceResponse in the request's encoding, and its spans
//   are kept (at most 100,000; later ones are counted in spans_dropped). Not decoded: 400 with a
//   google.rpc.Status (code 3) in the request's encoding, and an entry in `errors`.
//   Every POST counts in `requests`, whatever its answer.
// POST /_control/mode  JSON {"status": S} (S 200, or 400..599: every export is answered S with a
//   google.rpc.Status and not decoded nor kept, counted in `refused`), optionally "n": K (only
//   the next K exports, then 200 again) and "retry_after": seconds (a Retry-After header) → 204;
//   400 when invalid. The same as a query string works too (?status=503&n=2).
// GET /_control/state  200, JSON:
//   {"requests", "accepted", "refused", "errors": [{"status","content_type","message"}...] (the
//    first 1,000; errors_total counts them all), "spans": [{"traceId","spanId","parentSpanId"
//    (hex, "" when none), "traceState", "flags", "name", "kind" (number), "startTimeUnixNano",
//    "endTimeUnixNano" (decimal strings), "attributes": {key: value}, "events": [{"name",
//    "timeUnixNano", "attributes"}], "links": [{"traceId","spanId","attributes"}], "status":
//    {"code","message"}, "resource": {key: value}, "scope": {"name","version"}, "content_type"}],
//    "spans_dropped", "by_content_type": {type: requests}, "mode": {"status", "n"?, ...}}
//   An attribute value is a string, a boolean, a number (doubleValue; intValue when within
//   ±(2^53 - 1), else its decimal string), an array (arrayValue), an object (kvlistValue),
//   the base64 of bytesValue, or null when the AnyValue is empty.
// POST /_control/reset  forgets everything and returns to status 200 → 204.
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import { gunzip } from 'node:zlib';

import { readBody, runReceiver } from './receiver_process.mjs';

// Installed by `npm ci` in tests/browser; resolved from there so any cwd works.
const require = createRequire(new URL('../browser/package.json', import.meta.url));
const ROOT_MODULE = '@opentelemetry/otlp-transformer/build/src/generated/root.js';
const root = require(ROOT_MODULE);
// The protobufjs runtime that root.js itself uses (the same module instance).
const protobuf = createRequire(require.resolve(ROOT_MODULE))('protobufjs/minimal');

const { ExportTraceServiceRequest, ExportTraceServiceResponse } =
  root.opentelemetry.proto.collector.trace.v1;
const { Span } = root.opentelemetry.proto.trace.v1;
const { Long } = protobuf.util;

const MAX_BODY = 8 * 1024 * 1024;
const MAX_SPANS = 100_000;
const MAX_ERRORS = 1000;
const MAX_MESSAGE = 2000;  // characters of one error message
const MAX_DEPTH = 64;      // of a JSON body (AnyValue nests); deeper is an error, not a stack overflow

// The OTLP/JSON exception: these bytes fields are hex, not base64 (OTLP specification, "JSON
// Protobuf Encoding"). With the byte length each must have when not empty.
const HEX_FIELDS = new Map([
  [Span, { traceId: 16, spanId: 8, parentSpanId: 8 }],
  [Span.Link, { traceId: 16, spanId: 8 }],
]);

function usage(message) {
  process.stderr.write(`otlp_receiver: ${message}\n` +
    'usage: node otlp_receiver.mjs [--port 0] [--exit-on-stdin-close]\n');
  process.exit(2);
}

let args;
try {
  args = parseArgs({
    options: {
      port: { type: 'string', default: '0' },
      'exit-on-stdin-close': { type: 'boolean', default: false },
    },
  }).values;
} catch (e) {
  usage(e.message);
}
const port = Number(args.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) usage(`bad port ${args.port}`);

// ---- the schema, as the generated code shows it -------------------------------------------

const typeName = (Type) => Type.getTypeUrl('').slice(1);  // "opentelemetry.proto.trace.v1.Span"
const isMessageClass = (C) => typeof C === 'function' && typeof C.getTypeUrl === 'function' &&
  typeof C.fromObject === 'function';

// For a generated message class: its fields (name → {repeated, Type: the message class of a
// message field, else null}) and its oneofs (lists of member names). The generated code has no
// reflection, so this asks it: the fields are the prototype's enumerable data properties, a
// message field is one whose fromObject({}) builds a message, a oneof is a prototype accessor
// whose setter (protobufjs util.oneOfSetter) deletes the members other than the one named.
const schemas = new Map();
function schemaOf(Type) {
  let schema = schemas.get(Type);
  if (schema) return schema;
  const proto = Type.prototype;
  const fields = new Map();
  for (const name of Object.keys(proto)) {
    if (typeof proto[name] === 'function') continue;  // toJSON
    const repeated = Array.isArray(proto[name]);
    let Nested = null;
    try {
      const probe = Type.fromObject({ [name]: repeated ? [{}] : {} })[name];
      const one = repeated ? probe?.[0] : probe;
      if (one !== null && typeof one === 'object' && isMessageClass(one.constructor)) {
        Nested = one.constructor;
      }
    } catch {
      // a scalar field that refuses an object: not a message
    }
    fields.set(name, { repeated, Type: Nested });
  }
  const oneofs = [];
  for (const name of Object.getOwnPropertyNames(proto)) {
    const d = Object.getOwnPropertyDescriptor(proto, name);
    if (!d.get || !d.set) continue;
    const probe = Object.create(proto);
    for (const f of fields.keys()) probe[f] = 1;
    d.set.call(probe, '\u0000none');
    const members = [...fields.keys()].filter((f) => !Object.hasOwn(probe, f));
    if (members.length > 0) oneofs.push({ name, members });
  }
  schema = { fields, oneofs };
  schemas.set(Type, schema);
  return schema;
}

// ---- OTLP/JSON → message --------------------------------------------------------------------

class DecodeError extends Error {}
const fail = (path, message) => { throw new DecodeError(`${path || '(body)'}: ${message}`); };
const isPlainObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

// A copy of `json` (an object standing for a `Type`) ready for fromObject: unknown keys and
// several members of a oneof are errors, hex ids become bytes. Values of the wrong shape are
// left for fromObject (which throws "object expected"/"array expected") or the comparison.
function prepare(json, Type, path, depth = 0) {
  if (depth > MAX_DEPTH) fail(path, `nested deeper than ${MAX_DEPTH}`);
  if (!isPlainObject(json)) fail(path, `a JSON object expected for ${typeName(Type)}`);
  const { fields, oneofs } = schemaOf(Type);
  const hex = HEX_FIELDS.get(Type);
  const out = {};
  for (const [key, value] of Object.entries(json)) {
    const at = path ? `${path}.${key}` : key;
    const field = fields.get(key);
    if (!field) fail(at, `not a field of ${typeName(Type)}`);
    if (value === null) continue;  // proto3 JSON: null is the default value
    if (hex && key in hex) {
      if (typeof value !== 'string' || !/^(?:[0-9a-fA-F]{2})*$/.test(value)) {
        fail(at, `a hex string expected (OTLP/JSON ids are hex, not base64), got ${JSON.stringify(value)}`);
      }
      out[key] = Buffer.from(value, 'hex');
    } else if (field.Type && field.repeated && Array.isArray(value)) {
      out[key] = value.map((v, i) => prepare(v, field.Type, `${at}[${i}]`, depth + 1));
    } else if (field.Type && !field.repeated && isPlainObject(value)) {
      out[key] = prepare(value, field.Type, at, depth + 1);
    } else {
      out[key] = value;
    }
  }
  for (const { name, members } of oneofs) {
    const set = members.filter((m) => json[m] !== undefined && json[m] !== null);
    if (set.length > 1) fail(path, `more than one member of oneof ${name}: ${set.join(', ')}`);
  }
  return out;
}

const SPECIAL_DOUBLES = { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity };

// Every value of the JSON (`json`, ids still hex) against what came out of the round trip
// (`message`, a decoded instance of `Type`): the same, or an error naming the first difference.
function compare(json, message, Type, path) {
  const { fields } = schemaOf(Type);
  const hex = HEX_FIELDS.get(Type);
  for (const [key, value] of Object.entries(json)) {
    if (value === null) continue;
    const at = path ? `${path}.${key}` : key;
    const field = fields.get(key);
    const got = message[key];
    if (field.repeated) {
      if (!Array.isArray(value)) fail(at, 'a JSON array expected');
      if (!Array.isArray(got) || got.length !== value.length) fail(at, 'not decodable');
      value.forEach((v, i) => compareValue(v, got[i], field, `${at}[${i}]`, false));
    } else {
      compareValue(value, got, field, at, Boolean(hex && key in hex));
    }
  }
}

function compareValue(value, got, field, at, hexId) {
  const lost = (what) => fail(at, `${what}; got ${JSON.stringify(value)?.slice(0, 200)}`);
  if (got === null || got === undefined) {
    lost('a value the schema does not take (dropped by fromObject: wrong type, or an enum name)');
  }
  if (field.Type) {
    if (!isPlainObject(value)) lost('a JSON object expected');
    compare(value, got, field.Type, at);
  } else if (Long.isLong(got)) {
    if (typeof value === 'string') {
      if (!/^-?[0-9]+$/.test(value) || got.toString() !== value.replace(/^(-?)0+(?=\d)/, '$1')) {
        lost(`a 64-bit integer as a decimal string expected (decoded ${got.toString()})`);
      }
    } else if (typeof value === 'number') {
      if (!Number.isSafeInteger(value)) {
        lost('a 64-bit integer above 2^53 as a JSON number has lost digits; OTLP/JSON uses a decimal string');
      }
      if (got.toString() !== String(value)) lost(`an integer expected (decoded ${got.toString()})`);
    } else {
      lost('a 64-bit integer expected (a decimal string)');
    }
  } else if (got instanceof Uint8Array) {
    const bytes = Buffer.from(got.buffer, got.byteOffset, got.byteLength);
    if (typeof value !== 'string') lost(hexId ? 'a hex string expected' : 'a base64 string expected');
    const want = hexId ? Buffer.from(value, 'hex') : Buffer.from(value, 'base64');
    if (!bytes.equals(want)) lost('bytes changed in the round trip');
  } else if (typeof got === 'number') {
    if (typeof value === 'string' && value in SPECIAL_DOUBLES && Object.is(got, SPECIAL_DOUBLES[value])) {
      return;
    }
    if (typeof value !== 'number') {
      lost('a JSON number expected (enums too: OTLP/JSON encodes them as integers)');
    }
    if (value !== got) lost(`a value the field cannot hold (decoded ${got})`);
  } else if (typeof got === 'string' || typeof got === 'boolean') {
    if (typeof value !== typeof got) lost(`a JSON ${typeof got} expected`);
    if (value !== got) lost('changed in the round trip');
  } else {
    lost('not decodable');
  }
}

function verified(message, what) {
  const problem = ExportTraceServiceRequest.verify(message);
  if (problem) throw new DecodeError(`${what}: ${problem}`);
  return message;
}

function decodeJson(body) {
  let json;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch (e) {
    throw new DecodeError(`not JSON: ${e.message}`);
  }
  const prepared = prepare(json, ExportTraceServiceRequest, '');
  let message;
  try {
    message = ExportTraceServiceRequest.fromObject(prepared);
  } catch (e) {
    throw new DecodeError(`fromObject: ${e.message}`);
  }
  verified(message, 'verify');
  const bytes = ExportTraceServiceRequest.encode(message).finish();
  const decoded = verified(ExportTraceServiceRequest.decode(bytes), 'verify after the round trip');
  compare(json, decoded, ExportTraceServiceRequest, '');
  return decoded;
}

// The generated decoders skip a field number they do not know with Reader#skipType; counting
// those calls (skipType recurses for groups, so only the outermost counts) tells whether the
// body had fields the official schema lacks.
let unknownFields = 0;
let skipping = 0;
const originalSkipType = protobuf.Reader.prototype.skipType;
protobuf.Reader.prototype.skipType = function skipType(wireType) {
  if (skipping === 0) unknownFields++;
  skipping++;
  try {
    return originalSkipType.call(this, wireType);
  } finally {
    skipping--;
  }
};

function decodeProtobuf(body) {
  unknownFields = 0;
  let message;
  try {
    message = ExportTraceServiceRequest.decode(body);
  } catch (e) {
    throw new DecodeError(`decode: ${e.message}`);
  }
  if (unknownFields > 0) {
    throw new DecodeError(`${unknownFields} field(s) whose number ExportTraceServiceRequest ` +
      '(or a message in it) does not define');
  }
  return verified(message, 'verify');
}

// The lengths and non-zero rules of opentelemetry-proto's trace.proto for the ids.
function checkIds(request) {
  const check = (bytes, length, at, optional) => {
    const b = bytes ?? new Uint8Array(0);
    if (optional && b.length === 0) return;
    if (b.length !== length) fail(at, `${length} bytes expected, got ${b.length}`);
    if (b.every((x) => x === 0)) fail(at, 'all zero (an invalid id)');
  };
  request.resourceSpans.forEach((rs, i) => {
    rs.scopeSpans.forEach((ss, j) => {
      ss.spans.forEach((span, k) => {
        const at = `resourceSpans[${i}].scopeSpans[${j}].spans[${k}]`;
        check(span.traceId, 16, `${at}.traceId`, false);
        check(span.spanId, 8, `${at}.spanId`, false);
        check(span.parentSpanId, 8, `${at}.parentSpanId`, true);
        span.links.forEach((link, l) => {
          check(link.traceId, 16, `${at}.links[${l}].traceId`, false);
          check(link.spanId, 8, `${at}.links[${l}].spanId`, false);
        });
      });
    });
  });
}

// ---- decoded → the flat records of /_control/state -----------------------------------------

const hexOf = (bytes) => (bytes
  ? Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex') : '');
const decimal = (v) => (v === null || v === undefined ? '0' : v.toString());

function anyValue(v) {
  if (!v) return null;
  const set = v.value;  // the oneof's member that is set (protobufjs util.oneOfGetter)
  switch (set) {
    case 'stringValue': return v.stringValue;
    case 'boolValue': return v.boolValue;
    case 'doubleValue': return v.doubleValue;
    case 'intValue': {
      const text = v.intValue.toString();
      const n = Number(text);
      return Number.isSafeInteger(n) ? n : text;
    }
    case 'bytesValue': return Buffer.from(v.bytesValue).toString('base64');
    case 'arrayValue': return (v.arrayValue.values ?? []).map(anyValue);
    case 'kvlistValue': return attributes(v.kvlistValue.values);
    default: return null;
  }
}

function attributes(list) {
  const out = {};
  for (const kv of list ?? []) out[kv.key ?? ''] = anyValue(kv.value);
  return out;
}

function flatten(request, contentType) {
  const spans = [];
  for (const rs of request.resourceSpans) {
    const resource = attributes(rs.resource?.attributes);
    for (const ss of rs.scopeSpans) {
      const scope = { name: ss.scope?.name ?? '', version: ss.scope?.version ?? '' };
      for (const s of ss.spans) {
        spans.push({
          traceId: hexOf(s.traceId),
          spanId: hexOf(s.spanId),
          parentSpanId: hexOf(s.parentSpanId),
          traceState: s.traceState ?? '',
          flags: s.flags ?? 0,
          name: s.name ?? '',
          kind: s.kind ?? 0,
          startTimeUnixNano: decimal(s.startTimeUnixNano),
          endTimeUnixNano: decimal(s.endTimeUnixNano),
          attributes: attributes(s.attributes),
          events: s.events.map((e) => ({
            name: e.name ?? '', timeUnixNano: decimal(e.timeUnixNano), attributes: attributes(e.attributes),
          })),
          links: s.links.map((l) => ({
            traceId: hexOf(l.traceId), spanId: hexOf(l.spanId), attributes: attributes(l.attributes),
          })),
          status: { code: s.status?.code ?? 0, message: s.status?.message ?? '' },
          resource,
          scope,
          content_type: contentType,
        });
      }
    }
  }
  return spans;
}

// ---- state -----------------------------------------------------------------------------------

let state;
let mode;

function reset() {
  state = {
    requests: 0,
    accepted: 0,
    refused: 0,
    errors: [],
    errorsTotal: 0,
    spans: [],
    spansDropped: 0,
    byContentType: new Map(),
  };
  mode = { status: 200 };
}
reset();

function snapshot() {
  return {
    requests: state.requests,
    accepted: state.accepted,
    refused: state.refused,
    errors: state.errors,
    errors_total: state.errorsTotal,
    spans: state.spans,
    spans_dropped: state.spansDropped,
    by_content_type: Object.fromEntries(state.byContentType),
    mode,
  };
}

function recordError(generation, status, contentType, message) {
  generation.errorsTotal++;
  if (generation.errors.length < MAX_ERRORS) {
    generation.errors.push({ status, content_type: contentType, message: message.slice(0, MAX_MESSAGE) });
  }
}

function parseMode(input) {
  const integer = (key, min, max) => {
    const v = Number(input[key]);
    if (input[key] === '' || !Number.isInteger(v) || v < min || v > max) {
      throw new Error(`${key} must be an integer ${min}..${max}`);
    }
    return v;
  };
  if (input.status === undefined) throw new Error('status is required');
  const status = integer('status', 200, 599);
  if (status !== 200 && status < 400) throw new Error('status must be 200 or 400..599');
  const out = { status };
  if (input.n !== undefined) out.n = integer('n', 1, 1_000_000);
  if (input.retry_after !== undefined) out.retry_after = integer('retry_after', 0, 3600);
  for (const key of Object.keys(input)) {
    if (!['status', 'n', 'retry_after'].includes(key)) throw new Error(`unknown key ${key}`);
  }
  return out;
}

// ---- HTTP ------------------------------------------------------------------------------------

function send(res, status, body, type, extraHeaders = {}) {
  if (res.destroyed || res.writableEnded) return;
  const payload = body === undefined ? Buffer.alloc(0)
    : Buffer.isBuffer(body) ? body
      : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
  // A 204 has no body, hence no Content-Length either (RFC 9110, 8.6).
  const headers = status === 204 ? {} : { 'Content-Length': payload.length };
  if (payload.length > 0 || (status === 200 && type)) {
    headers['Content-Type'] = type ?? (typeof body === 'string' ? 'text/plain' : 'application/json');
  }
  res.writeHead(status, { ...headers, ...extraHeaders });
  res.end(payload);
}


const gunzipBounded = (body) => new Promise((resolve, reject) => {
  gunzip(body, { maxOutputLength: MAX_BODY }, (e, out) => (e ? reject(e) : resolve(out)));
});

// google.rpc.Status, the body OTLP/HTTP gives a failed export, in the request's encoding. Its
// protobuf form (code = field 1 varint, message = field 2 string) is written here because the
// otlp-transformer root does not include google.rpc; the receiver only answers with it.
function rpcStatus(code, message, protobufBody) {
  if (!protobufBody) return { type: 'application/json', body: { code, message } };
  const text = Buffer.from(message, 'utf8');
  const varint = (n) => {
    const out = [];
    let v = n;
    while (v > 0x7f) { out.push((v & 0x7f) | 0x80); v = Math.floor(v / 128); }
    out.push(v);
    return out;
  };
  const body = Buffer.concat([
    Buffer.from([0x08, ...varint(code), 0x12, ...varint(text.length)]), text,
  ]);
  return { type: 'application/x-protobuf', body };
}

// google.rpc.Code for an HTTP status (the mapping of OTLP/HTTP's gRPC counterpart).
const GRPC_CODE = {
  400: 3, 401: 16, 403: 7, 404: 5, 413: 8, 415: 3, 429: 8, 501: 12, 502: 14, 503: 14, 504: 4,
};

async function handleTraces(req, res) {
  const generation = state;  // a reset while this export is handled must not touch the new state
  state.requests++;
  const contentType = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
  state.byContentType.set(contentType, (state.byContentType.get(contentType) ?? 0) + 1);
  const isProtobuf = contentType === 'application/x-protobuf';
  const answerError = (status, message) => {
    recordError(generation, status, contentType, message);
    const s = rpcStatus(GRPC_CODE[status] ?? 2, message, isProtobuf);
    send(res, status, s.body, s.type);
  };

  let body = await readBody(req, MAX_BODY);
  const m = mode;
  if (m.status !== 200) {
    if (m.n !== undefined && --m.n === 0) mode = { status: 200 };
    generation.refused++;
    const s = rpcStatus(GRPC_CODE[m.status] ?? 2, `refused by the test (status ${m.status})`, isProtobuf);
    const extra = m.retry_after === undefined ? {} : { 'Retry-After': String(m.retry_after) };
    send(res, m.status, s.body, s.type, extra);
    return;
  }
  if (body === null) return answerError(413, `body over ${MAX_BODY} bytes`);
  if (contentType !== 'application/json' && !isProtobuf) {
    return answerError(415, `Content-Type ${JSON.stringify(req.headers['content-type'] ?? '')}: ` +
      'application/json or application/x-protobuf expected');
  }
  const encoding = (req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  if (encoding === 'gzip') {
    try {
      body = await gunzipBounded(body);
    } catch (e) {
      return answerError(e.code === 'ERR_BUFFER_TOO_LARGE' ? 413 : 400, `gzip: ${e.message}`);
    }
  } else if (encoding !== 'identity') {
    return answerError(415, `Content-Encoding ${encoding}: gzip or none expected`);
  }

  let request;
  try {
    request = isProtobuf ? decodeProtobuf(body) : decodeJson(body);
    checkIds(request);
  } catch (e) {
    if (!(e instanceof DecodeError)) throw e;
    return answerError(400, e.message);
  }
  if (generation === state) {
    generation.accepted++;
    for (const span of flatten(request, contentType)) {
      if (generation.spans.length < MAX_SPANS) generation.spans.push(span);
      else generation.spansDropped++;
    }
  }
  const ok = ExportTraceServiceResponse.create();
  if (isProtobuf) {
    send(res, 200, Buffer.from(ExportTraceServiceResponse.encode(ok).finish()), 'application/x-protobuf');
  } else {
    send(res, 200, ExportTraceServiceResponse.toObject(ok), 'application/json');
  }
}

async function handleMode(req, res, url) {
  const body = await readBody(req, MAX_BODY);
  let input = Object.fromEntries(url.searchParams);
  if (body !== null && body.length > 0) {
    try {
      const parsed = JSON.parse(body.toString('utf8'));
      if (!isPlainObject(parsed)) throw new Error('not an object');
      input = { ...input, ...parsed };
    } catch {
      return send(res, 400, 'body is not a JSON object');
    }
  }
  try {
    mode = parseMode(input);
  } catch (e) {
    return send(res, 400, e.message);
  }
  return send(res, 204);
}

async function route(req, res) {
  const url = new URL(req.url, 'http://127.0.0.1');
  const path = url.pathname;
  if (path === '/v1/traces') {
    if (req.method !== 'POST') {
      req.resume();
      return send(res, 405, 'POST only', 'text/plain', { Allow: 'POST' });
    }
    return handleTraces(req, res);
  }
  if (path === '/_control/state' && req.method === 'GET') {
    req.resume();
    return send(res, 200, snapshot());
  }
  if (path === '/_control/mode' && req.method === 'POST') return handleMode(req, res, url);
  if (path === '/_control/reset' && req.method === 'POST') {
    await readBody(req, MAX_BODY);
    reset();
    return send(res, 204);
  }
  req.resume();
  return send(res, 404, 'not found');
}

runReceiver({ name: 'otlp_receiver', port, exitOnStdinClose: args['exit-on-stdin-close'], route });
