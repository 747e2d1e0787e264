import { readFileSync } from 'node:fs';
import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { BEARER_HEADER_PATTERN } from '../../functions/authorizer/bearer';
import { GATEWAY_RESPONSES } from '../../lib/gateway-responses';
import { ROUTES, type Route } from '../../contract/routes';
import { gatewayPath } from '../../contract/gateway-paths';
import { EVERYTHING_ON, functionsOf, methodsOf, resourcesOf, synth } from './synth';

const key = (method: string, path: string) => `${method} ${path}`;

/** The function a route must be integrated with, as the synthesized function shows it. */
function expectedFunction(route: Route): { service: string } {
  return { service: route.function === 'fhir' ? 'ccri-resource' : `ccri-${route.function}` };
}

describe('the REST API matches the route table', () => {
  const { api } = synth();
  const methods = methodsOf(api);
  const [authorizerId] = Object.keys(api.findResources('AWS::ApiGateway::Authorizer'));
  const functions = functionsOf(api);

  it('has exactly one method per route\'s resource path (gatewayPath) and method, and no other method', () => {
    const synthesized = methods.map((m) => key(m.method, m.path)).sort();
    const declared = [...new Set(ROUTES.map((r) => key(r.method, gatewayPath(r))))].sort();
    expect(synthesized).toEqual(declared);
  });

  it.each(ROUTES.map((r) => [key(r.method, r.path), r] as const))('%s: auth and integration follow the table', (_, route) => {
    const method = methods.find((m) => m.method === route.method && m.path === gatewayPath(route))!;
    if (route.auth === 'authorized') {
      expect(method.properties.AuthorizationType).toBe('CUSTOM');
      expect(method.properties.AuthorizerId).toEqual({ Ref: authorizerId });
    } else {
      expect(method.properties.AuthorizationType).toBe('NONE');
      expect(method.properties.AuthorizerId).toBeUndefined();
    }
    const integration = method.properties.Integration;
    expect(integration.Type).toBe('AWS_PROXY');
    expect(integration.IntegrationHttpMethod).toBe('POST');
    const uri = JSON.stringify(integration.Uri);
    const target = functions.filter((f) => uri.includes(`"${f.logicalId}"`));
    expect(target).toHaveLength(1);
    const expected = expectedFunction(route);
    expect(target[0]!.service).toBe(expected.service);
  });

  it('gives each function one invoke permission scoped to this API, not one per method', () => {
    // (The audit sink's permissions for CloudWatch Logs are checked in test/cdk/audit-sink.test.ts.)
    const permissions = resourcesOf(api, 'AWS::Lambda::Permission').filter(([, p]) => p.Properties!.Principal !== 'logs.amazonaws.com');
    const [restApiId] = Object.keys(api.findResources('AWS::ApiGateway::RestApi'));
    for (const [, p] of permissions) {
      expect(p.Properties!.Principal).toBe('apigateway.amazonaws.com');
      expect(JSON.stringify(p.Properties!.SourceArn)).toContain(`"${restApiId}"`);
    }
    const integrated = new Set(ROUTES.map((r) => r.function));
    // one per integrated function, plus the authorizer's
    expect(permissions).toHaveLength(integrated.size + 1);
  });
});

describe('CORS', () => {
  it('adds no OPTIONS method when no origin is configured', () => {
    const { api } = synth();
    expect(methodsOf(api).filter((m) => m.method === 'OPTIONS')).toEqual([]);
  });

  it('answers preflight on every route path, only for the configured origins, without a token', () => {
    const { api } = synth({ 'ccri:corsOrigins': EVERYTHING_ON['ccri:corsOrigins'] });
    const methods = methodsOf(api);
    const options = methods.filter((m) => m.method === 'OPTIONS');
    expect(new Set(options.map((m) => m.path))).toEqual(new Set(ROUTES.map(gatewayPath)));
    expect(methods.filter((m) => m.method !== 'OPTIONS')).toHaveLength(new Set(ROUTES.map((r) => key(r.method, gatewayPath(r)))).size);
    for (const m of options) {
      expect(m.properties.AuthorizationType).toBe('NONE');
      expect(m.properties.Integration.Type).toBe('MOCK');
      const text = JSON.stringify(m.properties.Integration);
      expect(text).toContain('https://app.example.org');
      expect(text).toContain('https://other.example.org');
      expect(text).not.toMatch(/Allow-Origin[^,]*'\*'/);
    }
  });

  it('refuses a wildcard origin', () => {
    expect(() => synth({ 'ccri:corsOrigins': ['*'] })).toThrow(/corsOrigins/);
  });
});

describe('the token authorizer', () => {
  it('is a TOKEN authorizer on the Authorization header, caching decisions for 60 s by default, invoked only for "Bearer <jws>"', () => {
    synth().api.hasResourceProperties('AWS::ApiGateway::Authorizer', {
      Type: 'TOKEN',
      IdentitySource: 'method.request.header.Authorization',
      IdentityValidationExpression: BEARER_HEADER_PATTERN,
      AuthorizerResultTtlInSeconds: 60,
    });
  });

  it('gets a new deployment when its settings change (feature flag authorizerChangeDeploymentLogicalId)', () => {
    const flags = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')).context;
    expect(flags['@aws-cdk/aws-apigateway:authorizerChangeDeploymentLogicalId']).toBe(true);
    const deploymentOf = (ttl: number) =>
      Object.keys(synth({ 'ccri:authorizerCacheSeconds': ttl, '@aws-cdk/aws-apigateway:authorizerChangeDeploymentLogicalId': true }).api.findResources('AWS::ApiGateway::Deployment'));
    expect(deploymentOf(30)).not.toEqual(deploymentOf(60));
  });

  it('takes its cache TTL from the context', () => {
    synth({ 'ccri:authorizerCacheSeconds': 60 }).api.hasResourceProperties('AWS::ApiGateway::Authorizer', {
      AuthorizerResultTtlInSeconds: 60,
    });
  });
});

describe('gateway responses', () => {
  const { api } = synth();

  it.each(GATEWAY_RESPONSES.map((r) => [r.type, r] as const))('%s has its status, headers and FHIR body', (_, spec) => {
    const responseParameters: Record<string, string> = {};
    for (const [name, value] of Object.entries(spec.headers)) {
      responseParameters[`gatewayresponse.header.${name}`] = `'${value}'`;
    }
    api.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
      ResponseType: spec.type,
      StatusCode: spec.statusCode === undefined ? Match.absent() : String(spec.statusCode),
      ResponseParameters: responseParameters,
      ResponseTemplates: { 'application/json': spec.body },
    });
  });

  it('has no gateway response but those of lib/gateway-responses.ts', () => {
    expect(resourcesOf(api, 'AWS::ApiGateway::GatewayResponse')).toHaveLength(GATEWAY_RESPONSES.length);
  });
});

describe('the stage', () => {
  const { api, config } = synth();

  it('writes JSON access logs without tokens to a log group with retention', () => {
    const [stage] = resourcesOf(api, 'AWS::ApiGateway::Stage');
    const settings = stage![1].Properties!.AccessLogSetting;
    const format = JSON.parse(settings.Format) as Record<string, string>;
    expect(format).toMatchObject({ requestId: '$context.requestId', status: '$context.status', ip: '$context.identity.sourceIp' });
    expect(settings.Format).not.toMatch(/header|Authorization|requestOverride|body/i);
    const logGroupId = settings.DestinationArn['Fn::GetAtt'][0];
    api.hasResource('AWS::Logs::LogGroup', { Properties: { RetentionInDays: config.logRetentionDays } });
    expect(api.toJSON().Resources[logGroupId].Properties.RetentionInDays).toBe(90);
  });

  it('logs errors and metrics for every method, throttles the stage and the token route tighter', () => {
    api.hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: 'prod',
      TracingEnabled: false,
      MethodSettings: Match.arrayWith([
        Match.objectLike({
          HttpMethod: '*',
          ResourcePath: '/*',
          LoggingLevel: 'ERROR',
          DataTraceEnabled: false,
          MetricsEnabled: true,
          ThrottlingRateLimit: config.throttle.rateLimit,
          ThrottlingBurstLimit: config.throttle.burstLimit,
        }),
        Match.objectLike({
          HttpMethod: 'POST',
          ResourcePath: '/~1oauth2~1token',
          LoggingLevel: 'ERROR',
          MetricsEnabled: true,
          ThrottlingRateLimit: config.throttle.tokenRateLimit,
          ThrottlingBurstLimit: config.throttle.tokenBurstLimit,
        }),
      ]),
    });
    expect(config.throttle.tokenRateLimit).toBeLessThan(config.throttle.rateLimit);
  });

  it('outputs the API, token, FHIR base and JWKS URLs', () => {
    const outputs = api.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(Object.keys(outputs)).toEqual(expect.arrayContaining(['ApiUrl', 'TokenUrl', 'FhirBaseUrl', 'JwksUrl']));
    expect(JSON.stringify(outputs.TokenUrl!.Value)).toContain('/prod/oauth2/token');
    expect(JSON.stringify(outputs.FhirBaseUrl!.Value)).toContain('/prod/STU3');
    expect(JSON.stringify(outputs.JwksUrl!.Value)).toContain('/prod/.well-known/jwks.json');
  });
});

describe('options', () => {
  it('puts a WAF web ACL with a per-IP rate rule on the stage when ccri:waf is on', () => {
    const { api } = synth({ 'ccri:waf': true, 'ccri:wafRateLimit': 500 });
    api.hasResourceProperties('AWS::WAFv2::WebACL', {
      Scope: 'REGIONAL',
      Rules: Match.arrayWith([
        Match.objectLike({ Action: { Block: {} }, Statement: { RateBasedStatement: { Limit: 500, AggregateKeyType: 'IP' } } }),
      ]),
    });
    api.resourceCountIs('AWS::WAFv2::WebACLAssociation', 1);
    synth().api.resourceCountIs('AWS::WAFv2::WebACL', 0);
  });

  it('with a custom domain: TLS 1.2 regional domain, execute-api endpoint off, issuer and audience given to the authorizer', () => {
    const { api } = synth({ 'ccri:customDomain': EVERYTHING_ON['ccri:customDomain'] });
    api.hasResourceProperties('AWS::ApiGateway::DomainName', {
      DomainName: 'fhir.example.org',
      SecurityPolicy: 'TLS_1_2',
      EndpointConfiguration: { Types: ['REGIONAL'] },
    });
    api.hasResourceProperties('AWS::ApiGateway::RestApi', { DisableExecuteApiEndpoint: true });
    const authorizer = functionsOf(api).find((f) => f.service === 'ccri-authorizer')!;
    expect(authorizer.env).toMatchObject({ ISSUER: 'https://fhir.example.org', AUDIENCE: 'https://fhir.example.org/STU3' });
    const metadata = functionsOf(api).find((f) => f.service === 'ccri-metadata')!;
    expect(metadata.env).toMatchObject({ PUBLIC_BASE_URL: 'https://fhir.example.org', TOKEN_ISSUER: 'https://fhir.example.org' });
    const token = functionsOf(api).find((f) => f.service === 'ccri-token')!;
    expect(token.env).toMatchObject({ ISSUER: 'https://fhir.example.org', AUDIENCE: 'https://fhir.example.org/STU3' });
    expect(api.toJSON().Outputs.TokenUrl.Value).toBe('https://fhir.example.org/oauth2/token');
  });

  it('without a custom domain the authorizer gets no ISSUER or AUDIENCE (it derives them from the request)', () => {
    const authorizer = functionsOf(synth().api).find((f) => f.service === 'ccri-authorizer')!;
    expect(authorizer.env.ISSUER).toBeUndefined();
    expect(authorizer.env.AUDIENCE).toBeUndefined();
  });

  it('gives ccri:issuer to the token, authorizer and metadata functions', () => {
    const functions = functionsOf(synth({ 'ccri:issuer': 'http://localhost:4566/prod' }).api);
    for (const service of ['ccri-token', 'ccri-authorizer']) {
      expect(functions.find((f) => f.service === service)!.env).toMatchObject({
        ISSUER: 'http://localhost:4566/prod',
        AUDIENCE: 'http://localhost:4566/prod/STU3',
      });
    }
    expect(functions.find((f) => f.service === 'ccri-metadata')!.env).toMatchObject({ TOKEN_ISSUER: 'http://localhost:4566/prod' });
  });

  it('turns on X-Ray on the functions and the stage when ccri:tracing is on', () => {
    const { api } = synth({ 'ccri:tracing': true });
    for (const f of functionsOf(api)) expect(f.properties.TracingConfig).toEqual({ Mode: 'Active' });
    api.hasResourceProperties('AWS::ApiGateway::Stage', { TracingEnabled: true });
  });
});

describe('stack size', () => {
  it.each([
    ['the default configuration', {}],
    ['everything switched on (CORS, WAF, tracing, custom domain, demo data)', EVERYTHING_ON],
  ])('stays under CloudFormation\'s 500 resources with %s', (_, context) => {
    const { api, data } = synth(context);
    const count = (t: typeof api) => Object.keys(t.toJSON().Resources).length;
    expect(count(api)).toBeLessThan(500);
    expect(count(data)).toBeLessThan(500);
  });

  it('does not grow with the number of FHIR types: they share one {type} resource tree', () => {
    const { api } = synth(EVERYTHING_ON);
    const resources = resourcesOf(api, 'AWS::ApiGateway::Resource');
    // One resource per path segment of the route table's distinct resource paths (14 literal trees made 130).
    const segments = new Set(ROUTES.flatMap((r) => gatewayPath(r).split('/').slice(1).map((_, i, parts) => parts.slice(0, i + 1).join('/'))).filter((p) => p !== ''));
    expect(resources).toHaveLength(segments.size);
    expect(resources.length).toBeLessThan(50);
  });
});
