/**
 * The DynamoDB document client the FHIR functions use: bounded retries and a request timeout well below the
 * Lambda timeout, so that an unreachable DynamoDB becomes a 503 (functions/store/errors) rather than a timeout.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { NodeHttpHandler } from '@smithy/node-http-handler';

export interface DocumentClientOptions {
  /** Another DynamoDB (DynamoDB Local); default: the SDK's (AWS_ENDPOINT_URL_DYNAMODB or the region's). */
  endpoint?: string;
  /** Attempts per call, the first included. Default 3. */
  maxAttempts?: number;
  /** Per-request socket timeout in ms. Default 2000. */
  requestTimeoutMs?: number;
  /** TCP connection timeout in ms. Default 1000. */
  connectionTimeoutMs?: number;
}

export function createDocumentClient(options: DocumentClientOptions = {}): DynamoDBDocumentClient {
  const client = new DynamoDBClient({
    endpoint: options.endpoint,
    maxAttempts: options.maxAttempts ?? 3,
    requestHandler: new NodeHttpHandler({
      connectionTimeout: options.connectionTimeoutMs ?? 1000,
      requestTimeout: options.requestTimeoutMs ?? 2000,
    }),
  });
  return DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
}
