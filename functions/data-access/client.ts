/**
 * The DynamoDB document clients of scoped sessions: one per session (its own credentials), all sharing ONE HTTP
 * handler, so the connection pool (and its TLS sessions) is shared however many sessions a warm function holds.
 * Same settings as the store's client (functions/store/client.ts): bounded retries, timeouts well below the Lambda's.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';

export interface ScopedClientOptions {
  /** Another DynamoDB (DynamoDB Local); default: the SDK's (AWS_ENDPOINT_URL_DYNAMODB or the region's). */
  endpoint?: string;
  /** Default 3. */
  maxAttempts?: number;
  /** Default 2000 ms. */
  requestTimeoutMs?: number;
  /** Default 1000 ms. */
  connectionTimeoutMs?: number;
}

/** Makes a session's client from its credentials (a provider the SDK calls as needed; default: the SDK's chain). */
export type ScopedClientFactory = (
  credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider,
) => { client: DynamoDBClient; documentClient: DynamoDBDocumentClient };

export function scopedClientFactory(options: ScopedClientOptions = {}): ScopedClientFactory {
  const requestHandler = new NodeHttpHandler({
    connectionTimeout: options.connectionTimeoutMs ?? 1000,
    requestTimeout: options.requestTimeoutMs ?? 2000,
    // Without it the SDK's requestTimeout only logs a warning: a silent DynamoDB would hold the request until the
    // Lambda times out.
    throwOnRequestTimeout: true,
  });
  return (credentials) => {
    const client = new DynamoDBClient({ endpoint: options.endpoint, maxAttempts: options.maxAttempts ?? 3, requestHandler, credentials });
    const documentClient = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
    return { client, documentClient };
  };
}
