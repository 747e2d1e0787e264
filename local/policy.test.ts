import type { PolicyDocument } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { evaluate, evaluatePolicy, UnsupportedPolicyError, wildcardMatch } from './policy';

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

describe('the same evaluator applies IAM conditions as AWS does (the local stand-in of IAM for DynamoDB)', () => {
  const table = 'arn:aws:dynamodb:eu-west-2:123456789012:table/Fhir';
  const keys = (...values: string[]) => ({ 'dynamodb:LeadingKeys': values });
  const withCondition = (Condition: object, Effect = 'Allow') => ({ Statement: [{ Effect, Action: 'dynamodb:GetItem', Resource: table, Condition }] });
  const run = (doc: object, context: Record<string, string | string[] | undefined>) =>
    evaluate(doc, { action: 'dynamodb:GetItem', resource: table, context });

  it.each([
    ['ForAllValues:StringLike, every value matches', { 'ForAllValues:StringLike': keys('Patient/*') }, keys('Patient/1', 'Patient/2'), 'allow'],
    ['ForAllValues:StringLike, one value does not', { 'ForAllValues:StringLike': keys('Patient/*') }, keys('Patient/1', 'Condition/2'), 'implicit-deny'],
    ['ForAllValues over an EMPTY set is true (the pitfall)', { 'ForAllValues:StringLike': keys('Patient/*') }, keys(), 'allow'],
    ['ForAllValues over an ABSENT key is true (the pitfall)', { 'ForAllValues:StringLike': keys('Patient/*') }, {}, 'allow'],
    ['the Null guard closes it: absent key', { 'ForAllValues:StringLike': keys('Patient/*'), Null: { 'dynamodb:LeadingKeys': 'false' } }, {}, 'implicit-deny'],
    ['the Null guard closes it: empty set', { 'ForAllValues:StringLike': keys('Patient/*'), Null: { 'dynamodb:LeadingKeys': 'false' } }, keys(), 'implicit-deny'],
    ['the Null guard lets a present key through', { 'ForAllValues:StringLike': keys('Patient/*'), Null: { 'dynamodb:LeadingKeys': 'false' } }, keys('Patient/1'), 'allow'],
    ['Null "true" holds on an absent key', { Null: { 'dynamodb:LeadingKeys': 'true' } }, {}, 'allow'],
    ['Null "true" fails on a present key', { Null: { 'dynamodb:LeadingKeys': 'true' } }, keys('Patient/1'), 'implicit-deny'],
    ['ForAnyValue: one value is enough', { 'ForAnyValue:StringEquals': keys('Patient/1') }, keys('Condition/2', 'Patient/1'), 'allow'],
    ['ForAnyValue over an empty set is false', { 'ForAnyValue:StringEquals': keys('Patient/1') }, keys(), 'implicit-deny'],
    ['several policy values are ORed', { 'ForAllValues:StringLike': keys('Patient/*', 'Condition/*') }, keys('Patient/1', 'Condition/2'), 'allow'],
    ['several operators are ANDed', { 'ForAllValues:StringLike': keys('Patient/*'), StringEquals: { 'aws:SourceVpc': 'vpc-1' } }, keys('Patient/1'), 'implicit-deny'],
    ['StringEquals on a single value', { StringEquals: { 'aws:SourceVpc': 'vpc-1' } }, { 'aws:SourceVpc': 'vpc-1' }, 'allow'],
    ['StringEquals is case-sensitive in values', { StringEquals: { 'aws:SourceVpc': 'vpc-1' } }, { 'aws:SourceVpc': 'VPC-1' }, 'implicit-deny'],
    ['condition key names are case-insensitive', { StringEquals: { 'AWS:SourceVpc': 'vpc-1' } }, { 'aws:sourcevpc': 'vpc-1' }, 'allow'],
    ['a single-valued operator on an absent key does not hold', { StringEquals: { 'aws:SourceVpc': 'vpc-1' } }, {}, 'implicit-deny'],
    ['StringNotEquals: none of the values', { StringNotEquals: { 'aws:SourceVpc': ['vpc-1', 'vpc-2'] } }, { 'aws:SourceVpc': 'vpc-3' }, 'allow'],
    ['StringNotLike on a matching value', { 'ForAllValues:StringNotLike': keys('Condition/*') }, keys('Condition/1'), 'implicit-deny'],
    ['StringLike ? matches one character', { 'ForAllValues:StringLike': keys('Patient/?') }, keys('Patient/12'), 'implicit-deny'],
  ])('%s', (_name, condition, context, expected) => {
    expect(run(withCondition(condition), context)).toBe(expected);
  });

  it('a conditional Deny wins only when its condition holds', () => {
    const doc = {
      Statement: [
        { Effect: 'Allow', Action: 'dynamodb:*', Resource: table },
        { Effect: 'Deny', Action: 'dynamodb:*', Resource: table, Condition: { 'ForAnyValue:StringLike': keys('Condition/*') } },
      ],
    };
    expect(run(doc, keys('Patient/1'))).toBe('allow');
    expect(run(doc, keys('Patient/1', 'Condition/1'))).toBe('deny');
  });

  it('refuses what it does not implement instead of skipping it (a skipped Deny would widen access)', () => {
    expect(() => run(withCondition({ DateGreaterThan: { 'aws:CurrentTime': '2020-01-01' } }), {})).toThrow(UnsupportedPolicyError);
    expect(() => run(withCondition({ 'StringLikeIfExists': keys('x') }), {})).toThrow(UnsupportedPolicyError);
    expect(() => run({ Statement: [{ Effect: 'Deny', NotAction: 'dynamodb:GetItem', Resource: '*' }] }, {})).toThrow(UnsupportedPolicyError);
    expect(() => run(withCondition({ StringLike: keys('Patient/*') }), keys('Patient/1', 'Patient/2'))).toThrow(UnsupportedPolicyError);
  });
});
