/** Test helper: API Gateway REST proxy events (payload v1) as API Gateway sends them to the token and jwks functions. */
import type { APIGatewayProxyEvent } from 'aws-lambda';

export const TEST_DOMAIN = 'abc123.execute-api.eu-west-2.amazonaws.com';
export const TEST_BASE_URL = `https://${TEST_DOMAIN}/prod`;

export function proxyEvent(options: {
  method?: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
  base64?: boolean;
}): APIGatewayProxyEvent {
  const headers = { 'X-Forwarded-Proto': 'https', Host: TEST_DOMAIN, ...options.headers };
  return {
    httpMethod: options.method ?? 'GET',
    resource: options.path,
    path: options.path,
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: null,
    stageVariables: null,
    body: options.body === undefined ? null : options.base64 ? Buffer.from(options.body).toString('base64') : options.body,
    isBase64Encoded: options.base64 ?? false,
    requestContext: {
      accountId: '123456789012',
      apiId: 'abc123',
      authorizer: undefined,
      domainName: TEST_DOMAIN,
      httpMethod: options.method ?? 'GET',
      identity: { sourceIp: '203.0.113.1' } as APIGatewayProxyEvent['requestContext']['identity'],
      path: `/prod${options.path}`,
      protocol: 'HTTP/1.1',
      requestId: 'req-1',
      requestTimeEpoch: 0,
      resourceId: 'r1',
      resourcePath: options.path,
      stage: 'prod',
    },
  };
}

/** A token request event: form body, optional Basic credentials. */
export function tokenEvent(form: Record<string, string>, headers: Record<string, string> = {}): APIGatewayProxyEvent {
  return proxyEvent({
    method: 'POST',
    path: '/oauth2/token',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(form).toString(),
  });
}

export function basicAuth(clientId: string, clientSecret: string): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString('base64')}`;
}
