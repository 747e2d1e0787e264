/**
 * The metadata function: `GET /STU3/metadata` (the CapabilityStatement) and `GET /STU3/.well-known/smart-configuration`
 * (SMART discovery, built by functions/oauth). Public routes: no token.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { errorResponse, fhirResponse, negotiate } from '../fhir/http';
import { NotAcceptableError, NotFoundError } from '../fhir/errors';
import { responseFormat } from '../fhir-model/format';
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
        // The FHIR function serves XML too; this small public function keeps to JSON (the model would triple it).
        if (responseFormat(req) === 'xml') throw new NotAcceptableError('The CapabilityStatement is served as application/fhir+json only; resources are served in XML too');
        return toProxyResult(fhirResponse(200, capabilityStatement({ baseUrl }), { 'Cache-Control': 'public, max-age=300' }), req);
      }
      throw new NotFoundError(`No route for ${req.path}`);
    } catch (err) {
      return toProxyResult(errorResponse(err), req);
    }
  };
}
