/** The DynamoDB the benchmarks run on: the embedded DynamoDB Local engine (or AWS_ENDPOINT_URL_DYNAMODB), fresh tables. */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { TABLES, localTableName, type TableSpec } from '../contract/tables';
import { configuredEndpoint, startEngine } from '../local/dynamodb-local';
import { createTables } from '../local/tables';

export interface BenchDynamo {
  endpoint: string;
  documentClient: DynamoDBDocumentClient;
  tableName(spec: TableSpec): string;
  prefix: string;
  stop(): Promise<void>;
}

export async function benchDynamo(prefix = `bench${Date.now().toString(36)}-`): Promise<BenchDynamo> {
  process.env.AWS_REGION ??= 'eu-west-2';
  process.env.AWS_ACCESS_KEY_ID ??= 'bench';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'bench';
  const configured = configuredEndpoint();
  const engine = configured ? undefined : await startEngine();
  const endpoint = configured ?? engine!.endpoint;
  process.env.AWS_ENDPOINT_URL_DYNAMODB = endpoint;
  const client = new DynamoDBClient({ endpoint });
  const tableName = (spec: TableSpec) => localTableName(spec, prefix);
  await createTables(client, TABLES, tableName);
  return {
    endpoint,
    documentClient: DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } }),
    tableName,
    prefix,
    async stop() {
      client.destroy();
      await engine?.stop();
    },
  };
}
