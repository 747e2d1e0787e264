import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { PutCommand, GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { CLIENTS_TABLE, TABLES, localTableName } from '../contract/tables';
import { createTestTables, testDocumentClient, testDynamoDbClient, uniquePrefix } from '../test/support/dynamodb';

describe('the embedded DynamoDB Local engine', () => {
  it('creates every table of the table list, twice without error, and supports transactions', async () => {
    const prefix = uniquePrefix();
    await createTestTables(TABLES, prefix);
    await createTestTables(TABLES, prefix);
    for (const spec of TABLES) {
      const { Table } = await testDynamoDbClient().send(new DescribeTableCommand({ TableName: localTableName(spec, prefix) }));
      expect(Table?.KeySchema).toEqual([
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ]);
    }

    const db = testDocumentClient();
    const TableName = localTableName(CLIENTS_TABLE, prefix);
    await db.send(new PutCommand({ TableName, Item: { pk: 'a', sk: 'b', n: 1 } }));
    await expect(
      db.send(
        new TransactWriteCommand({
          TransactItems: [
            { Put: { TableName, Item: { pk: 'c', sk: 'd' } } },
            { Put: { TableName, Item: { pk: 'a', sk: 'b', n: 2 }, ConditionExpression: 'attribute_not_exists(pk)' } },
          ],
        }),
      ),
    ).rejects.toThrow(/cancel/i);
    expect((await db.send(new GetCommand({ TableName, Key: { pk: 'c', sk: 'd' } }))).Item).toBeUndefined();
    expect((await db.send(new GetCommand({ TableName, Key: { pk: 'a', sk: 'b' } }))).Item?.n).toBe(1);
  });
});
