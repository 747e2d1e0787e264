import { describe, expect, it } from 'vitest';
import { evaluatePolicy } from '../../local/policy';
import { ROUTES } from '../../contract/routes';
import { ADMIN_SCOPE, holdsAdminScope } from './admin';
import { accessFromClaims } from './permissions';
import { buildPolicy, parseMethodArn, routeArnPattern } from './policy';

const PREFIX = 'arn:aws:execute-api:eu-west-2:123456789012:abc123/prod';
const api = parseMethodArn(`${PREFIX}/GET/admin/clients`)!;
const adminRoutes = ROUTES.filter((r) => r.admin);
const concrete = (path: string) => path.replace('{clientId}', 'c1').replace('{name}', 'ccri/medications.read');

describe('the admin scope', () => {
  it('is held only as an exact scope token', () => {
    expect(holdsAdminScope(`profile ${ADMIN_SCOPE}`)).toBe(true);
    expect(holdsAdminScope('ccri/admin2 ccri/Admin user/*.*')).toBe(false);
    expect(holdsAdminScope(undefined)).toBe(false);
  });
});

describe('the policy for admin routes', () => {
  it.each(adminRoutes.map((r) => [r.method, r.path] as const))('allows %s %s to a token holding the admin scope only', (method, path) => {
    const arn = `${PREFIX}/${method}${concrete(path)}`;
    const admin = buildPolicy(accessFromClaims({ clientId: 'a', scope: ADMIN_SCOPE }), api);
    const superuser = buildPolicy(accessFromClaims({ clientId: 'b', scope: 'system/*.* user/*.* openid profile' }), api);
    expect(evaluatePolicy(admin, arn)).toBe('allow');
    expect(evaluatePolicy(superuser, arn)).not.toBe('allow');
  });

  it('gives the admin scope no FHIR access beyond the public information types', () => {
    const policy = buildPolicy(accessFromClaims({ clientId: 'a', scope: ADMIN_SCOPE }), api);
    expect(evaluatePolicy(policy, `${PREFIX}/GET/STU3/Patient/1`)).toBe('implicit-deny');
    expect(evaluatePolicy(policy, `${PREFIX}/GET/STU3/Organization/1`)).toBe('allow');
  });

  it('lists admin patterns that reach no FHIR route (the admin API, and the AuditEvent search)', () => {
    const patterns = adminRoutes.map((r) => routeArnPattern(api, r));
    expect(patterns.every((p) => /\/(GET|POST|PUT|PATCH|DELETE)\/(admin\/|STU3\/AuditEvent$)/.test(p))).toBe(true);
  });
});
