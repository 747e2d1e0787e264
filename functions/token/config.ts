/** The token function's dependencies, from its environment (read once per container). */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KMSClient } from '@aws-sdk/client-kms';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoClientStore } from '../oauth/clients';
import { KmsSigner } from '../oauth/signer';
import { DEFAULT_TOKEN_LIFETIME_SECONDS } from '../oauth/token';
import type { TokenHandlerDeps } from './handler';

/**
 * CLIENTS_TABLE_NAME (required), KMS_KEY_ID (required: the signing key's id, ARN or alias), TOKEN_LIFETIME_SECONDS
 * (default 3600), ISSUER and AUDIENCE (optional: default from the URL the client called).
 */
export function tokenDepsFromEnv(env: Record<string, string | undefined> = process.env): TokenHandlerDeps {
  const db = DynamoDBDocumentClient.from(new DynamoDBClient({}), { marshallOptions: { removeUndefinedValues: true } });
  return {
    clients: new DynamoClientStore(db, required(env, 'CLIENTS_TABLE_NAME')),
    signer: new KmsSigner(new KMSClient({}), required(env, 'KMS_KEY_ID')),
    tokenLifetimeSeconds: lifetime(env.TOKEN_LIFETIME_SECONDS),
    issuer: env.ISSUER || undefined,
    audience: env.AUDIENCE || undefined,
  };
}

export function required(env: Record<string, string | undefined>, name: string): string {
  const value = env[name];
  if (!value) throw new Error(`environment variable ${name} is not set`);
  return value;
}

function lifetime(value: string | undefined): number {
  if (value === undefined || value === '') return DEFAULT_TOKEN_LIFETIME_SECONDS;
  const seconds = Number(value);
  if (!Number.isInteger(seconds) || seconds < 60 || seconds > 86_400) {
    throw new Error(`TOKEN_LIFETIME_SECONDS must be an integer from 60 to 86400, not ${value}`);
  }
  return seconds;
}
