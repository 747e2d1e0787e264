/**
 * DynamoDB for tests: the one DynamoDB Local engine that test/support/global-setup.ts started for the run (or the
 * DynamoDB that AWS_ENDPOINT_URL_DYNAMODB names). Each test file makes its own tables under a unique prefix.
 */
import { randomBytes } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createTables } from '../../local/tables';
import { localTableName, type TableSpec } from '../../contract/tables';

export function testDynamoDbClient(): DynamoDBClient {
  return new DynamoDBClient({ endpoint: process.env.AWS_ENDPOINT_URL_DYNAMODB, maxAttempts: 3 });
}

export function testDocumentClient(): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(testDynamoDbClient(), { marshallOptions: { removeUndefinedValues: true } });
}

/** A prefix no other test file uses, e.g. `t3f9a1c-`. */
export function uniquePrefix(): string {
  return `t${randomBytes(4).toString('hex')}-`;
}

export async function createTestTables(specs: readonly TableSpec[], prefix: string): Promise<void> {
  await createTables(testDynamoDbClient(), specs, (spec) => localTableName(spec, prefix));
}
