/** The fuzz suite's invariant checker on hand-made answers: it must see each kind of violation, and no false one. */
import { describe, expect, it } from 'vitest';
import { checkResponse, isTokenRoute, type FuzzRequest, type FuzzResponse } from './model';

const fhirGet: FuzzRequest = { method: 'GET', path: '/STU3/Patient/1', headers: {}, label: '' };
const tokenPost: FuzzRequest = { method: 'POST', path: '/oauth2/token', headers: {}, label: '' };
const json = (status: number, body: unknown, contentType = 'application/fhir+json'): FuzzResponse => ({
  status,
  headers: { 'content-type': contentType },
  body: typeof body === 'string' ? body : JSON.stringify(body),
});
const outcome = { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'not-found' }] };
const rules = (req: FuzzRequest, res: FuzzResponse, options = {}) => checkResponse(req, res, options).map((v) => v.rule);

describe('checkResponse', () => {
  it.each<[string, FuzzRequest, FuzzResponse, string[]]>([
    ['a FHIR 404 OperationOutcome', fhirGet, json(404, outcome), []],
    ['a token 401 OAuth error', tokenPost, json(401, { error: 'invalid_client', error_description: 'x' }, 'application/json'), []],
    ['the gateway 413 on the token route', tokenPost, json(413, { ...outcome, issue: [{ severity: 'error', code: 'too-costly' }] }), []],
    ['a 500', fhirGet, json(500, outcome), ['no-5xx']],
    ['a 502 of the gateway', fhirGet, json(502, outcome), ['no-5xx']],
    ['a FHIR error that is not an OperationOutcome', fhirGet, json(400, { message: 'bad' }), ['operation-outcome-body']],
    ['a token error that is not an OAuth error', tokenPost, json(400, outcome), ['oauth-error-body']],
    ['an OAuth error with an unknown code', tokenPost, json(400, { error: 'oops' }, 'application/json'), ['oauth-error-body']],
    ['an error body that is not JSON', fhirGet, { status: 400, headers: { 'content-type': 'text/plain' }, body: 'Bad Request' }, ['operation-outcome-body', 'error-content-type']],
    ['a stack trace in a body', fhirGet, json(400, { ...outcome, issue: [{ severity: 'error', code: 'x', diagnostics: 'Error: x\n    at f (/work/main/a.ts:1:2)' }] }), ['no-internals']],
    ['an accepted write that must be refused', { ...fhirGet, method: 'PUT', mustBeRefused: true }, json(200, { resourceType: 'Patient' }), ['refused-write']],
  ])('%s', (_name, req, res, expected) => {
    expect(rules(req, res)).toEqual(expected);
  });

  it('allows a 503 only when faults are injected', () => {
    const res = json(503, { ...outcome, issue: [{ severity: 'error', code: 'transient' }] });
    expect(rules(fhirGet, res)).toEqual(['no-5xx']);
    expect(rules(fhirGet, res, { faultsInjected: true })).toEqual([]);
  });

  it('finds a secret echoed in a body', () => {
    expect(rules(fhirGet, json(400, { ...outcome, issue: [{ severity: 'error', code: 'x', diagnostics: 's3cret' }] }), { secrets: ['s3cret'] })).toEqual([
      'no-secret-echo',
    ]);
  });
});

describe('isTokenRoute', () => {
  it.each<[string, string, boolean]>([
    ['POST', '/oauth2/token', true],
    ['POST', '/oauth2/%74oken?x=1', true],
    ['GET', '/oauth2/token', false],
    // API Gateway (REST) routes one trailing slash to the resource without it, and so does the local gateway (issue 15).
    ['POST', '/oauth2/token/', true],
    ['POST', '/oauth2//token', false],
  ])('%s %s -> %s', (method, path, expected) => {
    expect(isTokenRoute({ method, path, headers: {}, label: '' })).toBe(expected);
  });
});
