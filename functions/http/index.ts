/**
 * The edge between API Gateway (REST API, proxy integration, payload v1) and the plain request/response values
 * that the domain code works with. Only handlers import this; domain code never sees an API Gateway type.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { listEnv } from '../env';
import { decodeBody } from './body';

export { readBody, type BodyRules } from './body';

/** A request as the domain code sees it: no API Gateway types, header names in lower case. */
export interface HttpRequest {
  method: string;
  /**
   * The route table's template of the request, e.g. `/STU3/Patient/{id}` (contract/routes.ts), resolved from API
   * Gateway's resource (`/STU3/{type}/{id}` with type Patient). A type the route table does not serve there leaves
   * API Gateway's resource, which no route has: the function answers 404.
   */
  route: string;
  /** The concrete path, e.g. `/STU3/Patient/1`. */
  path: string;
  /** The parameters the route template names (`id`, `vid`, ...), as API Gateway extracted them. */
  pathParameters: Record<string, string>;
  /** Every query parameter with all its values, in order. */
  query: Record<string, string[]>;
  /** Header names in lower case; repeated headers joined with ", ". */
  headers: Record<string, string>;
  /** The body as text (decoded from base64 when API Gateway sent it so), or undefined. */
  body: string | undefined;
  requestId: string;
  /** The base URL the client called, e.g. `https://abc.execute-api.eu-west-2.amazonaws.com/prod` or `http://127.0.0.1:3000`. */
  baseUrl: string;
  /** The context the Lambda authorizer returned (string values), on authorized routes. */
  authorizer: Record<string, string> | undefined;
  /** The caller's source IP as API Gateway saw it. */
  sourceIp: string | undefined;
}

export interface HttpResponse {
  statusCode: number;
  headers: Record<string, string>;
  body: string;
}

/** Turns an API Gateway REST proxy event into a plain request. */
export function toHttpRequest(event: APIGatewayProxyEvent): HttpRequest {
  // Null-prototype maps: names such as `__proto__` or `constructor` (legal in headers and query strings) stay data.
  const headers: Record<string, string> = Object.create(null);
  const multi = event.multiValueHeaders ?? {};
  for (const [name, values] of Object.entries(multi)) {
    if (values && values.length > 0) headers[name.toLowerCase()] = values.join(', ');
  }
  for (const [name, value] of Object.entries(event.headers ?? {})) {
    const key = name.toLowerCase();
    if (value !== undefined && headers[key] === undefined) headers[key] = value;
  }
  const query: Record<string, string[]> = Object.create(null);
  for (const [name, values] of Object.entries(event.multiValueQueryStringParameters ?? {})) {
    if (values) query[name] = [...values];
  }
  for (const [name, value] of Object.entries(event.queryStringParameters ?? {})) {
    if (value !== undefined && query[name] === undefined) query[name] = [value];
  }
  const body = decodeBody(event.body, event.isBase64Encoded);
  const ctx = event.requestContext;
  const authorizer: Record<string, string> = Object.create(null);
  for (const [key, value] of Object.entries(ctx?.authorizer ?? {})) {
    if (value !== undefined && value !== null && typeof value !== 'object') authorizer[key] = String(value);
  }
  return {
    method: event.httpMethod,
    route: event.resource,
    path: event.path,
    pathParameters: { ...(event.pathParameters ?? {}) } as Record<string, string>,
    query,
    headers,
    body,
    requestId: ctx?.requestId ?? '',
    baseUrl: baseUrlOf(event, headers),
    authorizer: ctx?.authorizer ? authorizer : undefined,
    sourceIp: ctx?.identity?.sourceIp ?? undefined,
  };
}

/**
 * The base URL the client called: `https://<domainName>` plus the stage on an execute-api host, where the stage is
 * the first path segment (`https://<api>.execute-api.<region>.amazonaws.com/<stage>`, and LocalStack's
 * `http://<api>.execute-api.localhost.localstack.cloud:4566/<stage>`); no stage on a custom domain, on `npm start`
 * or on `sam local start-api`, which serve at the root. The scheme comes from X-Forwarded-Proto, which API Gateway
 * (and the local gateway, and SAM CLI) set themselves.
 *
 * The domain is what the gateway reports. API Gateway only routes a request to this API for one of its own
 * domains, so there it is trustworthy; SAM CLI and LocalStack copy the client's Host header, so there it is not,
 * and nothing that decides access may depend on it: the authorizer never derives the issuer it trusts from a
 * request (functions/authorizer), and a token minted with a Host-derived issuer is refused wherever ISSUER is set
 * (docs/local-emulators.md).
 */
function baseUrlOf(event: APIGatewayProxyEvent, headers: Record<string, string>): string {
  const ctx = event.requestContext;
  const domain = ctx?.domainName ?? 'localhost';
  const protocol = headers['x-forwarded-proto'] === 'http' ? 'http' : 'https';
  const stage = EXECUTE_API_HOST.test(domain) && ctx?.stage ? `/${ctx.stage}` : '';
  return `${protocol}://${domain}${stage}`;
}

/** API Gateway's default endpoint host (aws, aws-cn) and LocalStack's host-based one. */
const EXECUTE_API_HOST = /\.execute-api\.(?:[a-z0-9-]+\.amazonaws\.com(?:\.cn)?|localhost\.localstack\.cloud(?::\d+)?)$/;

let corsAllowedOrigins: ReadonlySet<string> | undefined;

/** The browser origins allowed to call the API (CORS_ALLOWED_ORIGINS, comma-separated; none by default), read once. */
function allowedOriginsFromEnv(): ReadonlySet<string> {
  return (corsAllowedOrigins ??= new Set(listEnv('CORS_ALLOWED_ORIGINS')));
}

/**
 * The API Gateway proxy result of a response to `request`. A request from an allowed browser origin gets the CORS
 * response headers (the preflight OPTIONS is answered by API Gateway itself); no other origin is ever echoed.
 * Whenever origins are configured, every response says `Vary: Origin`, so that a shared cache never hands the
 * answer given to one origin (with or without its CORS headers) to another.
 */
export function toProxyResult(
  response: HttpResponse,
  request: Pick<HttpRequest, 'headers'>,
  allowedOrigins: ReadonlySet<string> = allowedOriginsFromEnv(),
): APIGatewayProxyResult {
  if (allowedOrigins.size === 0) return { statusCode: response.statusCode, headers: response.headers, body: response.body };
  const origin = request.headers.origin;
  const cors: Record<string, string> =
    origin !== undefined && allowedOrigins.has(origin)
      ? { 'Access-Control-Allow-Origin': origin, 'Access-Control-Expose-Headers': 'ETag, Location, Last-Modified, Content-Location' }
      : {};
  return { statusCode: response.statusCode, headers: { ...response.headers, ...cors, Vary: response.headers.Vary ? `${response.headers.Vary}, Origin` : 'Origin' }, body: response.body };
}

/** A JSON response. */
export function jsonResponse(
  statusCode: number,
  body: unknown,
  headers: Record<string, string> = {},
  contentType = 'application/json',
): HttpResponse {
  return {
    statusCode,
    headers: { 'Content-Type': `${contentType}; charset=utf-8`, ...headers },
    body: JSON.stringify(body),
  };
}
