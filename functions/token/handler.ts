/**
 * The OAuth routes of the token function: `POST /oauth2/token` (the grant, functions/oauth/token.ts), `POST
 * /oauth2/revoke` and `POST /oauth2/introspect` (RFC 7009, RFC 7662: functions/oauth/token-management.ts) and
 * `GET /oauth2/revocations` (the list the authorizer fetches: functions/oauth/revocation.ts). Parse, call, format.
 * Every refusal is an RFC 6749 §5.2 JSON error; repeated failed client authentications are refused with 429
 * (functions/oauth/throttle.ts); a dependency outage (DynamoDB, KMS) is 503 temporarily_unavailable;
 * anything unexpected is a generic 500 that hides the details. Never logged: the body, the Authorization header, the
 * secret, the token.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { jsonResponse, toHttpRequest, toProxyResult, type HttpRequest, type HttpResponse } from '../http';
import { parseTokenRequestForm } from '../oauth/client-auth';
import type { ClientStore } from '../oauth/clients';
import { InvalidClientError, InvalidRequestError, oauthErrorBody, ServerError, toOAuthError, TooManyFailedAuthenticationsError } from '../oauth/errors';
import type { TokenSigner } from '../oauth/signer';
import type { FailedAuthLimiter } from '../oauth/throttle';
import { record } from '../audit';
import type { TokenVerifier } from '../authorizer/verifier';
import type { RevocationStore } from '../oauth/revocation';
import { handleTokenRequest, issuerAndAudience, type TokenSettings } from '../oauth/token';
import { introspectRequest, revokeRequest, type TokenManagementSettings } from '../oauth/token-management';

export interface TokenHandlerDeps {
  clients: ClientStore;
  signer: TokenSigner;
  /** Access token lifetime, seconds. */
  tokenLifetimeSeconds: number;
  /** The `iss` claim; default: the base URL the client called. */
  issuer?: string;
  /** The `aud` claim; default: issuer + `/STU3`. */
  audience?: string;
  /**
   * Throttles repeated failed client authentications per client id and source IP (functions/oauth/throttle.ts);
   * fails open when it fails. Required: `null` turns throttling off and must be written out; leaving it out is
   * refused at start.
   */
  limiter: FailedAuthLimiter | null;
  /** Named scope definitions, read at issuance (the Scopes table); none: named scopes grant nothing. */
  definitions?: TokenSettings['definitions'];
  /** private_key_jwt client authentication (client keys, jti replay store); none: refused. */
  assertions?: TokenSettings['assertions'];
  /** Revocation and introspection: this API's token verifier and the revocation store; none: those routes 404. */
  verifier?: TokenVerifier;
  revocations?: RevocationStore;
  logger?: Pick<Logger, 'info' | 'warn' | 'error'>;
  now?: () => Date;
}

/** RFC 6749 §5.1: token responses (and, here, error responses) must not be cached. */
const NO_STORE = { 'Cache-Control': 'no-store', Pragma: 'no-cache' };

export function createTokenHandler(deps: TokenHandlerDeps) {
  if (deps.limiter === undefined) throw new Error('createTokenHandler: no failed-authentication limiter; pass one, or limiter: null to turn throttling off');
  const logger = deps.logger ?? new Logger({ serviceName: 'token' });

  /** The settings of one request: issuer and audience from the URL the client called (unless configured). */
  function settingsOf(request: HttpRequest): TokenSettings {
    const { issuer, audience } = issuerAndAudience(deps, request.baseUrl);
    return {
        clients: deps.clients,
        signer: deps.signer,
        tokenLifetimeSeconds: deps.tokenLifetimeSeconds,
        issuer,
        audience,
        now: deps.now,
        limiter: deps.limiter ?? undefined,
        definitions: deps.definitions,
        assertions: deps.assertions,
        sourceIp: request.sourceIp,
        onLimiterError: (err) =>
          logger.error('failed-authentication limiter unavailable: request not throttled (fail open)', {
            err,
            requestId: request.requestId,
          }),
    };
  }

  /** The token-management settings, or a 404 when this deployment has none (unit tests of the token route). */
  function managementOf(request: HttpRequest): TokenManagementSettings {
    if (!deps.verifier || !deps.revocations) throw new InvalidRequestError('Not found.', 404);
    return { ...settingsOf(request), verifier: deps.verifier, revocations: deps.revocations };
  }

  const routes: Record<string, (request: HttpRequest) => Promise<HttpResponse>> = {
    'POST /oauth2/token': async (request) => {
      const form = parseTokenRequestForm(request.headers['content-type'], request.body);
      const { response, client } = await handleTokenRequest(form, request.headers.authorization, settingsOf(request));
      logger.info('token issued', { clientId: client.clientId, scope: response.scope, requestId: request.requestId });
      record({ kind: 'token', outcome: 'allowed', clientId: client.clientId, patient: client.patient, interaction: 'client_credentials', requestId: request.requestId, sourceIp: request.sourceIp, source: 'token' });
      return jsonResponse(200, response, NO_STORE);
    },
    'POST /oauth2/revoke': async (request) => {
      const form = parseTokenRequestForm(request.headers['content-type'], request.body);
      const { client, revoked } = await revokeRequest(form, request.headers.authorization, managementOf(request));
      logger.info('token revocation', { clientId: client.clientId, revoked, requestId: request.requestId });
      return { statusCode: 200, headers: NO_STORE, body: '' };
    },
    'POST /oauth2/introspect': async (request) => {
      const form = parseTokenRequestForm(request.headers['content-type'], request.body);
      const { client, response } = await introspectRequest(form, request.headers.authorization, managementOf(request));
      logger.info('token introspection', { clientId: client.clientId, active: response.active, requestId: request.requestId });
      return jsonResponse(200, response, NO_STORE);
    },
    'GET /oauth2/revocations': async (request) => {
      // The real request: settings derive the issuer from its URL when none is configured (an empty one threw: 500).
      const { revocations } = managementOf(request);
      const list = await revocations.list(Math.floor((deps.now?.() ?? new Date()).getTime() / 1000));
      return jsonResponse(200, list, { 'Cache-Control': 'no-cache' });
    },
  };

  async function handle(request: HttpRequest): Promise<HttpResponse> {
    try {
      // The token route is the default: events without a resource (older tests, benches) are token requests.
      const route = routes[`${request.method} ${request.route}`] ?? routes['POST /oauth2/token']!;
      return await route(request);
    } catch (caught) {
      const err = toOAuthError(caught);
      if (!(err instanceof ServerError)) {
        const log = { error: err.error, statusCode: err.statusCode, requestId: request.requestId };
        record({
          kind: 'token',
          outcome: err.statusCode >= 500 ? 'error' : 'denied',
          interaction: `${request.method} ${request.route ?? ''}`.trim(),
          reason: err instanceof InvalidClientError || err instanceof TooManyFailedAuthenticationsError ? err.reason : err.description,
          requestId: request.requestId,
          sourceIp: request.sourceIp,
          source: 'token',
        });
        if (err.statusCode >= 500) {
          logger.error('token request failed: dependency unavailable', { ...log, err: err.cause });
        } else {
          const reason =
            err instanceof InvalidClientError || err instanceof TooManyFailedAuthenticationsError ? err.reason : err.description;
          logger.warn('token request refused', { ...log, reason });
        }
        return jsonResponse(err.statusCode, oauthErrorBody(err), { ...NO_STORE, ...err.headers });
      }
      logger.error('token request failed', { err: caught, requestId: request.requestId });
      return jsonResponse(err.statusCode, oauthErrorBody(err), NO_STORE);
    }
  }

  return async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
    const request = toHttpRequest(event);
    return toProxyResult(await handle(request), request);
  };
}
