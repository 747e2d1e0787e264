/**
 * The local stand-in of IAM for DynamoDB: an AWS SDK middleware that, before any request leaves the client,
 * works out what IAM would authorize for it — the action(s), the resource ARN(s), the `dynamodb:LeadingKeys`
 * condition key — and evaluates the client's session policy with the evaluator of local/policy.ts. A denied request
 * fails with an error shaped like DynamoDB's own AccessDeniedException (name, `$fault: 'client'`,
 * `$metadata.httpStatusCode` 400), so code and tests see what they would see on AWS.
 *
 * What IAM authorizes per DynamoDB operation (Service Authorization Reference, "Actions, resources, and condition
 * keys for Amazon DynamoDB"; Developer Guide, "Using IAM with DynamoDB transactions"):
 * - GetItem, PutItem, UpdateItem, DeleteItem: that action on the table; LeadingKeys = the item's partition key.
 * - Query: on the table or `<table>/index/<name>`; LeadingKeys = the partition key value of the key condition
 *   (for an index, the index's partition key).
 * - Scan: on the table or index, with NO leading key (so a LeadingKeys-fenced policy with a Null guard denies it).
 * - BatchGetItem, BatchWriteItem: that action once per table; LeadingKeys = every partition key of that table's
 *   requests (hence ForAllValues in policies).
 * - TransactGetItems, TransactWriteItems: no action of their own; each element is authorized as the GetItem, PutItem,
 *   UpdateItem, DeleteItem or ConditionCheckItem it is.
 * - Anything else (DescribeTable, PartiQL, ...): `dynamodb:<Operation>` with no condition keys.
 * Key schemas (which attribute is the partition key of a table or index) come from DescribeTable, once per table,
 * through a client without this middleware.
 */
import { DescribeTableCommand, DynamoDBClient, DynamoDBServiceException } from '@aws-sdk/client-dynamodb';
import type { BuildMiddleware, MetadataBearer } from '@smithy/types';
import { evaluate, type AuthorizationRequest } from './policy';

/** The partition key attribute of a table and of each of its indexes. */
export interface KeySchema {
  partitionKey: string;
  indexes: Record<string, string>;
}

/** Where the evaluator finds key schemas and table ARNs. */
export interface TableResolver {
  /** The ARN IAM sees for a table name (the same function must build the session policy's ARN). */
  tableArn(name: string): string;
  keySchema(name: string): Promise<KeySchema>;
}

/** The ARN of a local table: DynamoDB Local's region and account. */
export function localTableArn(name: string): string {
  return `arn:aws:dynamodb:ddblocal:000000000000:table/${name}`;
}

/** A resolver that reads key schemas with DescribeTable on `client` (which must not carry this middleware). */
export function describeTableResolver(client: DynamoDBClient, tableArn: (name: string) => string = localTableArn): TableResolver {
  const schemas = new Map<string, Promise<KeySchema>>();
  const hashKey = (keys: { AttributeName?: string; KeyType?: string }[] | undefined) =>
    keys?.find((k) => k.KeyType === 'HASH')?.AttributeName ?? '';
  return {
    tableArn,
    keySchema(name) {
      let schema = schemas.get(name);
      if (!schema) {
        schema = client.send(new DescribeTableCommand({ TableName: name })).then(({ Table }) => ({
          partitionKey: hashKey(Table?.KeySchema),
          indexes: Object.fromEntries(
            [...(Table?.GlobalSecondaryIndexes ?? []), ...(Table?.LocalSecondaryIndexes ?? [])].map((i) => [i.IndexName!, hashKey(i.KeySchema)]),
          ),
        }));
        schema.catch(() => schemas.delete(name));
        schemas.set(name, schema);
      }
      return schema;
    },
  };
}

type Input = Record<string, any>;
type Item = Record<string, unknown> | undefined;

/** A partition key value as IAM sees it: the string (marshalled `{S: ...}` or, before marshalling, plain). */
function keyValue(item: Item, attribute: string): string | undefined {
  const value = item?.[attribute] as unknown;
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object') {
    const v = value as { S?: string; N?: string; B?: Uint8Array };
    if (v.S !== undefined) return v.S;
    if (v.N !== undefined) return v.N;
    if (v.B !== undefined) return Buffer.from(v.B).toString('base64');
  }
  return undefined;
}

const LEADING_KEYS = 'dynamodb:LeadingKeys';
const leading = (values: (string | undefined)[]) => ({ [LEADING_KEYS]: values.filter((v): v is string => v !== undefined) });

/** The table name of a `TableName` (a name or, as DynamoDB also accepts, a table ARN). */
function tableNameOf(tableName: string): string {
  return tableName.startsWith('arn:') ? tableName.slice(tableName.indexOf(':table/') + ':table/'.length) : tableName;
}

/** The partition key value a Query's key condition fixes (`pk = :v`, either side, names via `#n`), if any. */
export function queryLeadingKey(input: Input, partitionKey: string): string | undefined {
  const legacy = input.KeyConditions?.[partitionKey];
  if (legacy) return legacy.ComparisonOperator === 'EQ' ? keyValue({ v: legacy.AttributeValueList?.[0] }, 'v') : undefined;
  const expression: string = input.KeyConditionExpression ?? '';
  const names: Record<string, string> = input.ExpressionAttributeNames ?? {};
  const values: Record<string, unknown> = input.ExpressionAttributeValues ?? {};
  const nameOf = (token: string) => (token.startsWith('#') ? names[token] : token);
  // Conditions are joined by AND; the partition key's is an equality. BETWEEN's own AND splits harmlessly.
  for (const clause of expression.replace(/[()]/g, ' ').split(/\s+AND\s+/i)) {
    const match = /^\s*([#:]?[\w.]+)\s*=\s*([#:]?[\w.]+)\s*$/.exec(clause);
    if (!match) continue;
    const [, left, right] = match as unknown as [string, string, string];
    if (nameOf(left) === partitionKey && right.startsWith(':')) return keyValue(values, right);
    if (nameOf(right) === partitionKey && left.startsWith(':')) return keyValue(values, left);
  }
  return undefined;
}

/** Every authorization IAM would make for one DynamoDB operation (see the table at the top of this file). */
export async function authorizationsOf(operation: string, input: Input, tables: TableResolver): Promise<AuthorizationRequest[]> {
  const action = (name: string) => `dynamodb:${name}`;
  const table = async (tableName: string) => {
    const name = tableNameOf(tableName);
    return { arn: tables.tableArn(name), schema: await tables.keySchema(name) };
  };
  const single = async (name: string, tableName: string, item: Item) => {
    const t = await table(tableName);
    return { action: action(name), resource: t.arn, context: leading([keyValue(item, t.schema.partitionKey)]) };
  };
  switch (operation) {
    case 'GetItem':
    case 'UpdateItem':
    case 'DeleteItem':
      return [await single(operation, input.TableName, input.Key)];
    case 'PutItem':
      return [await single(operation, input.TableName, input.Item)];
    case 'Query':
    case 'Scan': {
      const t = await table(input.TableName);
      const resource = input.IndexName ? `${t.arn}/index/${input.IndexName}` : t.arn;
      if (operation === 'Scan') return [{ action: action(operation), resource, context: {} }];
      const partitionKey = input.IndexName ? t.schema.indexes[input.IndexName] ?? '' : t.schema.partitionKey;
      return [{ action: action(operation), resource, context: leading([queryLeadingKey(input, partitionKey)]) }];
    }
    case 'BatchGetItem':
    case 'BatchWriteItem':
      return Promise.all(
        Object.entries<any>(input.RequestItems ?? {}).map(async ([tableName, requests]) => {
          const t = await table(tableName);
          const items: Item[] =
            operation === 'BatchGetItem'
              ? (requests.Keys ?? [])
              : (requests as any[]).map((r) => r.PutRequest?.Item ?? r.DeleteRequest?.Key);
          return { action: action(operation), resource: t.arn, context: leading(items.map((i) => keyValue(i, t.schema.partitionKey))) };
        }),
      );
    case 'TransactGetItems':
      return Promise.all((input.TransactItems ?? []).map((e: any) => single('GetItem', e.Get?.TableName, e.Get?.Key)));
    case 'TransactWriteItems':
      return Promise.all(
        (input.TransactItems ?? []).map((e: any) =>
          e.Put
            ? single('PutItem', e.Put.TableName, e.Put.Item)
            : e.Update
              ? single('UpdateItem', e.Update.TableName, e.Update.Key)
              : e.Delete
                ? single('DeleteItem', e.Delete.TableName, e.Delete.Key)
                : single('ConditionCheckItem', e.ConditionCheck?.TableName, e.ConditionCheck?.Key),
        ),
      );
    default:
      return [
        { action: action(operation), resource: input.TableName ? tables.tableArn(tableNameOf(input.TableName)) : '*', context: {} },
      ];
  }
}

/** DynamoDB's AccessDeniedException, as the SDK would surface it. */
export function accessDenied(request: AuthorizationRequest, principal: string, explicit: boolean): DynamoDBServiceException {
  const why = explicit ? 'with an explicit deny in a session policy' : `because no session policy allows the ${request.action} action`;
  return new DynamoDBServiceException({
    name: 'AccessDeniedException',
    $fault: 'client',
    $metadata: { httpStatusCode: 400, attempts: 1, totalRetryDelay: 0 } as MetadataBearer['$metadata'],
    message: `User: ${principal} is not authorized to perform: ${request.action} on resource: ${request.resource} ${why}`,
  });
}

export interface IamStandInOptions {
  /** The session policy the client's credentials carry (or how to find it for the request, e.g. by access key). */
  policy: object | (() => Promise<object>);
  tables: TableResolver;
  /** Who IAM names in the denial message. */
  principal?: string;
}

/** Adds the stand-in to a DynamoDB client: every command is authorized against `policy` before it is sent. */
export function enforceSessionPolicy(client: DynamoDBClient, options: IamStandInOptions): void {
  const principal = options.principal ?? 'arn:aws:sts::000000000000:assumed-role/ccri-data-access/local';
  const middleware: BuildMiddleware<any, any> = (next, context) => async (args) => {
    const operation = String(context.commandName ?? '').replace(/Command$/, '');
    const policy = typeof options.policy === 'function' ? await options.policy() : options.policy;
    for (const request of await authorizationsOf(operation, args.input as Input, options.tables)) {
      const decision = evaluate(policy as { Statement?: unknown }, request);
      if (decision !== 'allow') throw accessDenied(request, principal, decision === 'deny');
    }
    return next(args);
  };
  client.middlewareStack.add(middleware, { step: 'build', name: 'localIamSessionPolicy', priority: 'high', override: true });
}
