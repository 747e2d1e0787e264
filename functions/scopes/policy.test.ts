import { describe, expect, it } from 'vitest';
import { evaluatePolicy } from '../../local/policy';
import { ROUTES, type Route } from '../../lib/routes';
import { DEMO_CLIENTS } from './demo-clients.fixture';
import { accessFromClaims, decide, type Access } from './permissions';
import { allowedArnPatterns, buildPolicy, parseMethodArn, routeArnPattern } from './policy';

const API = parseMethodArn('arn:aws:execute-api:eu-west-2:123456789012:abc123/prod/GET/STU3/Patient/1')!;
const PREFIX = 'arn:aws:execute-api:eu-west-2:123456789012:abc123/prod';

/** Concrete method ARNs a request to this route could carry, including ids that look like other routes' literals. */
function sampleArns(route: Route): string[] {
  const ids = ['1', 'abc-DEF.9', '$validate', '_history', 'metadata'];
  return ids.map((id) => `${PREFIX}/${route.method}${route.path.replace(/\{[^}]+\}/g, id)}`);
}

const access = (scope: string, patient?: string, strictPatientScopes = false): Access =>
  accessFromClaims({ clientId: 'c', scope, ...(patient ? { patient } : {}) }, { strictPatientScopes });

const MATRIX: Array<{ name: string; access: Access }> = [
  ...DEMO_CLIENTS.flatMap((client) => [
    { name: `${client.name}`, access: access(client.scope) },
    { name: `${client.name}, bound to a patient`, access: access(client.scope, '42') },
    { name: `${client.name}, strict`, access: access(client.scope, undefined, true) },
  ]),
  ...[
    'user/Patient.c',
    'user/Patient.u',
    'user/Patient.d',
    'user/Patient.r',
    'user/Patient.s',
    'user/Patient.cd',
    'user/Patient.write',
    'user/Condition.cruds',
    'patient/*.write',
    'system/*.*',
    'user/*.rs user/Observation.c',
    'user/Organization.write',
    'user/MedicationOrder.*',
    'user/Binary.read junk profile',
  ].map((scope) => ({ name: scope, access: access(scope) })),
];

const authorizedRoutes = ROUTES.filter((r) => r.auth === 'authorized' && r.fhir);

describe.each(MATRIX)('the policy of "$name"', ({ access: a }) => {
  const policy = buildPolicy(a, API);

  it.each(authorizedRoutes.map((route) => ({ route, label: `${route.method} ${route.path}` })))(
    'allows $label exactly when the decision allows it, on every concrete path',
    ({ route }) => {
      const allowed = decide(a, route.fhir!.type, route.fhir!.interaction).allowed;
      for (const arn of sampleArns(route)) {
        expect(evaluatePolicy(policy, arn), arn).toBe(allowed ? 'allow' : 'implicit-deny');
      }
    },
  );

  it('allows nothing outside its API and stage', () => {
    expect(evaluatePolicy(policy, 'arn:aws:execute-api:eu-west-2:123456789012:other/prod/GET/STU3/Organization')).not.toBe('allow');
    expect(evaluatePolicy(policy, 'arn:aws:execute-api:eu-west-2:123456789012:abc123/dev/GET/STU3/Organization')).not.toBe('allow');
    expect(evaluatePolicy(policy, `${PREFIX}/GET/STU3/Organizations`)).not.toBe('allow');
  });
});

describe('buildPolicy', () => {
  it('lists one ARN per allowed route, path parameters as *', () => {
    expect(allowedArnPatterns(access('user/Patient.read'), API).filter((arn) => arn.includes('/Patient'))).toEqual([
      `${PREFIX}/GET/STU3/Patient`,
      `${PREFIX}/GET/STU3/Patient/*`,
      `${PREFIX}/GET/STU3/Patient/*/_history`,
      `${PREFIX}/GET/STU3/Patient/*/_history/*`,
    ]);
    expect(allowedArnPatterns(access('user/Patient.c'), API).filter((arn) => arn.includes('/Patient'))).toEqual([
      `${PREFIX}/POST/STU3/Patient`,
      `${PREFIX}/POST/STU3/Patient/$validate`,
      `${PREFIX}/POST/STU3/Patient/*/$validate`,
    ]);
  });

  it('is one Allow statement', () => {
    const policy = buildPolicy(access('profile'), API);
    expect(policy.Version).toBe('2012-10-17');
    expect(policy.Statement).toHaveLength(1);
    expect(policy.Statement[0]).toMatchObject({ Action: 'execute-api:Invoke', Effect: 'Allow' });
    // profile alone: read/vread/history/search of the 5 public types.
    expect(policy.Statement[0]!.Resource).toHaveLength(5 * 4);
  });

  it('is a Deny of the whole stage when nothing is allowed', () => {
    const routes = ROUTES.filter((r) => r.fhir?.type === 'Condition');
    expect(buildPolicy(access('profile'), API, routes)).toEqual({
      Version: '2012-10-17',
      Statement: [{ Action: 'execute-api:Invoke', Effect: 'Deny', Resource: [`${PREFIX}/*`] }],
    });
  });

  it('never lists public or non-FHIR routes', () => {
    const all = allowedArnPatterns(access('system/*.*'), API);
    expect(all.some((arn) => arn.includes('oauth2') || arn.includes('metadata') || arn.includes('.well-known'))).toBe(false);
    expect(all).toHaveLength(authorizedRoutes.length);
  });
});

describe('parseMethodArn', () => {
  it('splits a method ARN', () => {
    expect(parseMethodArn('arn:aws:execute-api:local:000000000000:local/local/POST/STU3/Patient/$validate')).toEqual({
      partition: 'aws',
      region: 'local',
      account: '000000000000',
      apiId: 'local',
      stage: 'local',
      method: 'POST',
      path: 'STU3/Patient/$validate',
    });
    expect(routeArnPattern(API, { method: 'GET', path: '/STU3/Patient/{id}/_history/{vid}' })).toBe(
      `${PREFIX}/GET/STU3/Patient/*/_history/*`,
    );
  });
  it.each(['', 'arn:aws:lambda:eu-west-2:123456789012:function:x', 'arn:aws:execute-api:eu-west-2:123:abc/prod/GET/x', 'garbage'])(
    'returns undefined for %j',
    (arn) => {
      expect(parseMethodArn(arn)).toBeUndefined();
    },
  );
});
