/**
 * The metadata function: `GET /STU3/metadata` (the CapabilityStatement) and `GET /STU3/.well-known/smart-configuration`
 * (SMART discovery, built by functions/oauth). Public routes: no token.
 *
 * The CapabilityStatement and its errors (OperationOutcome) are FHIR: JSON, or XML by `Accept` / `_format`, through
 * the same writer as the resources (functions/fhir-model/negotiation.ts). The XML writer and the model are imported
 * on the first XML request only (a chunk of its own in the deployed bundle), so the JSON answer stays small and
 * fast at init. The SMART configuration is plain JSON (a SMART document, not a FHIR resource).
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { errorResponse, fhirResponse, negotiate } from '../fhir/http';
import { NotFoundError } from '../fhir/errors';
import { writeRepresentation } from '../fhir-model/negotiation';
import { jsonResponse, toHttpRequest, toProxyResult } from '../http';
import { smartConfiguration, SMART_CONFIGURATION_PATH } from '../oauth/smart-configuration';
import { capabilityStatement } from './capability-statement';

export interface MetadataDeps {
  /** The public base URL, when the API sits behind a custom domain; default: the URL the client called. */
  baseUrl?: string;
  /** The token issuer when it differs from the base URL. */
  issuer?: string;
}

export function createMetadataHandler(deps: MetadataDeps = {}) {
  return async (event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> => {
    const req = toHttpRequest(event);
    const baseUrl = deps.baseUrl ?? req.baseUrl;
    try {
      if (req.route === SMART_CONFIGURATION_PATH || req.path.endsWith('/.well-known/smart-configuration')) {
        return toProxyResult(jsonResponse(200, smartConfiguration({ baseUrl, issuer: deps.issuer }), { 'Cache-Control': 'public, max-age=300' }), req);
      }
      if (req.path.endsWith('/metadata')) {
        negotiate(req);
        const response = fhirResponse(200, capabilityStatement({ baseUrl }), { 'Cache-Control': 'public, max-age=300', Vary: 'Accept' });
        return toProxyResult(await writeRepresentation(req, response), req);
      }
      throw new NotFoundError(`No route for ${req.path}`);
    } catch (err) {
      return toProxyResult(await writeRepresentation(req, errorResponse(err)).catch(() => errorResponse(err)), req);
    }
  };
}
