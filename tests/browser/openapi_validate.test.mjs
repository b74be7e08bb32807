// GET /openapi.json of the real binary (docs/http-api.md, `GET /openapi.json`) passes a standard
// OpenAPI 3.1 validator (@apidevtools/swagger-parser: the OpenAPI 3.1 JSON Schema plus every $ref
// resolved).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import SwaggerParser from '@apidevtools/swagger-parser';

import { startService } from './support/service.mjs';

test('the served OpenAPI document passes swagger-parser validation', async () => {
  const service = await startService();
  try {
    const res = await fetch(`${service.url}/openapi.json`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type'), /^application\/json/);
    const doc = await res.json();
    const api = await SwaggerParser.validate(structuredClone(doc));
    assert.equal(api.openapi, '3.1.0');
    const operations = Object.values(api.paths).flatMap((item) => Object.keys(item));
    console.log(`valid OpenAPI ${api.openapi}: "${api.info.title}" ${api.info.version}, ` +
      `${Object.keys(api.paths).length} paths, ${operations.length} operations, ` +
      `${Object.keys(api.components.schemas).length} schemas`);
    assert.ok(operations.length > 0);
  } finally {
    await service.stop();
  }
});
