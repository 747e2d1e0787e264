import { describe, expect, it } from 'vitest';
import { ConfigError, DEFAULT_CONFIG, parseConfig } from './config';

const from = (values: Record<string, unknown>) => parseConfig((key) => values[key]);

describe('configuration from the CDK context', () => {
  it('defaults to the reference deployment: demo data on, data retained, no CORS, 60 s authorizer cache', () => {
    expect(from({})).toEqual(DEFAULT_CONFIG);
    expect(DEFAULT_CONFIG).toMatchObject({ demoData: true, retainData: true, corsOrigins: [], authorizerCacheSeconds: 60 });
  });

  it('reads typed values from cdk.json', () => {
    const config = from({
      stage: 'dev',
      tokenLifetimeSeconds: 900,
      demoData: false,
      corsOrigins: ['https://app.example.org'],
      retainData: false,
      deletionProtection: true,
      waf: true,
      tracing: true,
      authorizerCacheSeconds: 0,
      logRetentionDays: 365,
      customDomain: { domainName: 'FHIR.example.org', certificateArn: 'arn:aws:acm:eu-west-2:123456789012:certificate/x' },
      issuer: 'https://api.example.org/prod',
    });
    expect(config).toMatchObject({
      stage: 'dev',
      tokenLifetimeSeconds: 900,
      demoData: false,
      corsOrigins: ['https://app.example.org'],
      retainData: false,
      deletionProtection: true,
      waf: true,
      tracing: true,
      authorizerCacheSeconds: 0,
      logRetentionDays: 365,
      customDomain: { domainName: 'fhir.example.org' },
      issuer: 'https://api.example.org/prod',
    });
  });

  it('reads the string forms that -c key=value gives on the command line', () => {
    const config = from({
      demoData: 'false',
      tokenLifetimeSeconds: '600',
      corsOrigins: 'https://a.example.org, https://b.example.org',
      customDomain: '{"domainName":"fhir.example.org","certificateArn":"arn:aws:acm:eu-west-2:123456789012:certificate/x"}',
      throttle: '{"rateLimit":50,"tokenRateLimit":5}',
      keyAdminRoleArns: 'arn:aws:iam::123456789012:role/KeyAdmins',
      auditRetentionDays: '365',
    });
    expect(config.auditRetentionDays).toBe(365);
    expect(config.keyAdminRoleArns).toEqual(['arn:aws:iam::123456789012:role/KeyAdmins']);
    expect(config.demoData).toBe(false);
    expect(config.tokenLifetimeSeconds).toBe(600);
    expect(config.corsOrigins).toEqual(['https://a.example.org', 'https://b.example.org']);
    expect(config.customDomain?.domainName).toBe('fhir.example.org');
    expect(config.throttle).toEqual({ rateLimit: 50, burstLimit: 200, tokenRateLimit: 5, tokenBurstLimit: 20 });
  });

  it.each([
    ['a wildcard CORS origin', { corsOrigins: ['*'] }, /corsOrigins/],
    ['an origin with a path', { corsOrigins: ['https://app.example.org/x'] }, /corsOrigins/],
    ['an upper-case stage', { stage: 'Prod' }, /stage/],
    ['a token lifetime under a minute', { tokenLifetimeSeconds: 10 }, /tokenLifetimeSeconds/],
    ['an authorizer cache over an hour', { authorizerCacheSeconds: 7200 }, /authorizerCacheSeconds/],
    ['a boolean spelled "yes"', { waf: 'yes' }, /waf/],
    ['a retention CloudWatch does not offer', { logRetentionDays: 42 }, /logRetentionDays/],
    ['an audit retention of 0 days', { auditRetentionDays: 0 }, /auditRetentionDays: an integer from 1 to 3650/],
    ['an audit retention over ten years', { auditRetentionDays: 3651 }, /auditRetentionDays/],
    ['an audit retention in weeks', { auditRetentionDays: '12w' }, /auditRetentionDays/],
    ['a token route looser than the stage', { throttle: { rateLimit: 10, tokenRateLimit: 20 } }, /tokenRateLimit/],
    ['an issuer with a trailing slash', { issuer: 'https://fhir.example.org/' }, /issuer/],
    ['a key administrator that is not a role ARN', { keyAdminRoleArns: ['arn:aws:iam::123456789012:user/alice'] }, /keyAdminRoleArns/],
    ['a certificate that is not an ACM ARN', { customDomain: { domainName: 'a.example.org', certificateArn: 'x' } }, /certificateArn/],
  ])('refuses %s with a message naming the key', (_, values, message) => {
    expect(() => from(values)).toThrow(ConfigError);
    expect(() => from(values)).toThrow(message);
  });
});
