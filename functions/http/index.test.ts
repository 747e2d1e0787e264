import type { APIGatewayProxyEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { jsonResponse, toHttpRequest, toProxyResult } from './index';
import { withRouteTemplate } from './route-template';

const event = (overrides: Partial<APIGatewayProxyEvent> = {}): APIGatewayProxyEvent =>
  ({
    resource: '/STU3/Patient/{id}',
    path: '/STU3/Patient/1',
    httpMethod: 'GET',
    headers: { Accept: 'application/fhir+json', 'X-Forwarded-Proto': 'https' },
    multiValueHeaders: { Accept: ['application/fhir+json'], 'X-Forwarded-Proto': ['https'], 'X-Two': ['a', 'b'] },
    queryStringParameters: { name: 'b' },
    multiValueQueryStringParameters: { name: ['a', 'b'] },
    pathParameters: { id: '1' },
    stageVariables: null,
    body: null,
    isBase64Encoded: false,
    requestContext: { requestId: 'r1', domainName: 'abc.execute-api.eu-west-2.amazonaws.com', stage: 'prod', authorizer: { clientId: 'c', nested: { x: 1 } }, identity: { sourceIp: '192.0.2.1' } },
    ...overrides,
  }) as unknown as APIGatewayProxyEvent;

describe('the API Gateway edge', () => {
  it('turns a REST proxy event into a plain request: lower-case headers, every query value, the base URL with the stage', () => {
    expect(toHttpRequest(event())).toEqual({
      method: 'GET',
      route: '/STU3/Patient/{id}',
      path: '/STU3/Patient/1',
      pathParameters: { id: '1' },
      query: { name: ['a', 'b'] },
      headers: { accept: 'application/fhir+json', 'x-forwarded-proto': 'https', 'x-two': 'a, b' },
      body: undefined,
      requestId: 'r1',
      baseUrl: 'https://abc.execute-api.eu-west-2.amazonaws.com/prod',
      authorizer: { clientId: 'c' },
      sourceIp: '192.0.2.1',
    });
  });

  it('resolves API Gateway\'s {type} resource to the route table\'s template, without the literal parameters (route-template.ts)', () => {
    const compartment = withRouteTemplate(toHttpRequest(event({ resource: '/STU3/{type}/{id}/{compartment}', path: '/STU3/Patient/1/Condition', pathParameters: { type: 'Patient', id: '1', compartment: 'Condition' } })));
    expect(compartment).toMatchObject({ route: '/STU3/Patient/{id}/Condition', pathParameters: { id: '1' } });
    const unknown = withRouteTemplate(toHttpRequest(event({ resource: '/STU3/{type}/{id}', path: '/STU3/Nothing/1', pathParameters: { type: 'Nothing', id: '1' } })));
    expect(unknown).toMatchObject({ route: '/STU3/{type}/{id}', pathParameters: { type: 'Nothing', id: '1' } });
  });

  it('decodes a base64 body and names a custom domain without the stage', () => {
    const req = toHttpRequest(event({ body: Buffer.from('{"a":1}').toString('base64'), isBase64Encoded: true, requestContext: { requestId: 'r', domainName: 'fhir.example.nhs.uk', stage: 'prod' } as never }));
    expect(req.body).toBe('{"a":1}');
    expect(req.baseUrl).toBe('https://fhir.example.nhs.uk');
  });

  it('adds the CORS headers only for an allowed origin, and never echoes another', () => {
    const allowed = new Set(['https://app.example.org']);
    const response = jsonResponse(200, { ok: true });
    const fromApp = toProxyResult(response, { headers: { origin: 'https://app.example.org' } }, allowed);
    expect(fromApp.headers).toMatchObject({ 'Access-Control-Allow-Origin': 'https://app.example.org', Vary: 'Origin' });
    expect(String(fromApp.headers!['Access-Control-Expose-Headers'])).toContain('ETag');
    const fromElsewhere = toProxyResult(response, { headers: { origin: 'https://evil.example' } }, allowed);
    expect(fromElsewhere.headers).not.toHaveProperty('Access-Control-Allow-Origin');
    expect(toProxyResult(response, { headers: {} }, allowed).headers).not.toHaveProperty('Access-Control-Allow-Origin');
    // A shared cache must not serve one origin's answer to another: Vary on every response once origins are set.
    expect(fromElsewhere.headers).toMatchObject({ Vary: 'Origin' });
    expect(toProxyResult(response, { headers: {} }, allowed).headers).toMatchObject({ Vary: 'Origin' });
    expect(toProxyResult(response, { headers: { origin: 'https://evil.example' } }, new Set()).headers).not.toHaveProperty('Vary');
  });
});

describe('the base URL the client called', () => {
  const at = (domainName: string, proto: string, stage = 'prod') =>
    toHttpRequest(
      event({
        headers: { 'X-Forwarded-Proto': proto },
        multiValueHeaders: { 'X-Forwarded-Proto': [proto] },
        requestContext: { requestId: 'r', domainName, stage } as never,
      }),
    ).baseUrl;

  it.each([
    ['API Gateway, execute-api host', 'abc123.execute-api.eu-west-2.amazonaws.com', 'https', 'https://abc123.execute-api.eu-west-2.amazonaws.com/prod'],
    ['API Gateway in aws-cn', 'abc123.execute-api.cn-north-1.amazonaws.com.cn', 'https', 'https://abc123.execute-api.cn-north-1.amazonaws.com.cn/prod'],
    ['a custom domain (no stage in the URL)', 'fhir.example.nhs.uk', 'https', 'https://fhir.example.nhs.uk'],
    ['LocalStack, host-based URL', 'abc123.execute-api.localhost.localstack.cloud:4566', 'http', 'http://abc123.execute-api.localhost.localstack.cloud:4566/prod'],
    ['sam local start-api (serves at the root)', '127.0.0.1:3000', 'http', 'http://127.0.0.1:3000'],
    ['a look-alike host is not an execute-api host', 'abc.execute-api.eu-west-2.amazonaws.com.evil.example', 'https', 'https://abc.execute-api.eu-west-2.amazonaws.com.evil.example'],
  ])('%s', (_name, domain, proto, expected) => {
    expect(at(domain, proto)).toBe(expected);
  });
});
