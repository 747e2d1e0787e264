/**
 * The FHIR API's rules for request bodies, over THE body reader (functions/http/body.ts): its 400, 413 and 415 as
 * OperationOutcomes (functions/fhir/errors.ts). Each body-taking route names what it accepts: resources and Bundles
 * JSON (functions/fhir/http.ts `parseBody`), XML too before conversion (functions/fhir-model/negotiation.ts), JSON
 * Patch (functions/fhir/patch.ts), a `_search` form (functions/fhir/http.ts `withFormQuery`).
 */
import type { BodyRules } from '../http/body';
import { BadRequestError, TooLargeError, UnsupportedMediaTypeError } from './errors';

/** FHIR body rules: at most `maxBytes`, of the media types `accepts` takes; a 415 says `unsupported(contentType)`. */
export function fhirBodyRules(
  maxBytes: number,
  accepts: BodyRules['accepts'],
  unsupported: (contentType: string | undefined) => string,
): BodyRules {
  return {
    maxBytes,
    accepts,
    tooLarge: (max) => new TooLargeError(`The request body is over ${max} bytes`),
    unsupported: (contentType) => new UnsupportedMediaTypeError(unsupported(contentType)),
    malformed: (message) => new BadRequestError(message),
  };
}
