/**
 * The API's base paths, apart from the route table (routes.ts re-exports them): a bundle that needs only a path
 * (the token function: the token audience is the issuer + FHIR_BASE_PATH) does not carry the whole table.
 */
export const FHIR_BASE_PATH = '/STU3';
