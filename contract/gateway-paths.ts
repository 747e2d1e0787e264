/**
 * API Gateway's resource tree of the route table: the 14 FHIR types share one `{type}` tree (docs/fhir-api.md "One
 * resource tree for every type"). The CDK API (lib/api.ts) and the local gateway build it with `gatewayPath`; the FHIR
 * function resolves a request back to the route table's template with `routeOfGateway`. Apart from routes.ts so
 * that the authorizer, which needs only the table, does not carry it.
 */
import { FHIR_BASE_PATH } from './paths';
import { isResourceType } from './resource-types';
import { ROUTES, type Route } from './routes';

/**
 * API Gateway's resource path of a route. The FHIR routes of the 14 types share one resource tree: the type is a
 * `{type}` path parameter and the patient compartment's type a `{compartment}` parameter
 * (`/STU3/Patient/{id}/Condition` -> `/STU3/{type}/{id}/{compartment}`), so the API holds a dozen resources rather
 * than 14 copies of each (CloudFormation's 500 resources; docs/fhir-api.md "One resource tree"). Other routes are
 * their own resource path. Static siblings (`metadata`, `_history`, `$everything`, ...) win over `{...}` ones.
 */
export function gatewayPath(route: Pick<Route, 'path'>): string {
  const parts = route.path.split('/');
  if (`/${parts[1]}` !== FHIR_BASE_PATH) return route.path;
  if (parts[2] !== undefined && isResourceType(parts[2])) parts[2] = '{type}';
  if (parts[4] !== undefined && isResourceType(parts[4])) parts[4] = '{compartment}';
  return parts.join('/');
}

/** Route template by gateway path, type and compartment (`/STU3/{type}/{id}\nPatient\n` -> `/STU3/Patient/{id}`). */
const TEMPLATES = new Map(ROUTES.map((r) => [templateKey(gatewayPath(r), r.path.split('/')[2], r.path.split('/')[4]), r.path]));

function templateKey(resource: string, type: string | undefined, compartment: string | undefined): string {
  return resource.includes('{type}') ? `${resource}\n${type}\n${resource.includes('{compartment}') ? compartment : ''}` : resource;
}

/**
 * The inverse of `gatewayPath`, on a request: API Gateway's resource and path parameters back to the route table's
 * template and the parameters the template names (`/STU3/{type}/{id}` + `{ type: 'Patient', id: '1' }` ->
 * `/STU3/Patient/{id}` + `{ id: '1' }`). A type or compartment the route table does not serve there: undefined.
 */
export function routeOfGateway(
  resource: string,
  pathParameters: Readonly<Record<string, string>>,
): { route: string; pathParameters: Record<string, string> } | undefined {
  if (!resource.includes('{type}')) return { route: resource, pathParameters: { ...pathParameters } };
  const { type, compartment, ...rest } = pathParameters;
  const route = TEMPLATES.get(templateKey(resource, type, compartment));
  return route === undefined ? undefined : { route, pathParameters: rest };
}
