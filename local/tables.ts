/** Creates the tables of contract/tables.ts in a DynamoDB (Local) instance, with the same key shape as the CDK stack. */
import {
  CreateTableCommand,
  DescribeTableCommand,
  ResourceInUseException,
  UpdateTimeToLiveCommand,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import type { TableSpec } from '../contract/tables';

export async function createTables(client: DynamoDBClient, specs: readonly TableSpec[], name: (spec: TableSpec) => string) {
  await Promise.all(
    specs.map(async (spec) => {
      const TableName = name(spec);
      try {
        await client.send(
          new CreateTableCommand({
            TableName,
            BillingMode: 'PAY_PER_REQUEST',
            AttributeDefinitions: [
              { AttributeName: 'pk', AttributeType: 'S' },
              { AttributeName: 'sk', AttributeType: 'S' },
            ],
            KeySchema: [
              { AttributeName: 'pk', KeyType: 'HASH' },
              { AttributeName: 'sk', KeyType: 'RANGE' },
            ],
          }),
        );
        if (spec.ttlAttribute) {
          await client.send(
            new UpdateTimeToLiveCommand({
              TableName,
              TimeToLiveSpecification: { AttributeName: spec.ttlAttribute, Enabled: true },
            }),
          );
        }
      } catch (err) {
        if (!(err instanceof ResourceInUseException)) throw err;
        await client.send(new DescribeTableCommand({ TableName }));
      }
    }),
  );
}
