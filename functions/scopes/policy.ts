/**
 * The authorizer's IAM policy: exact under API Gateway's authorizer result caching, and small.
 *
 * API Gateway caches a TOKEN authorizer's answer per token for the TTL and applies the cached policy to every later
 * request with that token, whatever its path ("Lambda authorizer ... the returned policy is cached and applied to
 * all methods"). So the policy must allow exactly the routes the token may call, all at once: a policy allowing
 * only the first request's method ARN would refuse the next path, one allowing `*` would allow too much.
 *
 * Exact: a route is allowed when its `decide` allows it (FHIR routes), when the token holds the admin scope (admin
 * routes), never otherwise (deny by default). Method ARN patterns use IAM's `*`, which matches any run of
 * characters, `/` included: `GET/STU3/Patient/*` also reaches `GET/STU3/Patient/1/_history/2`, and, with FHIR
 * breadth routes, `GET/STU3/Patient/1/Condition` (a compartment search, decided by Condition's scopes). So every
 * Allow pattern is checked against EVERY route of the table (`globIntersects`: could one request of that route
 * match the pattern?), and each refused route an Allow pattern reaches gets a Deny statement of its own pattern; an
 * explicit Deny wins over any Allow. A Deny may reach a permitted route only on paths no client sends to it (a
 * version id spelt like a resource type), and then it refuses: the error is always on the closed side.
 *
 * Small: API Gateway does not document a size limit for a REST API authorizer's response, so the policy stays under
 * 8 KB for every grant set (policy.test.ts searches for the largest, with today's routes and the FHIR breadth
 * routes: about 5 KB (today's table, with issue 15's search routes) and 6 KB for adversarial per-type mixes; a few hundred bytes for real clients). Listing every
 * permitted method ARN made a writer's policy ~11 KB; instead, the permitted routes are grouped by the literal
 * prefixes of their paths (`/STU3`, `/STU3/Patient`, `/admin`...), whole or per method (`* /STU3/Patient` and
 * `* /STU3/Patient/*`; `GET/STU3/*`), plus Denies for what a group reaches and must not, whenever that is shorter
 * than listing its routes one by one (`cheapest`); then patterns that differ in one segment merge (`merge`).
 * The work that does not depend on the token is done once per route table (`shapeOf`): a policy takes a few ms.
 *
 * Only the route table's method, path, auth, admin, fhir and system fields are read: the function behind a route does not
 * matter, and a route added to the table is covered by the same checks.
 */
import { ROUTES, type Route } from '../../contract/routes';
import { wildcardMatch } from './wildcard';
import { holdsAdminScope } from './admin';
import { decide, decideSystem, type Access } from './permissions';

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
  return `arn:${api.partition}:execute-api:${api.region}:${api.account}:${api.apiId}/${api.stage}/${relativePattern(route)}`;
}

/** Whether this access may call this route: the decision the policy must encode. */
export function routeAllowed(access: Access, route: Route, admin = holdsAdminScope(access.scope)): boolean {
  if (route.auth !== 'authorized') return false;
  if (route.admin) return admin;
  if (route.system) return decideSystem(access, route.system).allowed;
  if (!route.fhir) return false;
  return decide(access, route.fhir.type, route.fhir.interaction).allowed;
}

/** The route patterns (relative to `<apiId>/<stage>/`) of the Allow and Deny statements. */
export interface PolicyPatterns {
  allow: string[];
  deny: string[];
}

/**
 * The patterns for this access, relative to the stage (`GET/STU3/Patient/*`): every permitted route is covered by
 * an Allow pattern, and every refused route that an Allow pattern could reach is covered by a Deny pattern.
 */
export function policyPatterns(access: Access, routes: readonly Route[] = ROUTES): PolicyPatterns {
  const admin = holdsAdminScope(access.scope);
  const table = new RouteTable(shapeOf(routes), (r) => routeAllowed(access, r, admin));
  if (table.allowed.length === 0) return { allow: [], deny: ['*'] };
  if (table.denied.length === 0) return { allow: ['*'], deny: [] };
  const allow = table.merge(table.cheapest(table.root));
  return { allow, deny: compact(table.denies(allow)) };
}

/**
 * The cache-safe policy: an Allow statement of the permitted patterns and, when they reach refused routes, a Deny
 * statement for those; when nothing is permitted, one Deny of every method of the stage.
 */
export function buildPolicy(access: Access, api: MethodArnParts, routes: readonly Route[] = ROUTES): PolicyDocument {
  const { allow, deny } = policyPatterns(access, routes);
  const prefix = `arn:${api.partition}:execute-api:${api.region}:${api.account}:${api.apiId}/${api.stage}/`;
  const statement = (Effect: 'Allow' | 'Deny', patterns: string[]): PolicyStatement => ({
    Action: 'execute-api:Invoke',
    Effect,
    Resource: patterns.map((p) => prefix + p),
  });
  const statements: PolicyStatement[] = [];
  if (allow.length > 0) statements.push(statement('Allow', allow));
  if (deny.length > 0) statements.push(statement('Deny', deny));
  return { Version: '2012-10-17', Statement: statements };
}

const PATTERNS = new WeakMap<Route, string>();
/** `relativePattern`, once per route. */
function patternOf(route: Route): string {
  let pattern = PATTERNS.get(route);
  if (pattern === undefined) PATTERNS.set(route, (pattern = relativePattern(route)));
  return pattern;
}

/** The pattern of one route, relative to the stage: `GET/STU3/Patient/*` for GET /STU3/Patient/{id}. */
export function relativePattern(route: Pick<Route, 'method' | 'path'>): string {
  return `${route.method}/${route.path.replace(/^\//, '').replace(/\{[^}]+\}/g, '*')}`;
}

/** A node of the literal-prefix tree: the routes whose paths start with `prefix` (literal segments). */
interface PrefixNode {
  prefix: string;
  routes: Route[];
  /** Routes whose literal prefix ends here (the path ends, or a path parameter follows). */
  here: Route[];
  children: PrefixNode[];
}

/** `*`: any method. */
type MethodChoice = string;

/**
 * What does not depend on the token, worked out once per route table: its authorized routes, their prefix tree,
 * and which routes each pattern can reach.
 */
interface TableShape {
  routes: Route[];
  root: PrefixNode;
  /** Pattern -> the routes some request of which it could match. */
  reach: Map<string, Set<Route>>;
}

const SHAPES = new WeakMap<readonly Route[], TableShape>();
function shapeOf(all: readonly Route[]): TableShape {
  let shape = SHAPES.get(all);
  if (!shape) {
    const routes = all.filter((r) => r.auth === 'authorized');
    SHAPES.set(all, (shape = { routes, root: prefixTree('', routes), reach: new Map() }));
  }
  return shape;
}

class RouteTable {
  readonly routes: readonly Route[];
  readonly allowed: Route[];
  readonly denied: Route[];
  readonly root: PrefixNode;
  private readonly reach = new Map<string, Route[]>();
  private readonly memo = new Map<string, string[]>();
  private readonly costs = new Map<string, number>();
  private readonly breaking = new Map<string, boolean>();

  constructor(
    private readonly shape: TableShape,
    private readonly isAllowed: (route: Route) => boolean,
  ) {
    this.routes = shape.routes;
    this.allowed = shape.routes.filter(isAllowed);
    this.denied = shape.routes.filter((r) => !isAllowed(r));
    this.root = shape.root;
  }

  /**
   * The cheapest Allow patterns (in policy bytes, counting the Denies they bring) that cover the permitted routes
   * of this method (`*`: all) under this node, choosing among: the whole prefix at once (`GET/STU3/Patient` and
   * `GET/STU3/Patient/*`); each method on its own; each child prefix and each route here on its own.
   */
  cheapest(node: PrefixNode, method: MethodChoice = '*'): string[] {
    const key = `${method} ${node.prefix}`;
    let best = this.memo.get(key);
    if (!best) this.memo.set(key, (best = this.choose(node, method)));
    return best;
  }

  private choose(node: PrefixNode, method: MethodChoice): string[] {
    const wanted = node.routes.filter((r) => this.isAllowed(r) && (method === '*' || r.method === method));
    if (wanted.length === 0) return [];
    const base = node.prefix === '' ? method : `${method}/${node.prefix}`;
    // Listing each route here and recursing first: on a tie (or when every option breaks a route), the most precise.
    const options: string[][] = [
      compact([
        ...node.here.filter((r) => this.isAllowed(r) && (method === '*' || r.method === method)).map(patternOf),
        ...node.children.flatMap((child) => this.cheapest(child, method)),
      ]),
    ];
    if (node.prefix === '') options.push([method === '*' ? '*' : `${method}/*`]);
    else {
      const exact = wanted.some((r) => r.path === `/${node.prefix}`);
      const deeper = wanted.some((r) => r.path !== `/${node.prefix}`);
      options.push([...(exact ? [base] : []), ...(deeper ? [`${base}/*`] : [])]);
    }
    if (method === '*') {
      const methods = [...new Set(wanted.map((r) => r.method))];
      options.push(methods.flatMap((m) => this.cheapest(node, m)));
    }
    return options.reduce((best, option) => (this.cost(option) < this.cost(best) ? option : best));
  }

  /** The Deny patterns these Allow patterns need: one per refused route they could reach. */
  denies(allow: readonly string[]): string[] {
    const reached = new Set(allow.flatMap((p) => this.reached(p)));
    return [...new Set(this.denied.filter((r) => reached.has(r)).map(patternOf))];
  }

  /**
   * Policy bytes of these Allow patterns and the Denies they bring; infinite when a Deny would refuse a permitted
   * route on the paths clients send (its path with an ordinary id): `GET/STU3/Patient/*`, the Deny of a refused
   * read, would also refuse a permitted `GET /STU3/Patient/{id}/$everything`.
   */
  private cost(allow: readonly string[]): number {
    const key = allow.join(' ');
    let cost = this.costs.get(key);
    if (cost === undefined) this.costs.set(key, (cost = this.computeCost(allow)));
    return cost;
  }

  private computeCost(allow: readonly string[]): number {
    const bytes = (patterns: readonly string[]) => patterns.reduce((n, p) => n + p.length + ARN_OVERHEAD, 0);
    const deny = this.denies(allow);
    if (deny.some((p) => this.breaksAllowed(p))) return Infinity;
    return bytes(allow) + bytes(deny);
  }

  private breaksAllowed(denyPattern: string): boolean {
    let breaks = this.breaking.get(denyPattern);
    if (breaks === undefined) {
      breaks = this.allowed.some((route) => wildcardMatch(denyPattern, ordinaryPath(route)));
      this.breaking.set(denyPattern, breaks);
    }
    return breaks;
  }

  /**
   * The refused routes some request of which could match the pattern (a search over both automata). A pattern
   * without wildcards is one path, which API Gateway serves by its most specific route (literal segments before
   * parameters): `GET/STU3/Patient/_history` is the type history, never a read of the id `_history`.
   */
  private reached(pattern: string): Route[] {
    let routes = this.reach.get(pattern);
    if (!routes) {
      let all = this.shape.reach.get(pattern);
      if (!all) {
        const served = /[*?]/.test(pattern) ? undefined : servingRoute(this.routes, pattern);
        all = new Set(/[*?]/.test(pattern) ? this.routes.filter((route) => globIntersects(pattern, tokensOf(route))) : served ? [served] : []);
        this.shape.reach.set(pattern, all);
      }
      routes = this.denied.filter((route) => all.has(route));
      this.reach.set(pattern, routes);
    }
    return routes;
  }

  /**
   * Fewer patterns where a permission holds across siblings: Allow patterns that differ in one literal segment
   * (`POST/STU3/Patient/_search`, `POST/STU3/Condition/_search`) become one with `*` there
   * (`POST/STU3/* /_search`) whenever that makes the policy smaller, Denies included.
   */
  merge(allow: readonly string[]): string[] {
    let best = [...allow];
    let bestCost = this.cost(best);
    for (let improved = true; improved; ) {
      improved = false;
      const groups = new Map<string, string[]>();
      for (const pattern of best) {
        const parts = pattern.split('/');
        for (let k = 1; k < parts.length; k++) {
          if (parts[k] === '*') continue;
          const shape = [...parts.slice(0, k), '*', ...parts.slice(k + 1)].join('/');
          groups.set(shape, [...(groups.get(shape) ?? []), pattern]);
        }
      }
      for (const [shape, members] of groups) {
        if (members.length < 2) continue;
        const candidate = compact([...best.filter((p) => !members.includes(p)), shape]);
        const cost = this.cost(candidate);
        if (cost < bestCost) {
          best = candidate;
          bestCost = cost;
          improved = true;
          break;
        }
      }
    }
    return best;
  }
}

/** The route API Gateway runs for a method and path (`GET/STU3/Patient/1`): literal segments win over parameters. */
function servingRoute(routes: readonly Route[], methodAndPath: string): Route | undefined {
  const [method, ...segments] = methodAndPath.split('/');
  let best: { route: Route; rank: string } | undefined;
  for (const route of routes) {
    const parts = route.path.split('/').slice(1);
    if (route.method !== method || parts.length !== segments.length) continue;
    if (!parts.every((p, i) => p.startsWith('{') || p === segments[i])) continue;
    const rank = parts.map((p) => (p.startsWith('{') ? '0' : '1')).join('');
    if (!best || rank > best.rank) best = { route, rank };
  }
  return best?.route;
}

/** A path of the route as clients send it: each parameter an ordinary id. */
const ORDINARY = new WeakMap<Route, string>();
function ordinaryPath(route: Route): string {
  let path = ORDINARY.get(route);
  if (path === undefined) ORDINARY.set(route, (path = relativePattern(route).replaceAll('*', '1')));
  return path;
}

/** Per pattern, what it adds besides itself: the ARN prefix (~60 characters) and JSON quoting. */
const ARN_OVERHEAD = 64;

/** The patterns without duplicates and without those another one covers (`GET/STU3/T/*` covers `GET/STU3/T/* /_history`). */
function compact(patterns: readonly string[]): string[] {
  const distinct = [...new Set(patterns)];
  // Covered: matching the other pattern with each `*` standing for itself (a sentinel only a `*` can absorb).
  const covers = (wide: string, narrow: string) => wide !== narrow && wildcardCovers(wide, narrow);
  return distinct.filter((p) => !distinct.some((q) => covers(q, p)));
}

/** Whether every string `narrow` matches also matches `wide` (both `*`-only patterns): `*` in `narrow` is a sentinel. */
function wildcardCovers(wide: string, narrow: string): boolean {
  // Quick refusal: what `wide` spells before its first `*` must begin `narrow`.
  const star = wide.indexOf('*');
  if (star === -1) return wide === narrow;
  if (!narrow.startsWith(wide.slice(0, star))) return false;
  // The patterns here have no `?`, so a literal of `wide` never matches the sentinel and only a `*` absorbs it.
  return wildcardMatch(wide, narrow.replaceAll('*', '\u0000'));
}

function prefixTree(prefix: string, routes: readonly Route[]): PrefixNode {
  const depth = prefix === '' ? 0 : prefix.split('/').length;
  const here: Route[] = [];
  const byChild = new Map<string, Route[]>();
  for (const route of routes) {
    const segment = route.path.split('/').slice(1)[depth];
    if (segment === undefined || segment === '' || segment.startsWith('{')) here.push(route);
    else byChild.set(segment, [...(byChild.get(segment) ?? []), route]);
  }
  const children = [...byChild].map(([segment, rs]) => prefixTree(prefix === '' ? segment : `${prefix}/${segment}`, rs));
  return { prefix, routes: [...routes], here, children };
}

/**
 * A route as what its method ARN tail can be: literal characters, `seg` for a path parameter (one or more
 * characters other than `/`), `any` for a greedy `{name+}` parameter (one or more of anything).
 */
type RouteToken = string | { param: 'seg' | 'any' };

const TOKENS = new WeakMap<Route, RouteToken[]>();
function tokensOf(route: Route): RouteToken[] {
  let tokens = TOKENS.get(route);
  if (!tokens) TOKENS.set(route, (tokens = routeTokens(route)));
  return tokens;
}

function routeTokens(route: Pick<Route, 'method' | 'path'>): RouteToken[] {
  const tokens: RouteToken[] = [...`${route.method}/`];
  route.path
    .replace(/^\//, '')
    .split(/(\{[^}]+\})/)
    .forEach((part) => {
      if (part.startsWith('{')) tokens.push({ param: part.endsWith('+}') ? 'any' : 'seg' });
      else tokens.push(...part);
    });
  return tokens;
}

/**
 * Whether an IAM pattern (`*` any run, `?` one character) and a route's tokens share a string: a depth-first walk
 * over the pairs of positions (the product of the two automata), each state (pattern position, route position,
 * inside a parameter) visited once.
 */
export function globIntersects(pattern: string, route: readonly RouteToken[]): boolean {
  // Quick refusal: the literal beginnings of both must agree as far as both go.
  for (let k = 0; k < pattern.length && k < route.length; k++) {
    const p = pattern[k];
    const t = route[k];
    if (p === '*' || p === '?' || typeof t !== 'string') break;
    if (p !== t) return false;
  }
  const width = route.length + 1;
  const seen = new Uint8Array((pattern.length + 1) * width * 2);
  const stack: number[] = [0, 0, 0];
  const push = (i: number, j: number, inParam: number) => {
    const state = (i * width + j) * 2 + inParam;
    if (seen[state]) return;
    seen[state] = 1;
    stack.push(i, j, inParam);
  };
  while (stack.length > 0) {
    const inParam = stack.pop()!;
    const j = stack.pop()!;
    const i = stack.pop()!;
    if (i === pattern.length && j === route.length) return true;
    const token = route[j];
    // A parameter that has consumed a character may end.
    if (inParam && typeof token === 'object') push(i, j + 1, 0);
    const p = pattern[i];
    if (p === '*') push(i + 1, j, inParam);
    if (p === undefined || token === undefined) continue;
    // One character, consumed by both sides: a literal must agree; a parameter takes any character but `/`.
    const char = p === '*' || p === '?' ? undefined : p;
    const accepts = typeof token === 'string' ? char === undefined || char === token : char === undefined || token.param === 'any' || char !== '/';
    if (!accepts) continue;
    const next = p === '*' ? i : i + 1;
    if (typeof token === 'string') push(next, j + 1, 0);
    else push(next, j, 1);
  }
  return false;
}
