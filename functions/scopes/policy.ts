/**
 * The authorizer's IAM policy, built to be safe under API Gateway's authorizer result caching.
 *
 * API Gateway caches a TOKEN authorizer's answer per token for the TTL and applies the cached policy to every later
 * request with that token, whatever its path ("Lambda authorizer ... the returned policy is cached and applied to
 * all methods"). A policy that allowed only the method ARN of the first request would wrongly refuse the next path,
 * and a policy allowing `*` would wrongly allow it. So the policy lists EVERY method ARN the token may call, from the
 * route table: for each authorized FHIR route whose `decide` allows it,
 * `arn:<partition>:execute-api:<region>:<account>:<apiId>/<stage>/<METHOD>/<path with each {param} as *>`.
 *
 * IAM's `*` matches any run of characters, `/` included, so each pattern was checked not to reach a route that needs
 * another permission (policy.test.ts proves it for every route and every scope set in the matrix):
 * - `GET/STU3/T/*` reaches read, history and vread (all `r`), never search (`GET/STU3/T`, exact).
 * - `POST/STU3/T` is create (exact); `POST/STU3/T/$validate` and `POST/STU3/T/* /$validate` are listed one by one:
 *   there is no `POST/STU3/T/*` pattern, which would also reach `POST/STU3/T/$validate`.
 * - `PUT/STU3/T/*` and `DELETE/STU3/T/*` reach only update and delete.
 * Admin routes (`admin: true`, under `/admin`) are listed only for a token holding the admin scope (admin.ts): all of
 * them or none, so a `*` in their patterns cannot widen anything. Any other authorized route without a FHIR type is
 * never listed (deny by default).
 */
import { ROUTES, type Route } from '../../lib/routes';
import { holdsAdminScope } from './admin';
import { decide, type Access } from './permissions';

export interface PolicyStatement {
  Action: 'execute-api:Invoke';
  Effect: 'Allow' | 'Deny';
  Resource: string[];
}

export interface PolicyDocument {
  Version: '2012-10-17';
  Statement: PolicyStatement[];
}

/** The parts of a method ARN that name the API and stage. */
export interface MethodArnParts {
  partition: string;
  region: string;
  account: string;
  apiId: string;
  stage: string;
  method: string;
  /** The resource path without its leading slash, e.g. `STU3/Patient/1`. */
  path: string;
}

const METHOD_ARN = /^arn:(aws[a-z-]*):execute-api:([a-z0-9-]+):(\d{12}|\*):([A-Za-z0-9]+)\/([^/]+)\/([A-Z*]+)\/?(.*)$/;

/**
 * Splits an API Gateway method ARN,
 * `arn:aws:execute-api:<region>:<account>:<apiId>/<stage>/<METHOD>/<path>`; undefined when it is not one.
 */
export function parseMethodArn(methodArn: string): MethodArnParts | undefined {
  const match = METHOD_ARN.exec(methodArn);
  if (!match) return undefined;
  const [, partition, region, account, apiId, stage, method, path] = match as unknown as string[];
  return {
    partition: partition!,
    region: region!,
    account: account!,
    apiId: apiId!,
    stage: stage!,
    method: method!,
    path: path ?? '',
  };
}

/** The method ARN pattern of a route: its path template with each `{param}` as `*`. */
export function routeArnPattern(api: MethodArnParts, route: Pick<Route, 'method' | 'path'>): string {
  const path = route.path.replace(/^\//, '').replace(/\{[^}]+\}/g, '*');
  return `arn:${api.partition}:execute-api:${api.region}:${api.account}:${api.apiId}/${api.stage}/${route.method}/${path}`;
}

/** Every method ARN pattern this access may call, in route table order, without duplicates. */
export function allowedArnPatterns(access: Access, api: MethodArnParts, routes: readonly Route[] = ROUTES): string[] {
  const patterns = new Set<string>();
  const admin = holdsAdminScope(access.scope);
  for (const route of routes) {
    if (route.auth !== 'authorized') continue;
    if (route.admin) {
      if (admin) patterns.add(routeArnPattern(api, route));
      continue;
    }
    if (!route.fhir) continue;
    if (decide(access, route.fhir.type, route.fhir.interaction).allowed) patterns.add(routeArnPattern(api, route));
  }
  return [...patterns];
}

/**
 * The cache-safe policy: one Allow statement listing every permitted method ARN, or, when nothing is permitted, one
 * Deny of every method of the stage.
 */
export function buildPolicy(access: Access, api: MethodArnParts, routes: readonly Route[] = ROUTES): PolicyDocument {
  const allowed = allowedArnPatterns(access, api, routes);
  const statement: PolicyStatement =
    allowed.length > 0
      ? { Action: 'execute-api:Invoke', Effect: 'Allow', Resource: allowed }
      : {
          Action: 'execute-api:Invoke',
          Effect: 'Deny',
          Resource: [`arn:${api.partition}:execute-api:${api.region}:${api.account}:${api.apiId}/${api.stage}/*`],
        };
  return { Version: '2012-10-17', Statement: [statement] };
}
