/**
 * API Gateway's `{type}` resource back to the route table's template (contract/routes.ts `routeOfGateway`), for the
 * one function whose routes share that tree (the FHIR function). Apart from `toHttpRequest` so that the functions
 * that never see a `{type}` resource (token, admin, jwks, seed, explorer) do not carry the route table.
 */
import { routeOfGateway } from '../../contract/gateway-paths';
import type { HttpRequest } from './index';

/** The request with `route` as the route table names it and without the literal `type`/`compartment` parameters; unchanged when no route matches. */
export function withRouteTemplate(req: HttpRequest): HttpRequest {
  const resolved = routeOfGateway(req.route, req.pathParameters);
  return resolved ? { ...req, route: resolved.route, pathParameters: resolved.pathParameters } : req;
}
