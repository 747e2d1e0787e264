/**
 * The admin scope: a token holding it may call the admin API (`/admin/...`, routes marked `admin: true` in
 * contract/routes.ts). Only a client registered with it gets it (the token endpoint grants registered scopes only), and
 * only the admin API, so only an admin, can register a client with it. It grants no FHIR access by itself.
 *
 * Checked twice: the authorizer lists the admin routes' method ARNs in its policy only for a token holding it
 * (policy.ts), and the admin function re-checks it from the authorizer context (defence in depth).
 */
import { splitScope } from './scopes';

/** The scope that opens the admin API. Reserved: no scope definition may take this name. */
export const ADMIN_SCOPE = 'ccri/admin';

/** Whether a space-separated scope claim holds the admin scope (exact, case-sensitive token match). */
export function holdsAdminScope(scope: string | undefined | null): boolean {
  return splitScope(scope).includes(ADMIN_SCOPE);
}
