/** The token function's dependencies, from its environment (read once per container). */
import { intEnv, optionalEnv, requiredEnv, type Env } from '../env';
import { KMSClient } from '@aws-sdk/client-kms';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { DynamoClientStore } from '../oauth/clients';
import { isKmsKeyArn, KmsSigner } from '../oauth/signer';
import { DynamoFailedAuthLimiter } from '../oauth/throttle';
import { DynamoScopeDefinitionReader } from '../scopes/definition-store';
import { DynamoJtiReplayStore } from '../oauth/jti-replay';
import { DynamoRevocationStore } from '../oauth/revocation';
import { createJwksTokenVerifier } from '../authorizer/jwks-verifier';
import { ClientJwksResolver } from '../oauth/client-jwks';
import { createDocumentClient } from '../store/client';
import { DEFAULT_TOKEN_LIFETIME_SECONDS } from '../oauth/token';
import type { TokenHandlerDeps } from './handler';

/**
 * CLIENTS_TABLE_NAME and SCOPES_TABLE_NAME (required; named scopes are expanded from the latter at issuance), KMS_KEY_ID (required: the signing key's ARN, from which the token `kid` derives), TOKEN_LIFETIME_SECONDS
 * (default 3600), ISSUER and AUDIENCE (optional: default from the URL the client called).
 */
export function tokenDepsFromEnv(env: Env = process.env): TokenHandlerDeps {
  const db = createDocumentClient(TOKEN_SDK_SETTINGS);
  const clientsTable = requiredEnv('CLIENTS_TABLE_NAME', env);
  const jwksUri = optionalEnv('JWKS_URI', env);
  const kms = new KMSClient({
    maxAttempts: TOKEN_SDK_SETTINGS.maxAttempts,
    requestHandler: new NodeHttpHandler({
      connectionTimeout: TOKEN_SDK_SETTINGS.connectionTimeoutMs,
      requestTimeout: TOKEN_SDK_SETTINGS.requestTimeoutMs,
    }),
  });
  // Token decisions are printed (functions/audit); the audit sink's log subscription stores them (docs/audit.md).
  return {
    clients: new DynamoClientStore(db, clientsTable),
    signer: new KmsSigner(kms, signingKeyArn(env)),
    limiter: new DynamoFailedAuthLimiter(db, clientsTable),
    definitions: new DynamoScopeDefinitionReader(db, requiredEnv('SCOPES_TABLE_NAME', env)),
    // On AWS a client's jwks_uri is fetched over https only and never from a private address (client-jwks.ts).
    verifier: createJwksTokenVerifier(jwksUri ? { jwksUri: () => jwksUri } : {}),
    revocations: new DynamoRevocationStore(db, clientsTable),
    assertions: { keys: new ClientJwksResolver({ allowPrivateAddresses: false }), replay: new DynamoJtiReplayStore(db, clientsTable) },
    tokenLifetimeSeconds: intEnv('TOKEN_LIFETIME_SECONDS', { min: 60, max: 86_400, fallback: DEFAULT_TOKEN_LIFETIME_SECONDS }, env),
    issuer: optionalEnv('ISSUER', env),
    audience: optionalEnv('AUDIENCE', env),
  };
}

/**
 * The AWS SDK settings of the token function's DynamoDB and KMS clients: bounded retries and timeouts, so that an
 * unreachable dependency becomes a 503 well within the function's 10 s timeout (worst case per call:
 * 3 attempts x (1 s connect + 2 s request) plus backoff, under 10 s).
 */
export const TOKEN_SDK_SETTINGS = { maxAttempts: 3, connectionTimeoutMs: 1000, requestTimeoutMs: 2000 } as const;

function signingKeyArn(env: Env): string {
  const arn = requiredEnv('KMS_KEY_ID', env);
  if (!isKmsKeyArn(arn)) throw new Error(`KMS_KEY_ID must be the signing key's ARN (the token kid derives from it), not ${arn}`);
  return arn;
}
