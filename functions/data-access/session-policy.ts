/**
 * The session policy of a token: what the FHIR function's DynamoDB credentials may touch while it serves that
 * token. Pure; the AWS provider passes it to STS AssumeRole (provider.ts), the local provider evaluates it on every
 * DynamoDB request (local/dynamodb-iam.ts).
 *
 * The data contract it relies on: every item of resource type T (in the one FHIR table and in any of its indexes) has
 * a partition key starting with `T/` (exact type name, then a slash). So a type is a key prefix, and IAM can fence
 * types with the `dynamodb:LeadingKeys` condition key, which holds the partition key value(s) of the request:
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/specifying-conditions.html
 * https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazondynamodb.html
 *
 * Shape (at most two statements, compact JSON):
 * - `ReadTypes`: GetItem, BatchGetItem, Query, ConditionCheckItem on the table and its indexes, for the types the
 *   token holds ANY permission on (see below). Never Scan: a Scan has no leading key, so no prefix could fence it.
 * - `WriteTypes`: PutItem, UpdateItem, DeleteItem, BatchWriteItem on the table, for the types it may create, update or
 *   delete. Transactions need no action of their own: each TransactWriteItems/TransactGetItems element is authorized
 *   as the PutItem/UpdateItem/DeleteItem/ConditionCheckItem/GetItem it is
 *   (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis-iam.html).
 * Each statement carries the same two conditions:
 * - `ForAllValues:StringLike {dynamodb:LeadingKeys: ["Patient/*", ...]}`: every partition key of the request (a batch
 *   carries several) starts with an allowed type's prefix. The slash makes the prefix exact: `Medication/*` does not
 *   match `MedicationRequest/1`.
 * - `Null {dynamodb:LeadingKeys: "false"}`: the key must be present. ForAllValues over an EMPTY set is true, so
 *   without this guard a request that carries no leading key at all would pass the prefix test
 *   (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html).
 *
 * Read actions on every type the token holds any permission on, not only `r`/`s`: a FHIR write reads before it
 * writes (the current version for `versionId` and If-Match, the conditional-create search, the history chain), so a
 * write-only token must be able to read the types it writes. Public-information types are readable by every token
 * (permissions.ts rule 3). What a response may REVEAL stays decided in code by `decide` (r and s separate from c, u,
 * d; compartments); IAM bounds what the function can touch, so a handler bug cannot reach another type.
 *
 * Size: STS refuses an inline session policy over 2,048 plaintext characters, and separately one whose packed binary
 * form is too large (PackedPolicyTooLarge; the response's PackedPolicySize says how close it came):
 * https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html. With all 14 types readable and writable the
 * policy is 1,280 characters for a 20-character table name and 1,985 for DynamoDB's longest (255) in the longest
 * partition (`aws-us-gov`); session-policy.test.ts asserts the bound. Each new type costs ≈2 x (name + 6).
 */
import type { Interaction } from '../../contract/routes';
import { RESOURCE_TYPES, type ResourceType } from '../../contract/resource-types';
import { decide, type Access } from '../scopes/permissions';

/** STS's limit on the plaintext of an inline session policy. */
export const SESSION_POLICY_MAX_CHARS = 2048;

export const READ_ACTIONS = ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query', 'dynamodb:ConditionCheckItem'] as const;
export const WRITE_ACTIONS = ['dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:BatchWriteItem'] as const;

/** One statement of an IAM policy, in the JSON shape IAM reads. */
export interface PolicyStatement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Action: string | string[];
  Resource: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

/** An IAM policy document. */
export interface IamPolicy {
  Version: '2012-10-17';
  Statement: PolicyStatement[];
}

/** Where the FHIR data lives. */
export interface DataTable {
  /** `arn:aws:dynamodb:<region>:<account>:table/<name>` */
  tableArn: string;
  /** Whether reads may go to the table's indexes (`<tableArn>/index/*`; the role names each index exactly). */
  indexes: boolean;
}

/** The types a token may touch in DynamoDB, split as IAM sees them. */
export interface TypeAccess {
  /** Types with ANY permission (r, s, c, u, d; public-information types always): read actions. */
  read: ResourceType[];
  /** Types with c, u or d: write actions. */
  write: ResourceType[];
}

const READS: readonly Interaction[] = ['read', 'search-type'];
const WRITES: readonly Interaction[] = ['create', 'update', 'delete'];

/** The types `access` may read and write at the data layer, from permissions.ts `decide` (no rule copied here). */
export function typeAccess(access: Access): TypeAccess {
  const allowed = (type: ResourceType, interactions: readonly Interaction[]) =>
    interactions.some((interaction) => decide(access, type, interaction).allowed);
  const write = RESOURCE_TYPES.filter((type) => allowed(type, WRITES));
  const read = RESOURCE_TYPES.filter((type) => write.includes(type) || allowed(type, READS));
  return { read, write };
}

/** The partition key prefix of a type's items: `Patient/`. */
export function keyPrefix(type: ResourceType): string {
  return `${type}/`;
}

/** The `dynamodb:LeadingKeys` conditions for a set of types: prefixes, and the guard against an empty key set. */
export function leadingKeyConditions(types: readonly ResourceType[]): Record<string, Record<string, string | string[]>> {
  return {
    'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': types.map((type) => `${keyPrefix(type)}*`) },
    Null: { 'dynamodb:LeadingKeys': 'false' },
  };
}

/** The session policy of `access` on `table`. Deterministic (types in RESOURCE_TYPES order): equal access, equal text. */
export function sessionPolicy(access: Access, table: DataTable): IamPolicy {
  const { read, write } = typeAccess(access);
  const statements: PolicyStatement[] = [];
  if (read.length > 0) {
    statements.push({
      Sid: 'ReadTypes',
      Effect: 'Allow',
      Action: [...READ_ACTIONS],
      Resource: table.indexes ? [table.tableArn, `${table.tableArn}/index/*`] : [table.tableArn],
      Condition: leadingKeyConditions(read),
    });
  }
  if (write.length > 0) {
    statements.push({
      Sid: 'WriteTypes',
      Effect: 'Allow',
      Action: [...WRITE_ACTIONS],
      Resource: [table.tableArn],
      Condition: leadingKeyConditions(write),
    });
  }
  // A policy needs a statement; one that reaches no type denies all (never happens with public types, but stays safe).
  if (statements.length === 0) statements.push({ Sid: 'NoTypes', Effect: 'Deny', Action: 'dynamodb:*', Resource: '*' });
  return { Version: '2012-10-17', Statement: statements };
}

/** The policy as STS receives it: compact JSON. Throws if it would exceed STS's plaintext limit. */
export function packPolicy(policy: IamPolicy): string {
  const text = JSON.stringify(policy);
  if (text.length > SESSION_POLICY_MAX_CHARS) {
    throw new RangeError(`session policy of ${text.length} characters exceeds STS's ${SESSION_POLICY_MAX_CHARS}`);
  }
  return text;
}
