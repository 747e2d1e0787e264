/**
 * `GET /.well-known/jwks.json`: the public keys access tokens are verified with (RFC 7517 §5), the signing key first,
 * then keys kept after a rotation until the last token they signed has expired. Cached in the container and by
 * clients (`Cache-Control: public, max-age=300`); a KMS outage is 503 temporarily_unavailable, a bug 500 server_error,
 * neither cached.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { jsonResponse, toHttpRequest, toProxyResult, type HttpRequest, type HttpResponse } from '../http';
import { oauthErrorBody, toOAuthError } from '../oauth/errors';
import type { JwtSigner, PublicJwk } from '../oauth/signer';

export interface JwksHandlerDeps {
  signer: JwtSigner;
  /** How long the container (and clients) keep the key set, seconds; default 300. */
  cacheSeconds?: number;
  logger?: Pick<Logger, 'info' | 'warn' | 'error'>;
  now?: () => number;
}

export const DEFAULT_JWKS_CACHE_SECONDS = 300;

export function createJwksHandler(deps: JwksHandlerDeps) {
  const logger = deps.logger ?? new Logger({ serviceName: 'jwks' });
  const cacheSeconds = deps.cacheSeconds ?? DEFAULT_JWKS_CACHE_SECONDS;
  const now = deps.now ?? Date.now;
  let cached: { keys: PublicJwk[]; until: number } | undefined;

  async function keys(): Promise<PublicJwk[]> {
    if (cached && cached.until > now()) return cached.keys;
    const fresh = await deps.signer.publicJwks();
    cached = { keys: fresh, until: now() + cacheSeconds * 1000 };
    return fresh;
  }

  async function handle(request: HttpRequest): Promise<HttpResponse> {
    try {
      return jsonResponse(200, { keys: await keys() }, { 'Cache-Control': `public, max-age=${cacheSeconds}` });
    } catch (caught) {
      // A KMS outage (StoreUnavailableError from the signer) is a 503; a bug stays a 500, never disguised as an outage.
      const err = toOAuthError(caught);
      logger.error('reading the public signing keys failed', { err: caught, requestId: request.requestId });
      return jsonResponse(err.statusCode, oauthErrorBody(err), { 'Cache-Control': 'no-store', ...err.headers });
    }
  }

  return async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
    const request = toHttpRequest(event);
    return toProxyResult(await handle(request), request);
  };
}
