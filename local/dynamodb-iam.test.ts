import { describe, expect, it } from 'vitest';
import { sessionPolicy } from '../functions/data-access/session-policy';
import { accessFromClaims } from '../functions/scopes/permissions';
import { accessDenied, authorizationsOf, localTableArn, queryLeadingKey, type TableResolver } from './dynamodb-iam';
import { evaluate } from './policy';

const TABLE = 'Fhir';
const ARN = localTableArn(TABLE);
const tables: TableResolver = { tableArn: localTableArn, keySchema: async () => ({ partitionKey: 'pk', indexes: { byType: 'ipk' } }) };
const S = (value: string) => ({ S: value });
const key = (pk: string) => ({ pk: S(pk), sk: S('current') });
const keys = (...values: string[]) => ({ 'dynamodb:LeadingKeys': values });

/** Each DynamoDB operation touching the item(s) of partition key(s) `pks`, as the middleware sees it (marshalled). */
const OPERATIONS: Record<string, (...pks: string[]) => [string, object]> = {
  GetItem: (pk) => ['GetItem', { TableName: TABLE, Key: key(pk!) }],
  PutItem: (pk) => ['PutItem', { TableName: TABLE, Item: { ...key(pk!), x: S('1') } }],
  UpdateItem: (pk) => ['UpdateItem', { TableName: TABLE, Key: key(pk!) }],
  DeleteItem: (pk) => ['DeleteItem', { TableName: TABLE, Key: key(pk!) }],
  Query: (pk) => ['Query', { TableName: TABLE, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': S(pk!) } }],
  'Query on the index': (pk) => ['Query', { TableName: TABLE, IndexName: 'byType', KeyConditionExpression: '#k = :v AND isk > :s', ExpressionAttributeNames: { '#k': 'ipk' }, ExpressionAttributeValues: { ':v': S(pk!), ':s': S('') } }],
  BatchGetItem: (...pks) => ['BatchGetItem', { RequestItems: { [TABLE]: { Keys: pks.map(key) } } }],
  BatchWriteItem: (...pks) => ['BatchWriteItem', { RequestItems: { [TABLE]: pks.map((pk, i) => (i % 2 ? { DeleteRequest: { Key: key(pk) } } : { PutRequest: { Item: key(pk) } })) } }],
  'TransactGetItems': (...pks) => ['TransactGetItems', { TransactItems: pks.map((pk) => ({ Get: { TableName: TABLE, Key: key(pk) } })) }],
  'TransactWriteItems Put': (...pks) => ['TransactWriteItems', { TransactItems: pks.map((pk) => ({ Put: { TableName: TABLE, Item: key(pk) } })) }],
  'TransactWriteItems Update': (...pks) => ['TransactWriteItems', { TransactItems: pks.map((pk) => ({ Update: { TableName: TABLE, Key: key(pk) } })) }],
  'TransactWriteItems Delete': (...pks) => ['TransactWriteItems', { TransactItems: pks.map((pk) => ({ Delete: { TableName: TABLE, Key: key(pk) } })) }],
  'TransactWriteItems ConditionCheck': (...pks) => ['TransactWriteItems', { TransactItems: pks.map((pk) => ({ ConditionCheck: { TableName: TABLE, Key: key(pk) } })) }],
};

describe('what IAM authorizes for each DynamoDB operation', () => {
  it.each([
    ['GetItem', [{ action: 'dynamodb:GetItem', resource: ARN, context: keys('Patient/1') }]],
    ['PutItem', [{ action: 'dynamodb:PutItem', resource: ARN, context: keys('Patient/1') }]],
    ['UpdateItem', [{ action: 'dynamodb:UpdateItem', resource: ARN, context: keys('Patient/1') }]],
    ['DeleteItem', [{ action: 'dynamodb:DeleteItem', resource: ARN, context: keys('Patient/1') }]],
    ['Query', [{ action: 'dynamodb:Query', resource: ARN, context: keys('Patient/1') }]],
    ['Query on the index', [{ action: 'dynamodb:Query', resource: `${ARN}/index/byType`, context: keys('Patient/1') }]],
    ['BatchGetItem', [{ action: 'dynamodb:BatchGetItem', resource: ARN, context: keys('Patient/1', 'Condition/2') }]],
    ['BatchWriteItem', [{ action: 'dynamodb:BatchWriteItem', resource: ARN, context: keys('Patient/1', 'Condition/2') }]],
    ['TransactGetItems', [{ action: 'dynamodb:GetItem', resource: ARN, context: keys('Patient/1') }, { action: 'dynamodb:GetItem', resource: ARN, context: keys('Condition/2') }]],
    ['TransactWriteItems Put', [{ action: 'dynamodb:PutItem', resource: ARN, context: keys('Patient/1') }, { action: 'dynamodb:PutItem', resource: ARN, context: keys('Condition/2') }]],
    ['TransactWriteItems ConditionCheck', [{ action: 'dynamodb:ConditionCheckItem', resource: ARN, context: keys('Patient/1') }, { action: 'dynamodb:ConditionCheckItem', resource: ARN, context: keys('Condition/2') }]],
  ])('%s', async (name, expected) => {
    const [operation, input] = OPERATIONS[name]!('Patient/1', 'Condition/2');
    expect(await authorizationsOf(operation, input, tables)).toEqual(expected);
  });

  it('Scan has no leading key; other operations are their own action without condition keys', async () => {
    expect(await authorizationsOf('Scan', { TableName: TABLE }, tables)).toEqual([{ action: 'dynamodb:Scan', resource: ARN, context: {} }]);
    expect(await authorizationsOf('Scan', { TableName: TABLE, IndexName: 'byType' }, tables)).toEqual([{ action: 'dynamodb:Scan', resource: `${ARN}/index/byType`, context: {} }]);
    expect(await authorizationsOf('DescribeTable', { TableName: TABLE }, tables)).toEqual([{ action: 'dynamodb:DescribeTable', resource: ARN, context: {} }]);
    expect(await authorizationsOf('ExecuteStatement', { Statement: 'SELECT * FROM Fhir' }, tables)).toEqual([{ action: 'dynamodb:ExecuteStatement', resource: '*', context: {} }]);
  });

  it('accepts a table ARN as TableName, as DynamoDB does', async () => {
    expect(await authorizationsOf('GetItem', { TableName: ARN, Key: key('Patient/1') }, tables)).toEqual([{ action: 'dynamodb:GetItem', resource: ARN, context: keys('Patient/1') }]);
  });

  it.each([
    ['pk = :v', {}, 'Patient/1'],
    [':v = pk', {}, 'Patient/1'],
    ['#p = :v AND sk BETWEEN :a AND :b', { '#p': 'pk' }, 'Patient/1'],
    ['(pk = :v) AND (begins_with(sk, :a))', {}, 'Patient/1'],
    ['sk = :a AND pk = :v', {}, 'Patient/1'],
    ['sk = :v', {}, undefined],
    ['begins_with(pk, :v)', {}, undefined],
  ])('finds the partition key in the key condition %s', (expression, names, expected) => {
    const input = { KeyConditionExpression: expression, ExpressionAttributeNames: names, ExpressionAttributeValues: { ':v': S('Patient/1'), ':a': S('a'), ':b': S('b') } };
    expect(queryLeadingKey(input, 'pk')).toBe(expected);
  });

  it('reads the legacy KeyConditions too', () => {
    expect(queryLeadingKey({ KeyConditions: { pk: { ComparisonOperator: 'EQ', AttributeValueList: [S('Patient/1')] } } }, 'pk')).toBe('Patient/1');
    expect(queryLeadingKey({ KeyConditions: { pk: { ComparisonOperator: 'BEGINS_WITH', AttributeValueList: [S('P')] } } }, 'pk')).toBeUndefined();
  });
});

describe('a session policy applied to every operation: actions x key prefixes x allow/deny', () => {
  // A token that may read and write Patient, only read Condition (and the public types), and nothing of the rest.
  const policy = sessionPolicy(accessFromClaims({ clientId: 'c', scope: 'user/Patient.* user/Condition.read' }), { tableArn: ARN, indexes: true });
  const READ_OPS = ['GetItem', 'Query', 'Query on the index', 'BatchGetItem', 'TransactGetItems', 'TransactWriteItems ConditionCheck'];
  const expected = (op: string, type: string) =>
    type === 'Patient' || (READ_OPS.includes(op) && ['Condition', 'Organization', 'Medication'].includes(type)) ? 'allow' : 'deny';
  const cases = Object.keys(OPERATIONS).flatMap((op) =>
    ['Patient', 'Condition', 'Organization', 'Medication', 'MedicationRequest', 'Observation'].map((type) => [op, type, expected(op, type)] as const),
  );

  it.each(cases)('%s on %s: %s', async (op, type, outcome) => {
    const [operation, input] = OPERATIONS[op]!(`${type}/1`);
    const decisions = (await authorizationsOf(operation, input, tables)).map((r) => evaluate(policy, r));
    expect(decisions.every((d) => d === 'allow') ? 'allow' : 'deny').toBe(outcome);
  });

  it.each(Object.keys(OPERATIONS).filter((op) => op.startsWith('Batch') || op.startsWith('Transact')))(
    '%s mixing an allowed and a refused type is denied as a whole',
    async (op) => {
      const [operation, input] = OPERATIONS[op]!('Patient/1', 'Observation/2');
      const decisions = (await authorizationsOf(operation, input, tables)).map((r) => evaluate(policy, r));
      expect(decisions).toContain('implicit-deny');
    },
  );

  it('a Scan, and a Query without a leading key, are denied whatever the grants (the Null guard)', async () => {
    const everything = sessionPolicy(accessFromClaims({ clientId: 'c', scope: 'system/*.*' }), { tableArn: ARN, indexes: true });
    for (const [operation, input] of [
      ['Scan', { TableName: TABLE }],
      ['Query', { TableName: TABLE, KeyConditionExpression: 'begins_with(pk, :v)', ExpressionAttributeValues: { ':v': S('Patient/') } }],
    ] as const) {
      const [request] = await authorizationsOf(operation, input, tables);
      expect(evaluate(everything, request!)).toBe('implicit-deny');
    }
  });

  it('denies with an error shaped like DynamoDB AccessDeniedException', () => {
    const error = accessDenied({ action: 'dynamodb:GetItem', resource: ARN }, 'arn:aws:sts::0:assumed-role/r/s', false);
    expect(error).toMatchObject({ name: 'AccessDeniedException', $fault: 'client', $metadata: { httpStatusCode: 400 } });
    expect(error.message).toBe(`User: arn:aws:sts::0:assumed-role/r/s is not authorized to perform: dynamodb:GetItem on resource: ${ARN} because no session policy allows the dynamodb:GetItem action`);
  });
});
