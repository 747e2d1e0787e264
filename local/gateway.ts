/**
 * The local API Gateway: serves the route table on localhost the way the deployed REST API does. Each HTTP request
 * becomes the same API Gateway REST proxy event (payload v1) the Lambda would get; authorized routes first run the
 * same TOKEN authorizer, whose IAM policy is applied as API Gateway applies it (local/policy.ts) and cached per
 * token for the configured TTL, then reused on every path, exactly the behaviour the authorizer must be safe for.
 * The gateway's own answers (401, 403, unknown route, ...) are the GatewayResponses the stack configures.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type {
  APIGatewayAuthorizerResult,
  APIGatewayProxyEvent,
  APIGatewayProxyResult,
  APIGatewayTokenAuthorizerEvent,
  Context,
} from 'aws-lambda';
import { gatewayResponse } from '../lib/gateway-responses';
import { type FunctionName, type Route } from '../contract/routes';
import { gatewayPath } from '../contract/gateway-paths';
import { evaluatePolicy } from './policy';
import { record } from '../functions/audit';
import { gatewayDenialAudit } from '../functions/audit/gateway';

export type ProxyHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;
export type TokenAuthorizer = (event: APIGatewayTokenAuthorizerEvent, context: Context) => Promise<APIGatewayAuthorizerResult>;

export interface LocalGatewayOptions {
  routes: readonly Route[];
  handlers: Partial<Record<FunctionName, ProxyHandler>>;
  authorizer: TokenAuthorizer;
  /** The authorizer result cache TTL, as configured on the deployed authorizer (0 disables caching). */
  authorizerCacheSeconds: number;
  /**
   * The TOKEN authorizer's identity validation expression, as configured on the deployed authorizer: an
   * Authorization header that does not match is answered 401 without invoking the authorizer. None: no check.
   */
  identityValidationExpression?: string;
  /** host:port the clients call, reported as requestContext.domainName. */
  domainName: string;
  stage?: string;
  region?: string;
  accountId?: string;
  apiId?: string;
  /** API Gateway's own payload limit (10 MB). */
  maxBodyBytes?: number;
  /**
   * How long the gateway waits for a function (and for the authorizer) before it gives up, as API Gateway's
   * integration timeout does (29 s): 504 for a function, 503 AUTHORIZER_FAILURE for the authorizer. No request
   * waits forever on a function that hangs.
   */
  integrationTimeoutMs?: number;
  /** At most this many authorizer results are cached (expired ones first, then the oldest make room). */
  maxCachedAuthorizations?: number;
  /** Called for each request with what a gateway access log records (no headers, no bodies). */
  accessLog?: (entry: { requestId: string; method: string; path: string; status: number; ms: number }) => void;
  now?: () => number;
}

interface CachedAuthorization {
  result: APIGatewayAuthorizerResult;
  expiresAt: number;
}

/** One method of API Gateway's resource tree: the routes of the 14 FHIR types share it (`gatewayPath`). */
type GatewayMethod = Pick<Route, 'method' | 'path' | 'function' | 'auth'> & {
  /** The path's parts after the leading slash, split once: `match` compares them per request. */
  parts: readonly string[];
};

interface Matched {
  /** `path` is API Gateway's resource path (`/STU3/{type}/{id}`), what the event's `resource` says. */
  route: GatewayMethod;
  pathParameters: Record<string, string>;
}

export class LocalGateway {
  private readonly cache = new Map<string, CachedAuthorization>();
  private readonly stage: string;
  private readonly arnPrefix: string;
  private readonly maxBodyBytes: number;
  private readonly integrationTimeoutMs: number;
  private readonly maxCachedAuthorizations: number;
  private readonly now: () => number;
  private readonly identityValidation: RegExp | undefined;
  private readonly methods: readonly GatewayMethod[];
  /** How many times the authorizer function ran (the rest were cache hits): for tests. */
  authorizerInvocations = 0;

  constructor(private readonly options: LocalGatewayOptions) {
    this.stage = options.stage ?? 'local';
    const region = options.region ?? 'local';
    this.arnPrefix = `arn:aws:execute-api:${region}:${options.accountId ?? '000000000000'}:${options.apiId ?? 'local'}/${this.stage}`;
    this.maxBodyBytes = options.maxBodyBytes ?? 10 * 1024 * 1024;
    this.integrationTimeoutMs = options.integrationTimeoutMs ?? 29_000;
    this.maxCachedAuthorizations = options.maxCachedAuthorizations ?? 10_000;
    this.now = options.now ?? Date.now;
    const expression = options.identityValidationExpression;
    this.identityValidation = expression === undefined ? undefined : new RegExp(expression);
    // The tree lib/api.ts deploys: one method per resource path and method.
    const methods = new Map<string, GatewayMethod>();
    for (const route of options.routes) {
      const path = gatewayPath(route);
      if (!methods.has(`${route.method} ${path}`)) methods.set(`${route.method} ${path}`, { method: route.method, path, function: route.function, auth: route.auth, parts: path.split('/').slice(1) });
    }
    this.methods = [...methods.values()];
  }

  /** Node http request listener. */
  readonly listener = (req: IncomingMessage, res: ServerResponse): void => {
    const started = this.now();
    const requestId = randomUUID();
    this.handle(req, requestId)
      .catch(() => this.gatewayAnswer('DEFAULT_5XX', 502, req.method ?? 'GET', req.url ?? '/', 'Internal server error'))
      .then((result) => {
        const headers: Record<string, string | string[]> = { 'x-amzn-RequestId': requestId };
        for (const [k, v] of Object.entries(result.headers ?? {})) headers[k] = String(v);
        for (const [k, v] of Object.entries(result.multiValueHeaders ?? {})) headers[k] = v.map(String);
        const body = result.isBase64Encoded ? Buffer.from(result.body, 'base64') : Buffer.from(result.body ?? '', 'utf8');
        headers['Content-Length'] = String(body.length);
        // A body the gateway refused is not read to its end: the connection closes instead.
        if (!req.complete) headers['Connection'] = 'close';
        res.writeHead(result.statusCode, headers);
        res.end(req.method === 'HEAD' ? undefined : body);
        this.options.accessLog?.({
          requestId,
          method: req.method ?? '',
          path: (req.url ?? '').split('?')[0]!,
          status: result.statusCode,
          ms: this.now() - started,
        });
      })
      .catch(() => res.destroy());
  };

  /** Forgets cached authorizer results (what a redeploy or a cache flush does). */
  flushAuthorizerCache(): void {
    this.cache.clear();
  }

  private async handle(req: IncomingMessage, requestId: string): Promise<APIGatewayProxyResult> {
    const method = (req.method ?? 'GET').toUpperCase();
    const url = new URL(req.url ?? '/', 'http://gateway.local');
    let path: string;
    let segments: string[];
    try {
      segments = url.pathname.split('/').slice(1).map((s) => decodeURIComponent(s));
      // A REST API routes `/STU3/` to the `/STU3` resource, as fhir-kit-client sends Bundles and system history.
      if (segments.length > 1 && segments[segments.length - 1] === '') segments.pop();
      path = '/' + segments.join('/');
    } catch {
      return this.gatewayAnswer('DEFAULT_4XX', 400, method, url.pathname, 'Malformed path');
    }
    const matched = this.match(method, segments);
    if (!matched) return this.gatewayAnswer('MISSING_AUTHENTICATION_TOKEN', undefined, method, path);

    const body = await readBody(req, this.maxBodyBytes);
    if (body === 'too-large') return this.gatewayAnswer('REQUEST_TOO_LARGE', undefined, method, matched.route.path);
    if (body === 'aborted') return this.gatewayAnswer('DEFAULT_4XX', 400, method, matched.route.path, 'The request body was cut short');

    const event = this.toEvent(req, method, path, url, matched, body, requestId);
    if (matched.route.auth === 'authorized') {
      const token = event.headers.Authorization ?? event.headers.authorization ?? firstHeader(req, 'authorization');
      if (!token) return this.gatewayAnswer('UNAUTHORIZED', undefined, method, matched.route.path);
      if (this.identityValidation && !this.identityValidation.test(token)) {
        return this.gatewayAnswer('UNAUTHORIZED', undefined, method, matched.route.path);
      }
      const methodArn = `${this.arnPrefix}/${method}${path}`;
      const authorization = await this.authorize(token, methodArn).catch(() => 'failure' as const);
      if (authorization === 'unauthorized') return this.gatewayAnswer('UNAUTHORIZED', undefined, method, matched.route.path);
      if (authorization === 'failure') return this.gatewayAnswer('AUTHORIZER_FAILURE', undefined, method, matched.route.path);
      if (evaluatePolicy(authorization.policyDocument, methodArn) !== 'allow') {
        // On AWS the audit sink records this from the access log line (functions/audit/gateway.ts); here, directly.
        const patient = authorization.context?.patient;
        record(gatewayDenialAudit({ httpMethod: method, resourcePath: matched.route.path, path, status: 403, principalId: authorization.principalId, patient: typeof patient === 'string' ? patient : undefined, requestId, ip: req.socket.remoteAddress }));
        return this.gatewayAnswer('ACCESS_DENIED', undefined, method, matched.route.path);
      }
      event.requestContext.authorizer = { ...(authorization.context ?? {}), principalId: authorization.principalId };
    }

    const handler = this.options.handlers[matched.route.function];
    if (!handler) return this.gatewayAnswer('DEFAULT_5XX', 502, method, matched.route.path, 'No function is wired to this route');
    const result = await withTimeout(handler(event, lambdaContext(matched.route.function, requestId)), this.integrationTimeoutMs);
    if (result === TIMED_OUT) return this.gatewayAnswer('DEFAULT_5XX', 504, method, matched.route.path, 'Endpoint request timed out');
    if (!result || typeof result.statusCode !== 'number') {
      return this.gatewayAnswer('DEFAULT_5XX', 502, method, matched.route.path, 'Malformed Lambda proxy response');
    }
    // Lambda refuses a response payload over 6 MB, and API Gateway then answers 502: so does the local gateway.
    if (responsePayloadBytes(result) > LAMBDA_RESPONSE_PAYLOAD_LIMIT) {
      return this.gatewayAnswer('DEFAULT_5XX', 502, method, matched.route.path, 'Response payload size exceeded');
    }
    return result;
  }

  private async authorize(token: string, methodArn: string): Promise<APIGatewayAuthorizerResult | 'unauthorized' | 'failure'> {
    const ttl = this.options.authorizerCacheSeconds;
    const cached = ttl > 0 ? this.cache.get(token) : undefined;
    if (cached && cached.expiresAt > this.now()) return cached.result;
    this.authorizerInvocations++;
    let result: APIGatewayAuthorizerResult | typeof TIMED_OUT;
    try {
      result = await withTimeout(
        this.options.authorizer({ type: 'TOKEN', authorizationToken: token, methodArn }, lambdaContext('authorizer', randomUUID())),
        this.integrationTimeoutMs,
      );
    } catch (err) {
      return err instanceof Error && err.message === 'Unauthorized' ? 'unauthorized' : 'failure';
    }
    if (result === TIMED_OUT || !result || typeof result.principalId !== 'string' || !result.policyDocument) return 'failure';
    if (ttl > 0) this.remember(token, { result, expiresAt: this.now() + ttl * 1000 });
    return result;
  }

  /** Caches a decision within the cache bound: expired entries go first, then the oldest. */
  private remember(token: string, entry: CachedAuthorization): void {
    this.cache.delete(token);
    if (this.cache.size >= this.maxCachedAuthorizations) {
      const now = this.now();
      for (const [key, cached] of this.cache) if (cached.expiresAt <= now) this.cache.delete(key);
      while (this.cache.size >= this.maxCachedAuthorizations) this.cache.delete(this.cache.keys().next().value!);
    }
    this.cache.set(token, entry);
  }

  /** How many authorizer results are cached now: for tests. */
  get cachedAuthorizations(): number {
    return this.cache.size;
  }

  /**
   * API Gateway's matching: first the resource, by path alone, where a literal path part wins over a {parameter} at
   * the same place, the leftmost first (`/STU3/_history` over `/STU3/{type}`, `/STU3/{type}/{id}/$everything` over
   * `.../{id}/{compartment}`); then the method on that resource. A method the matched resource lacks is no route,
   * even where a {parameter} sibling has it (`GET /STU3/Patient/_search` is not a read of id `_search`).
   */
  private match(method: string, segments: string[]): Matched | undefined {
    let best: { path: string; pathParameters: Record<string, string>; score: number } | undefined;
    for (const route of this.methods) {
      const parts = route.parts;
      if (parts.length !== segments.length || route.path === best?.path) continue;
      const pathParameters: Record<string, string> = {};
      let score = 0;
      let ok = true;
      for (let i = 0; i < parts.length && ok; i++) {
        const part = parts[i]!;
        const segment = segments[i]!;
        if (part.startsWith('{') && part.endsWith('}')) {
          if (segment === '') ok = false;
          else pathParameters[part.slice(1, -1)] = segment;
        } else if (part === segment) {
          score += 1 << (parts.length - i);
        } else ok = false;
      }
      if (ok && (!best || score > best.score)) best = { path: route.path, pathParameters, score };
    }
    const route = best && this.methods.find((m) => m.path === best.path && m.method === method);
    return route && { route, pathParameters: best!.pathParameters };
  }

  private toEvent(
    req: IncomingMessage,
    method: string,
    path: string,
    url: URL,
    matched: Matched,
    body: string | null,
    requestId: string,
  ): APIGatewayProxyEvent {
    // Null-prototype maps: a header or query parameter may be named `constructor` or `__proto__` (API Gateway keeps
    // such names as plain data).
    const multiValueHeaders: Record<string, string[]> = Object.create(null);
    for (const [name, values] of Object.entries(req.headersDistinct)) {
      if (values) multiValueHeaders[canonicalHeader(name)] = values;
    }
    // What API Gateway adds or overwrites itself.
    const sourceIp = req.socket.remoteAddress ?? '127.0.0.1';
    multiValueHeaders['X-Forwarded-Proto'] = ['http'];
    multiValueHeaders['X-Forwarded-For'] = [sourceIp];
    multiValueHeaders['Host'] = [this.options.domainName];
    const headers: Record<string, string> = Object.create(null);
    for (const [name, values] of Object.entries(multiValueHeaders)) headers[name] = values[values.length - 1]!;

    const multiValueQueryStringParameters: Record<string, string[]> = Object.create(null);
    for (const [name, value] of url.searchParams) (multiValueQueryStringParameters[name] ??= []).push(value);
    const queryStringParameters: Record<string, string> = Object.create(null);
    for (const [name, values] of Object.entries(multiValueQueryStringParameters)) {
      queryStringParameters[name] = values[values.length - 1]!;
    }
    const hasQuery = Object.keys(queryStringParameters).length > 0;
    const hasParams = Object.keys(matched.pathParameters).length > 0;
    return {
      resource: matched.route.path,
      path,
      httpMethod: method,
      headers,
      multiValueHeaders,
      queryStringParameters: hasQuery ? queryStringParameters : null,
      multiValueQueryStringParameters: hasQuery ? multiValueQueryStringParameters : null,
      pathParameters: hasParams ? matched.pathParameters : null,
      stageVariables: null,
      body,
      isBase64Encoded: false,
      requestContext: {
        accountId: this.options.accountId ?? '000000000000',
        apiId: this.options.apiId ?? 'local',
        authorizer: undefined,
        domainName: this.options.domainName,
        domainPrefix: this.options.domainName.split('.')[0]!,
        httpMethod: method,
        path: `/${this.stage}${path}`,
        protocol: `HTTP/${req.httpVersion}`,
        requestId,
        requestTimeEpoch: this.now(),
        resourceId: 'local',
        resourcePath: matched.route.path,
        stage: this.stage,
        identity: {
          sourceIp,
          userAgent: headers['User-Agent'] ?? null,
        } as APIGatewayProxyEvent['requestContext']['identity'],
      },
    };
  }

  private gatewayAnswer(type: string, status: number | undefined, method: string, resourcePath: string, message = ''): APIGatewayProxyResult {
    const spec = gatewayResponse(type);
    // Each variable as the JSON text API Gateway puts in its place (messageString comes quoted).
    const inString = (value: string) => JSON.stringify(value).slice(1, -1);
    const vars: Record<string, string> = {
      '$context.httpMethod': inString(method),
      '$context.resourcePath': inString(resourcePath),
      '$context.error.message': inString(message),
      '$context.error.messageString': JSON.stringify(message),
    };
    const body = spec.body.replace(/\$context\.[A-Za-z]+(?:\.[A-Za-z]+)*/g, (name) => vars[name] ?? '');
    return { statusCode: spec.statusCode ?? status ?? 500, headers: { ...spec.headers }, body };
  }
}

function firstHeader(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** `content-type` -> `Content-Type`, as clients usually send them. */
function canonicalHeader(name: string): string {
  return name.replace(/(^|-)([a-z])/g, (_m, dash: string, c: string) => dash + c.toUpperCase());
}

/**
 * The body, read up to `max` bytes. Over the limit (declared in Content-Length or streamed) it stops reading at
 * once rather than draining the rest: the answer is 413 and the connection closes. A client that goes away
 * mid-body makes `aborted`.
 */
async function readBody(req: IncomingMessage, max: number): Promise<string | null | 'too-large' | 'aborted'> {
  if (Number(req.headers['content-length'] ?? 0) > max) return 'too-large';
  // Neither Content-Length nor Transfer-Encoding: a request without a body (RFC 9112 §6.3), as every GET here is;
  // nothing to wait for (the stream's async iterator costs more than the rest of the request's parsing).
  if (req.headers['content-length'] === undefined && req.headers['transfer-encoding'] === undefined) {
    req.resume();
    return null;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > max) return 'too-large';
      chunks.push(chunk);
    }
  } catch {
    return 'aborted';
  }
  return size === 0 ? null : Buffer.concat(chunks).toString('utf8');
}

/** Lambda's limit on a synchronous invocation's response payload (the proxy result as JSON): 6 MB. */
export const LAMBDA_RESPONSE_PAYLOAD_LIMIT = 6 * 1024 * 1024;

/** The size of the proxy result as Lambda serialises it; only worked out when it could be near the limit. */
function responsePayloadBytes(result: APIGatewayProxyResult): number {
  // JSON escaping makes at most 6 bytes of one UTF-16 unit (\uXXXX): a shorter body cannot reach the limit.
  if ((result.body?.length ?? 0) * 6 < LAMBDA_RESPONSE_PAYLOAD_LIMIT - 64 * 1024) return 0;
  return Buffer.byteLength(JSON.stringify(result));
}

const TIMED_OUT = Symbol('timed out');

/** The promise's value, or TIMED_OUT after `ms` (the promise keeps running; its result is dropped). */
async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | typeof TIMED_OUT> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMED_OUT), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * What the server answers before the gateway is ready (`npm start` listens first: it needs its port for the base
 * URL, then builds the handlers and loads the demo data): 503 with Retry-After, in the error format of the path
 * (OAuth error JSON under /oauth2, a FHIR OperationOutcome elsewhere), and the connection closes. Nothing waits.
 */
export function notReadyListener(retryAfterSeconds = 2): RequestListener {
  return (req, res) => {
    const oauth = (req.url ?? '').startsWith('/oauth2/');
    const message = 'The API is starting (loading the demo data): retry in a few seconds.';
    const body = oauth
      ? JSON.stringify({ error: 'temporarily_unavailable', error_description: message })
      : JSON.stringify({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'transient', diagnostics: message }] });
    res.writeHead(503, {
      'Content-Type': oauth ? 'application/json; charset=utf-8' : 'application/fhir+json; charset=utf-8',
      'Retry-After': String(retryAfterSeconds),
      'Cache-Control': 'no-store',
      'Content-Length': String(Buffer.byteLength(body)),
      Connection: 'close',
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  };
}

/** What Node's HTTP parser refused, as the status and words of the answer. */
const PARSER_REFUSALS: Record<string, [number, string, string]> = {
  HPE_HEADER_OVERFLOW: [431, 'Request Header Fields Too Large', 'The request line and headers are over 16 KB'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'Request Timeout', 'The request took too long to arrive'],
};

/**
 * The server's `clientError` listener. Node's HTTP parser refuses some requests before the gateway sees them:
 * headers over 16 KB (431; API Gateway's own limit is lower), a request too slow to arrive (408), one that is not
 * HTTP (400). Node's own answer destroys the socket at once, so a client still sending its body reads a reset, not
 * the answer. This one answers with an OperationOutcome, closes its side, and reads and drops what the client still
 * sends for at most `drainMs`, so that the client reads the status; then the socket is gone.
 */
export function parserRefusal(drainMs = 2000): (err: NodeJS.ErrnoException, socket: Duplex) => void {
  const answered = new WeakSet<Duplex>();
  return (err, socket) => {
    if (answered.has(socket)) return; // the parser reports each later chunk of a refused request again
    answered.add(socket);
    // As Node's own listener: no answer on a socket gone, or under a response already being written (a pipelined
    // request after it): that would corrupt the stream.
    const inFlight = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (err.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) {
      socket.destroy();
      return;
    }
    const [status, reason, message] = PARSER_REFUSALS[err.code ?? ''] ?? [400, 'Bad Request', 'The request is not well-formed HTTP'];
    const body = JSON.stringify({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'invalid', diagnostics: message }] });
    socket.end(
      `HTTP/1.1 ${status} ${reason}\r\nContent-Type: application/fhir+json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
    socket.resume();
    const timer = setTimeout(() => socket.destroy(), drainMs);
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
  };
}

function lambdaContext(functionName: string, awsRequestId: string): Context {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: `ccri-local-${functionName.replace(':', '-')}`,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:ccri-local-${functionName.replace(':', '-')}`,
    memoryLimitSize: '256',
    memoryLimitInMB: '256',
    awsRequestId,
    logGroupName: `/aws/lambda/ccri-local-${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => 10_000,
    done: () => {},
    fail: () => {},
    succeed: () => {},
  } as unknown as Context;
}
