/**
 * The scoped data access of `npm start` and the tests: the same sessions as on AWS (functions/data-access/provider.ts
 * `sessionProvider`: one per client and session policy, bounded LRU), but instead of STS enforcing the session policy,
 * the local stand-in of IAM (dynamodb-iam.ts) evaluates it on every DynamoDB request the client makes. A handler bug
 * that reaches a type outside the token's grants fails here with the AccessDeniedException it would get on AWS.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { scopedClientFactory } from '../functions/data-access/client';
import { sessionProvider, type DataAccessProvider } from '../functions/data-access/provider';
import { describeTableResolver, enforceSessionPolicy, localTableArn } from './dynamodb-iam';

export interface LocalDataAccessOptions {
  /** The FHIR table. */
  tableName: string;
  /** Whether reads may use the table's indexes. Default true. */
  indexes?: boolean;
  /** Default: the SDK's (AWS_ENDPOINT_URL_DYNAMODB). */
  endpoint?: string;
  /** Default 256. */
  maxSessions?: number;
}

export function localDataAccess(options: LocalDataAccessOptions): DataAccessProvider {
  const createClient = scopedClientFactory({ endpoint: options.endpoint });
  // Key schemas are read without the stand-in (IAM knows them; the session policy would deny DescribeTable).
  const tables = describeTableResolver(new DynamoDBClient({ endpoint: options.endpoint, maxAttempts: 3 }));
  const table = { tableArn: localTableArn(options.tableName), indexes: options.indexes ?? true };
  return sessionProvider(table, options.maxSessions ?? 256, ({ name, policy }) => {
    const { client, documentClient } = createClient();
    enforceSessionPolicy(client, { policy, tables, principal: `arn:aws:sts::000000000000:assumed-role/ccri-data-access/${name}` });
    return documentClient;
  });
}
