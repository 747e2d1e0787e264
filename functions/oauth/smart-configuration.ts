/**
 * `GET /STU3/.well-known/smart-configuration`: SMART App Launch 2.x discovery
 * (https://hl7.org/fhir/smart-app-launch/conformance.html). A pure builder; the metadata function serves it.
 *
 * This server offers the SMART Backend Services profile only: client_credentials with a client secret or a signed
 * client assertion (private_key_jwt), no
 * authorization endpoint (so no EHR or standalone launch, no `authorization_endpoint`).
 */
import { FHIR_BASE_PATH } from '../../contract/routes';
import { ASSERTION_SIGNING_ALGS } from './client-assertion';

/** The SMART App Launch 2.x discovery document (the members this server uses). */
export interface SmartConfiguration {
  issuer: string;
  jwks_uri: string;
  token_endpoint: string;
  grant_types_supported: string[];
  token_endpoint_auth_methods_supported: string[];
  /** The algorithms accepted on private_key_jwt client assertions (SMART Backend Services: RS384, ES384). */
  token_endpoint_auth_signing_alg_values_supported: string[];
  scopes_supported: string[];
  /** REQUIRED by SMART 2.x; empty: there is no authorization endpoint, so no response type is supported. */
  response_types_supported: string[];
  capabilities: string[];
  /** REQUIRED by SMART 2.x (S256, never plain), although no flow here uses PKCE yet. */
  code_challenge_methods_supported: string[];
}

/** The scopes advertised by default: SMART v1 and v2 wildcards in each context, and `profile`. */
export const DEFAULT_SCOPES_SUPPORTED: readonly string[] = [
  'profile',
  ...['patient', 'user', 'system'].flatMap((ctx) => [
    `${ctx}/*.read`,
    `${ctx}/*.write`,
    `${ctx}/*.*`,
    `${ctx}/*.rs`,
    `${ctx}/*.cruds`,
  ]),
];

export interface SmartConfigurationOptions {
  /** The API base URL the client called (or the configured public URL), e.g. `https://api.example.org/prod`. */
  baseUrl: string;
  /** The token issuer when configured apart from the base URL (must equal the token's `iss`). */
  issuer?: string;
  /** Scopes to advertise; default `DEFAULT_SCOPES_SUPPORTED`. */
  scopesSupported?: readonly string[];
}

export function smartConfiguration(options: SmartConfigurationOptions): SmartConfiguration {
  const base = options.baseUrl.replace(/\/+$/, '');
  return {
    issuer: (options.issuer || base).replace(/\/+$/, ''),
    jwks_uri: `${base}/.well-known/jwks.json`,
    token_endpoint: `${base}/oauth2/token`,
    grant_types_supported: ['client_credentials'],
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'private_key_jwt'],
    token_endpoint_auth_signing_alg_values_supported: [...ASSERTION_SIGNING_ALGS],
    scopes_supported: [...(options.scopesSupported ?? DEFAULT_SCOPES_SUPPORTED)],
    response_types_supported: [],
    capabilities: [
      'client-confidential-symmetric',
      'client-confidential-asymmetric',
      'permission-v1',
      'permission-v2',
      'permission-patient',
      'permission-user',
    ],
    code_challenge_methods_supported: ['S256'],
  };
}

/** The path of the discovery document, relative to the API base URL. */
export const SMART_CONFIGURATION_PATH = `${FHIR_BASE_PATH}/.well-known/smart-configuration`;
