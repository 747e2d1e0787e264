/**
 * What API Gateway does with the IAM policy a Lambda authorizer returns: the request's method ARN
 * (`arn:aws:execute-api:<region>:<account>:<api>/<stage>/<METHOD>/<path>`) is matched against every statement's
 * Action and Resource, with IAM wildcards (`*` any run of characters, `/` included; `?` one character).
 * An explicit Deny wins over any Allow; no matching Allow is an implicit deny.
 */
import type { PolicyDocument, Statement } from 'aws-lambda';

export type PolicyDecision = 'allow' | 'deny' | 'implicit-deny';

export function evaluatePolicy(policy: PolicyDocument | undefined, methodArn: string): PolicyDecision {
  let allowed = false;
  for (const statement of policy?.Statement ?? []) {
    if (!matchesAny(actionsOf(statement), 'execute-api:Invoke', true)) continue;
    if (!matchesAny(resourcesOf(statement), methodArn, false)) continue;
    if (statement.Effect === 'Deny') return 'deny';
    if (statement.Effect === 'Allow') allowed = true;
  }
  return allowed ? 'allow' : 'implicit-deny';
}

function actionsOf(statement: Statement): string[] {
  const action = (statement as { Action?: string | string[] }).Action;
  return action === undefined ? [] : Array.isArray(action) ? action : [action];
}

function resourcesOf(statement: Statement): string[] {
  const resource = (statement as { Resource?: string | string[] }).Resource;
  return resource === undefined ? [] : Array.isArray(resource) ? resource : [resource];
}

function matchesAny(patterns: string[], value: string, caseInsensitive: boolean): boolean {
  return patterns.some((pattern) => wildcardMatch(pattern, value, caseInsensitive));
}

/** IAM wildcard match: `*` matches any run of characters (including none), `?` exactly one. */
export function wildcardMatch(pattern: string, value: string, caseInsensitive = false): boolean {
  const p = caseInsensitive ? pattern.toLowerCase() : pattern;
  const v = caseInsensitive ? value.toLowerCase() : value;
  // Iterative glob match with backtracking on the last star: linear-ish, no regex built from input.
  let pi = 0;
  let vi = 0;
  let star = -1;
  let mark = 0;
  while (vi < v.length) {
    if (pi < p.length && (p[pi] === '?' || p[pi] === v[vi])) {
      pi++;
      vi++;
    } else if (pi < p.length && p[pi] === '*') {
      star = pi++;
      mark = vi;
    } else if (star !== -1) {
      pi = star + 1;
      vi = ++mark;
    } else {
      return false;
    }
  }
  while (pi < p.length && p[pi] === '*') pi++;
  return pi === p.length;
}
