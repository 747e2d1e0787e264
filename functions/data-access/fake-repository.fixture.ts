/**
 * Test fixture: a small FHIR repository on ONE DynamoDB table that keeps the key contract of the real store
 * (every item of type T has a partition key starting with `T/`, in the table and in its index), so the data-access
 * tests prove IAM enforcement without depending on the store's code. Each method is one DynamoDB operation; the
 * repository is given its client per call, as the FHIR code is given one per request by the provider.
 */
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  BatchWriteCommand,
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  TransactGetCommand,
  TransactWriteCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from '@aws-sdk/lib-dynamodb';

export const INDEX = 'byType';

/** Creates the fake FHIR table: `pk`/`sk`, and an index whose partition key `ipk` is `T/_all` for every item of T. */
export async function createFakeFhirTable(client: DynamoDBClient, TableName: string): Promise<void> {
  await client.send(
    new CreateTableCommand({
      TableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: ['pk', 'sk', 'ipk', 'isk'].map((AttributeName) => ({ AttributeName, AttributeType: 'S' })),
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      GlobalSecondaryIndexes: [
        {
          IndexName: INDEX,
          KeySchema: [
            { AttributeName: 'ipk', KeyType: 'HASH' },
            { AttributeName: 'isk', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
      ],
    }),
  );
}

export type Ref = readonly [type: string, id: string];
const key = ([type, id]: Ref) => ({ pk: `${type}/${id}`, sk: 'current' });
const item = (ref: Ref, resource: object = {}) => ({ ...key(ref), ipk: `${ref[0]}/_all`, isk: ref[1], resource: { resourceType: ref[0], id: ref[1], ...resource } });

export function fakeRepository(TableName: string) {
  return {
    read: (db: DynamoDBDocumentClient, ref: Ref) => db.send(new GetCommand({ TableName, Key: key(ref) })).then((r) => r.Item),
    create: (db: DynamoDBDocumentClient, ref: Ref, resource?: object) => db.send(new PutCommand({ TableName, Item: item(ref, resource) })),
    update: (db: DynamoDBDocumentClient, ref: Ref) =>
      db.send(new UpdateCommand({ TableName, Key: key(ref), UpdateExpression: 'SET #v = :v', ExpressionAttributeNames: { '#v': 'version' }, ExpressionAttributeValues: { ':v': 2 } })),
    delete: (db: DynamoDBDocumentClient, ref: Ref) => db.send(new DeleteCommand({ TableName, Key: key(ref) })),
    /** The versions of one resource: a Query on the table's partition. */
    history: (db: DynamoDBDocumentClient, ref: Ref) =>
      db.send(new QueryCommand({ TableName, KeyConditionExpression: '#pk = :pk', ExpressionAttributeNames: { '#pk': 'pk' }, ExpressionAttributeValues: { ':pk': key(ref).pk } })).then((r) => r.Items),
    /** Every resource of a type: a Query on the index. */
    search: (db: DynamoDBDocumentClient, type: string) =>
      db.send(new QueryCommand({ TableName, IndexName: INDEX, KeyConditionExpression: 'ipk = :t', ExpressionAttributeValues: { ':t': `${type}/_all` } })).then((r) => r.Items),
    readMany: (db: DynamoDBDocumentClient, refs: Ref[]) =>
      db.send(new BatchGetCommand({ RequestItems: { [TableName]: { Keys: refs.map(key) } } })).then((r) => r.Responses?.[TableName]),
    writeMany: (db: DynamoDBDocumentClient, refs: Ref[]) =>
      db.send(new BatchWriteCommand({ RequestItems: { [TableName]: refs.map((ref) => ({ PutRequest: { Item: item(ref) } })) } })),
    readAtomically: (db: DynamoDBDocumentClient, refs: Ref[]) =>
      db.send(new TransactGetCommand({ TransactItems: refs.map((ref) => ({ Get: { TableName, Key: key(ref) } })) })),
    /** A transaction: creates `refs`, on condition that `checked` exists. */
    writeAtomically: (db: DynamoDBDocumentClient, refs: Ref[], checked?: Ref) =>
      db.send(
        new TransactWriteCommand({
          TransactItems: [
            ...refs.map((ref) => ({ Put: { TableName, Item: item(ref) } })),
            ...(checked ? [{ ConditionCheck: { TableName, Key: key(checked), ConditionExpression: 'attribute_exists(pk)' } }] : []),
          ],
        }),
      ),
    /** What no FHIR code should ever do. */
    scanAll: (db: DynamoDBDocumentClient) => db.send(new ScanCommand({ TableName })).then((r) => r.Items),
  };
}
