/**
 * A small IAM policy evaluator: the local stand-in for AWS's, used by both local stand-ins of this app.
 * - The local gateway applies the policy a Lambda authorizer returns to the request's method ARN
 *   (`execute-api:Invoke` on `arn:aws:execute-api:<region>:<account>:<api>/<stage>/<METHOD>/<path>`): `evaluatePolicy`.
 * - The local data-access middleware (local/dynamodb-iam.ts) applies a session policy to each DynamoDB request
 *   (`dynamodb:GetItem` on a table ARN, with the `dynamodb:LeadingKeys` condition key): `evaluate`.
 *
 * What it implements, as the IAM User Guide describes it ("Policy evaluation logic", "IAM JSON policy elements:
 * Condition operators", "Single-valued vs. multivalued context keys"):
 * - Effect Allow/Deny; an explicit Deny wins over any Allow; no matching Allow is an implicit deny.
 * - Action (case-insensitive) and Resource (case-sensitive) with the wildcards `*` (any run of characters, `/`
 *   included) and `?` (one character).
 * - Condition: every operator of a block must hold, every key of an operator must hold, and a key holds when the
 *   request's value matches ANY of the policy's values. Operators: StringEquals, StringNotEquals, StringLike,
 *   StringNotLike, and Null; the set qualifiers `ForAllValues:` (true when EVERY request value matches — and so,
 *   famously, true when the key is absent or empty) and `ForAnyValue:` (true when at least one matches; false when
 *   absent). Condition key names are case-insensitive, values case-sensitive.
 * Anything else (NotAction, NotResource, other operators, `...IfExists`) throws: a stand-in that silently skipped a
 * Deny it did not understand would allow what AWS refuses.
 */
import type { PolicyDocument } from 'aws-lambda';
import { wildcardMatch } from '../functions/scopes/wildcard';

export { wildcardMatch };

export type PolicyDecision = 'allow' | 'deny' | 'implicit-deny';

/** The request context of one authorization: condition keys to a value, a set of values, or absent. */
export type ConditionContext = Readonly<Record<string, string | readonly string[] | undefined>>;

/** What IAM authorizes: one action on one resource, with the request's condition keys. */
export interface AuthorizationRequest {
  action: string;
  resource: string;
  context?: ConditionContext;
}

export class UnsupportedPolicyError extends Error {
  override name = 'UnsupportedPolicyError';
}

/** Evaluates one request against a policy: explicit Deny wins, then any Allow, else implicit deny. */
export function evaluate(policy: { Statement?: unknown } | undefined, request: AuthorizationRequest): PolicyDecision {
  let allowed = false;
  const statements = (policy?.Statement ?? []) as unknown;
  for (const statement of (Array.isArray(statements) ? statements : [statements]) as Record<string, unknown>[]) {
    for (const element of ['NotAction', 'NotResource', 'NotPrincipal']) {
      if (element in statement) throw new UnsupportedPolicyError(`${element} is not supported by the local evaluator`);
    }
    if (!listOf(statement.Action).some((p) => wildcardMatch(p, request.action, true))) continue;
    if (!listOf(statement.Resource).some((p) => wildcardMatch(p, request.resource, false))) continue;
    if (!conditionsHold(statement.Condition as Conditions | undefined, request.context ?? {})) continue;
    if (statement.Effect === 'Deny') return 'deny';
    if (statement.Effect === 'Allow') allowed = true;
  }
  return allowed ? 'allow' : 'implicit-deny';
}

/** What API Gateway does with an authorizer's policy: `execute-api:Invoke` on the request's method ARN. */
export function evaluatePolicy(policy: PolicyDocument | undefined, methodArn: string): PolicyDecision {
  return evaluate(policy, { action: 'execute-api:Invoke', resource: methodArn });
}

function listOf(value: unknown): string[] {
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).map(String);
}

type Matcher = (policyValue: string, requestValue: string) => boolean;

const MATCHERS: Readonly<Record<string, Matcher>> = {
  stringequals: (p, v) => p === v,
  stringnotequals: (p, v) => p !== v,
  stringlike: (p, v) => wildcardMatch(p, v, false),
  stringnotlike: (p, v) => !wildcardMatch(p, v, false),
};
/** The negated operators hold when the value matches NONE of the policy's values (IAM's "not any of"). */
const NEGATED = new Set(['stringnotequals', 'stringnotlike']);

type Conditions = Readonly<Record<string, Readonly<Record<string, string | readonly string[]>>>>;

function conditionsHold(condition: Conditions | undefined, context: ConditionContext): boolean {
  if (condition === undefined) return true;
  const keys = new Map(Object.entries(context).map(([k, v]) => [k.toLowerCase(), v]));
  return Object.entries(condition).every(([operator, block]) =>
    Object.entries(block).every(([key, expected]) => operatorHolds(operator, listOf(expected), keys.get(key.toLowerCase()))),
  );
}

function operatorHolds(operator: string, expected: string[], actual: string | readonly string[] | undefined): boolean {
  const values = actual === undefined ? [] : typeof actual === 'string' ? [actual] : [...actual];
  const [qualifier, name] = operator.includes(':') ? operator.toLowerCase().split(':', 2) : [undefined, operator.toLowerCase()];
  if (name === 'null' && qualifier === undefined) {
    // Null: "true" holds when the key is absent (an empty set counts as absent), "false" when it is present.
    const absent = values.length === 0;
    return expected.some((e) => (e.toLowerCase() === 'true' ? absent : !absent));
  }
  const matcher = MATCHERS[name!];
  if (!matcher) throw new UnsupportedPolicyError(`condition operator ${operator} is not supported by the local evaluator`);
  const one = (value: string) =>
    NEGATED.has(name!) ? expected.every((e) => matcher(e, value)) : expected.some((e) => matcher(e, value));
  if (qualifier === 'forallvalues') return values.every(one); // vacuously true on an absent or empty key
  if (qualifier === 'foranyvalue') return values.some(one);
  if (qualifier !== undefined) throw new UnsupportedPolicyError(`condition qualifier ${qualifier} is not supported`);
  // A single-valued operator: an absent key does not match; a multivalued key must be used with a qualifier.
  if (values.length === 0) return false;
  if (values.length > 1) throw new UnsupportedPolicyError(`${operator} on a multivalued key needs ForAllValues/ForAnyValue`);
  return one(values[0]!);
}

