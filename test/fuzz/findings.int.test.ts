/**
 * Violations the fuzz suite found in code owned by other areas, pinned as plain tests until fixed (see the
 * hardening report): each names the request, what it answered, and what it must answer.
 */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BadRequestError } from '../../functions/fhir/errors';
import { parseSearch } from '../../functions/fhir/search';
import { toHttpRequest } from '../../functions/http';
import { startTestApi, type TestApi } from '../support/local-api';
import { testWriter, tokenFor } from '../support/tokens';
import { isOperationOutcome, send } from './model';

let api: TestApi;
let token: string;

beforeAll(async () => {
  const writer = testWriter('findings-writer');
  api = await startTestApi();
  token = await tokenFor(api, writer);
});

afterAll(async () => {
  await api?.close();
});

const get = (path: string) => send(api.baseUrl, { method: 'GET', path, headers: { Authorization: `Bearer ${token}` }, label: path });

describe('a "%" in an id or version (functions/resource/handler.ts pathPart decodes an already-decoded value)', () => {
  it.each(['/STU3/Patient/%25', '/STU3/Patient/%25E0%25A4%25A', '/STU3/Patient/1/_history/%25', '/STU3/Patient/%25/_history'])(
    'GET %s answers 400 with an OperationOutcome, not 500',
    async (path) => {
      const res = await get(path);
      expect(res.status).toBe(400);
      expect(isOperationOutcome(JSON.parse(res.body))).toBe(true);
    },
  );
});

describe('a query parameter named like an Object.prototype member (local/gateway.ts toEvent)', () => {
  it.each(['constructor', '__proto__', 'toString', 'valueOf', 'hasOwnProperty'])('GET /STU3/Patient?%s=x is not a 5xx', async (name) => {
    const res = await get(`/STU3/Patient?${name}=x`);
    expect(res.status).toBeLessThan(500);
    const body = JSON.parse(res.body) as { resourceType?: string };
    expect(['Bundle', 'OperationOutcome']).toContain(body.resourceType);
  });
});

describe('toHttpRequest (functions/http) on an event as Lambda delivers it (JSON-parsed)', () => {
  it('keeps a query parameter named __proto__ as data, without replacing the prototype of the query object', () => {
    const event = JSON.parse(
      JSON.stringify({
        httpMethod: 'GET',
        resource: '/STU3/Patient',
        path: '/STU3/Patient',
        headers: {},
        multiValueHeaders: {},
        requestContext: { requestId: 'r', domainName: 'x' },
      }).replace('"headers":{}', '"headers":{},"multiValueQueryStringParameters":{"__proto__":["x"]},"queryStringParameters":{"__proto__":"x"}'),
    ) as APIGatewayProxyEvent;
    const req = toHttpRequest(event);
    expect(Array.isArray(Object.getPrototypeOf(req.query))).toBe(false);
    expect(Object.getOwnPropertyDescriptor(req.query, '__proto__')?.value).toEqual(['x']);
  });
});

describe('parseSearch (functions/fhir/search.ts) with a parameter named like an Object.prototype member', () => {
  it.each(['constructor', 'toString', 'hasOwnProperty'])('ignores %s as an unknown parameter, and refuses it with 400 under handling=strict', (name) => {
    const query = JSON.parse(`{"${name}":["x"]}`) as Record<string, string[]>;
    expect(parseSearch('Patient', query).ignored).toEqual([name]);
    expect(() => parseSearch('Patient', query, true)).toThrow(BadRequestError);
  });
});

describe('headers over 16 KB with a large body (seed 685182099: Node’s parser answered 431 by resetting the socket)', () => {
  it('POST with over 16 KB of request line and headers and a 500 KB body reads a 431 OperationOutcome, not a reset', async () => {
    const res = await send(api.baseUrl, {
      method: 'POST',
      path: `/STU3/MedicationRequest/3/$validate?q=${'v'.repeat(6000)}`,
      headers: { Authorization: `Bearer ${'t'.repeat(6478)}`, 'Content-Type': 'application/fhir+json', 'If-None-Exist': 'x'.repeat(5000) },
      body: JSON.stringify({ resourceType: 'MedicationRequest', note: [{ text: 'x'.repeat(500_000) }] }),
      label: 'oversize headers',
    });
    expect(res.status).toBe(431);
    expect(isOperationOutcome(JSON.parse(res.body))).toBe(true);
  });
});
