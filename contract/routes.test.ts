import { describe, expect, it } from 'vitest';
import { RESOURCE_TYPES } from './resource-types';
import { ROUTES } from './routes';
import { gatewayPath, routeOfGateway } from './gateway-paths';

/** The path parameters API Gateway extracts from a concrete route template on its resource path. */
function parametersOf(template: string, resource: string): Record<string, string> {
  const parts = resource.split('/');
  const concrete = template.split('/');
  const parameters: Record<string, string> = {};
  parts.forEach((part, i) => {
    if (part.startsWith('{')) parameters[part.slice(1, -1)] = concrete[i]!.startsWith('{') ? 'x1' : concrete[i]!;
  });
  return parameters;
}

describe('the API Gateway resource tree of the route table', () => {
  it('puts the 14 types on one {type} tree: a dozen FHIR resource paths, whatever the number of types', () => {
    const fhirPaths = new Set(ROUTES.filter((r) => r.fhir).map(gatewayPath));
    expect([...fhirPaths].sort()).toEqual([
      '/STU3/{type}',
      '/STU3/{type}/$validate',
      '/STU3/{type}/_history',
      '/STU3/{type}/_search',
      '/STU3/{type}/{id}',
      '/STU3/{type}/{id}/$everything',
      '/STU3/{type}/{id}/$validate',
      '/STU3/{type}/{id}/_history',
      '/STU3/{type}/{id}/_history/{vid}',
      '/STU3/{type}/{id}/{compartment}',
    ]);
    expect(RESOURCE_TYPES.length).toBe(14);
  });

  it('keeps every other route its own resource path', () => {
    for (const route of ROUTES.filter((r) => !r.fhir)) expect(gatewayPath(route)).toBe(route.path);
  });

  it('gives each (resource path, method) one function and one auth, so one API Gateway method serves them all', () => {
    const seen = new Map<string, string>();
    for (const route of ROUTES) {
      const key = `${route.method} ${gatewayPath(route)}`;
      const value = `${route.function} ${route.auth}`;
      expect(seen.get(key) ?? value, key).toBe(value);
      seen.set(key, value);
    }
  });

  it.each(ROUTES.map((r) => [`${r.method} ${r.path}`, r] as const))('%s: a request on its resource path resolves back to it', (_, route) => {
    const resource = gatewayPath(route);
    const resolved = routeOfGateway(resource, parametersOf(route.path, resource));
    expect(resolved?.route).toBe(route.path);
    // Only the parameters the template names are left: `type` and `compartment` are in the template itself.
    const names = [...route.path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
    expect(Object.keys(resolved!.pathParameters).sort()).toEqual(names.sort());
  });

  it.each([
    ['an unknown type', '/STU3/{type}/{id}', { type: 'Nothing', id: '1' }],
    ['a type in the wrong case', '/STU3/{type}', { type: 'patient' }],
    ['an inherited property name as type', '/STU3/{type}', { type: 'constructor' }],
    ['a compartment search under another type', '/STU3/{type}/{id}/{compartment}', { type: 'Observation', id: '1', compartment: 'Condition' }],
    ['an unknown compartment type', '/STU3/{type}/{id}/{compartment}', { type: 'Patient', id: '1', compartment: 'Nothing' }],
    ['a type outside the patient compartment', '/STU3/{type}/{id}/{compartment}', { type: 'Patient', id: '1', compartment: 'Medication' }],
    ['$everything of another type', '/STU3/{type}/{id}/$everything', { type: 'Observation', id: '1' }],
    ['no type', '/STU3/{type}/{id}', { id: '1' }],
  ])('resolves %s to no route', (_, resource, parameters) => {
    expect(routeOfGateway(resource, parameters)).toBeUndefined();
  });
});
