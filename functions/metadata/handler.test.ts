import type { APIGatewayProxyEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { proxyEvent } from '../../test/oauth/events';
import { fromXml } from '../fhir-model/xml';
import { createMetadataHandler } from './handler';

const handler = createMetadataHandler();

function get(path: string, headers: Record<string, string> = {}, query: Record<string, string> = {}): Promise<{ statusCode: number; headers?: Record<string, unknown>; body: string }> {
  const event: APIGatewayProxyEvent = proxyEvent({ path, headers });
  if (Object.keys(query).length > 0) {
    event.queryStringParameters = query;
    event.multiValueQueryStringParameters = Object.fromEntries(Object.entries(query).map(([k, v]) => [k, [v]]));
  }
  return handler(event);
}

describe('GET /STU3/metadata in XML', () => {
  it.each([
    ['Accept: application/fhir+xml', { Accept: 'application/fhir+xml' }, {}],
    ['Accept: application/xml', { Accept: 'application/xml' }, {}],
    ['_format=xml', {}, { _format: 'xml' }],
    ['_format=application/fhir+xml', {}, { _format: 'application/fhir+xml' }],
  ])('answers the CapabilityStatement as FHIR XML by %s, the same statement as the JSON one', async (_, headers, query) => {
    const json = await get('/STU3/metadata');
    const xml = await get('/STU3/metadata', headers, query);
    expect(xml.statusCode).toBe(200);
    expect(xml.headers?.['Content-Type']).toBe('application/fhir+xml; charset=utf-8');
    expect(xml.headers?.Vary).toBe('Accept');
    expect(xml.body).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?><CapabilityStatement xmlns="http:\/\/hl7.org\/fhir">/);
    expect(fromXml(xml.body)).toEqual(JSON.parse(json.body));
  });

  it('keeps JSON by default and when Accept ranks JSON first', async () => {
    for (const accept of [undefined, '*/*', 'application/fhir+json, application/fhir+xml;q=0.5']) {
      const res = await get('/STU3/metadata', accept ? { Accept: accept } : {});
      expect(res.headers?.['Content-Type'], accept).toMatch(/^application\/fhir\+json/);
      expect(JSON.parse(res.body).resourceType).toBe('CapabilityStatement');
    }
  });

  it('answers its errors as an XML OperationOutcome when XML is asked for', async () => {
    const res = await get('/STU3/nothing-here', { Accept: 'application/fhir+xml' });
    expect(res.statusCode).toBe(404);
    expect(res.headers?.['Content-Type']).toMatch(/^application\/fhir\+xml/);
    expect(fromXml(res.body)).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'not-found' }] });
  });

  it('answers 406 (in JSON) to a format that is neither JSON nor XML', async () => {
    const res = await get('/STU3/metadata', {}, { _format: 'turtle' });
    expect(res.statusCode).toBe(406);
    expect(JSON.parse(res.body).resourceType).toBe('OperationOutcome');
  });

  it('serves the SMART configuration as JSON whatever is asked (a SMART document, not a FHIR resource)', async () => {
    const res = await get('/STU3/.well-known/smart-configuration', { Accept: 'application/fhir+xml' });
    expect(res.statusCode).toBe(200);
    expect(JSON.parse(res.body).token_endpoint).toMatch(/\/oauth2\/token$/);
  });
});
