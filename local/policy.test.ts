import type { PolicyDocument } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { evaluatePolicy, wildcardMatch } from './policy';

const base = 'arn:aws:execute-api:eu-west-2:123456789012:abc123/prod';
const arn = (method: string, path: string) => `${base}/${method}${path}`;
const allow = (...Resource: string[]) => ({ Effect: 'Allow', Action: 'execute-api:Invoke', Resource });
const deny = (...Resource: string[]) => ({ Effect: 'Deny', Action: 'execute-api:Invoke', Resource });
const policy = (...Statement: object[]): PolicyDocument => ({ Version: '2012-10-17', Statement } as PolicyDocument);

describe('the local gateway applies an authorizer policy as API Gateway does', () => {
  it.each([
    ['an exact Allow', policy(allow(arn('GET', '/STU3/Patient/1'))), arn('GET', '/STU3/Patient/1'), 'allow'],
    ['an Allow for another method', policy(allow(arn('GET', '/STU3/Patient/1'))), arn('PUT', '/STU3/Patient/1'), 'implicit-deny'],
    ['a wildcard over the id', policy(allow(arn('GET', '/STU3/Patient/*'))), arn('GET', '/STU3/Patient/1'), 'allow'],
    ['a wildcard over several segments', policy(allow(arn('GET', '/STU3/Patient/*'))), arn('GET', '/STU3/Patient/1/_history/2'), 'allow'],
    ['a wildcard that needs a segment', policy(allow(arn('GET', '/STU3/Patient/*'))), arn('GET', '/STU3/Patient'), 'implicit-deny'],
    ['a type wildcard does not leak to another type', policy(allow(arn('GET', '/STU3/Patient*'))), arn('GET', '/STU3/Condition'), 'implicit-deny'],
    ['a method wildcard', policy(allow(arn('*', '/STU3/Patient'))), arn('POST', '/STU3/Patient'), 'allow'],
    ['a ? wildcard matches one character', policy(allow(arn('GET', '/STU3/Patient/?'))), arn('GET', '/STU3/Patient/12'), 'implicit-deny'],
    ['the whole API', policy(allow(`${base}/*`)), arn('DELETE', '/STU3/Condition/9'), 'allow'],
    ['an explicit Deny', policy(deny(arn('GET', '/STU3/Patient/1'))), arn('GET', '/STU3/Patient/1'), 'deny'],
    ['Deny wins over Allow', policy(allow(`${base}/*`), deny(arn('GET', '/STU3/Condition/*'))), arn('GET', '/STU3/Condition/1'), 'deny'],
    ['Deny wins whatever the order', policy(deny(arn('GET', '/STU3/Condition/*')), allow(`${base}/*`)), arn('GET', '/STU3/Condition/1'), 'deny'],
    ['Deny elsewhere leaves the Allow', policy(allow(`${base}/*`), deny(arn('GET', '/STU3/Condition/*'))), arn('GET', '/STU3/Patient/1'), 'allow'],
    ['another stage', policy(allow(`${base}/*`)), arn('GET', '/STU3/Patient/1').replace('/prod/', '/test/'), 'implicit-deny'],
    ['an action other than Invoke', policy({ Effect: 'Allow', Action: 'execute-api:ManageConnections', Resource: `${base}/*` }), arn('GET', '/x'), 'implicit-deny'],
    ['an action wildcard', policy({ Effect: 'Allow', Action: 'execute-api:*', Resource: `${base}/*` }), arn('GET', '/x'), 'allow'],
    ['no statements', policy(), arn('GET', '/STU3/Patient/1'), 'implicit-deny'],
  ])('%s', (_name, doc, methodArn, expected) => {
    expect(evaluatePolicy(doc, methodArn)).toBe(expected);
  });

  it('treats an absent policy as a deny', () => {
    expect(evaluatePolicy(undefined, arn('GET', '/x'))).toBe('implicit-deny');
  });

  it('matches ARNs case-sensitively, actions case-insensitively', () => {
    expect(wildcardMatch(arn('GET', '/STU3/patient/*'), arn('GET', '/STU3/Patient/1'))).toBe(false);
    expect(evaluatePolicy(policy({ Effect: 'Allow', Action: 'Execute-API:invoke', Resource: `${base}/*` }), arn('GET', '/x'))).toBe('allow');
  });

  it('does not blow up on pathological wildcard patterns', () => {
    expect(wildcardMatch('*a*a*a*a*a*a*a*b', 'a'.repeat(5000))).toBe(false);
  });
});
