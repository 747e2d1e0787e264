/**
 * The REST API, built from THE route table (contract/routes.ts): one method per API Gateway resource path and method
 * (`gatewayPath`: the 14 FHIR types share one `{type}` resource tree), a Lambda proxy integration to
 * the route's function, the TOKEN authorizer on exactly the `authorized` routes. Around it: a stage with JSON
 * access logs, execution metrics and error logs, throttling (stage-wide, tighter on POST /oauth2/token), CORS for
 * the configured origins only, the gateway's own responses from lib/gateway-responses.ts, and optionally a
 * custom domain and a WAF web ACL.
 */
import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';
import { BEARER_HEADER_PATTERN } from '../contract/bearer';
import type { CcriConfig } from './config';
import type { GatewayResponseSpec } from './gateway-responses';
import { type FunctionName, type Route } from '../contract/routes';
import { gatewayPath } from '../contract/gateway-paths';

/** Headers a browser may send on a cross-origin request to this API. */
export const CORS_ALLOW_HEADERS = ['Authorization', 'Content-Type', 'Accept', 'If-Match', 'If-None-Exist', 'Prefer'];

export const TOKEN_ROUTE = { method: 'POST', path: '/oauth2/token' } as const;

export interface CcriApiProps {
  config: CcriConfig;
  routes: readonly Route[];
  /** The function that serves a route's FunctionName. */
  functionFor(name: FunctionName): lambda.IFunction;
  authorizerFunction: lambda.IFunction;
  gatewayResponses: readonly GatewayResponseSpec[];
}

export class CcriApi extends Construct {
  readonly restApi: apigw.RestApi;
  readonly authorizer: apigw.TokenAuthorizer;
  readonly accessLogs: logs.LogGroup;
  /** The URL clients call, no trailing slash: the custom domain, or the execute-api URL with the stage. */
  readonly baseUrl: string;
  readonly domain?: apigw.DomainName;
  readonly webAcl?: wafv2.CfnWebACL;

  constructor(scope: Construct, id: string, props: CcriApiProps) {
    super(scope, id);
    const { config } = props;

    this.accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      retention: config.logRetentionDays,
      removalPolicy: config.retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });

    // Execution logs at ERROR, never INFO with data trace: INFO/data trace would write headers and bodies
    // (bearer tokens, patient data) into CloudWatch.
    const methodDefaults = {
      loggingLevel: apigw.MethodLoggingLevel.ERROR,
      dataTraceEnabled: false,
      metricsEnabled: true,
    };
    this.restApi = new apigw.RestApi(this, 'RestApi', {
      restApiName: `ccri-${config.stage}`,
      description: 'CCRI Security Scopes: FHIR STU3 API protected by OAuth2 / SMART on FHIR scopes',
      endpointTypes: [apigw.EndpointType.REGIONAL],
      // With a custom domain the issuer is that domain: a second URL would mint tokens with another issuer.
      disableExecuteApiEndpoint: config.customDomain !== undefined,
      cloudWatchRole: false, // the account-wide setting has its own stack (lib/account-stack.ts)
      deployOptions: {
        stageName: config.stage,
        accessLogDestination: new apigw.LogGroupLogDestination(this.accessLogs),
        accessLogFormat: accessLogFormat(),
        tracingEnabled: config.tracing,
        throttlingRateLimit: config.throttle.rateLimit,
        throttlingBurstLimit: config.throttle.burstLimit,
        ...methodDefaults,
        methodOptions: {
          [`${TOKEN_ROUTE.path}/${TOKEN_ROUTE.method}`]: {
            ...methodDefaults,
            throttlingRateLimit: config.throttle.tokenRateLimit,
            throttlingBurstLimit: config.throttle.tokenBurstLimit,
          },
        },
      },
    });

    this.authorizer = new apigw.TokenAuthorizer(this, 'TokenAuthorizer', {
      handler: props.authorizerFunction,
      identitySource: apigw.IdentitySource.header('Authorization'),
      // Anything but "Bearer <compact JWS>" is refused 401 by API Gateway without invoking the authorizer.
      validationRegex: BEARER_HEADER_PATTERN,
      resultsCacheTtl: Duration.seconds(config.authorizerCacheSeconds),
      authorizerName: `ccri-${config.stage}-token-authorizer`,
    });

    this.addRoutes(props);
    this.addGatewayResponses(props.gatewayResponses, config.corsOrigins);

    if (config.customDomain) {
      this.domain = new apigw.DomainName(this, 'Domain', {
        domainName: config.customDomain.domainName,
        certificate: acm.Certificate.fromCertificateArn(this, 'Certificate', config.customDomain.certificateArn),
        endpointType: apigw.EndpointType.REGIONAL,
        securityPolicy: apigw.SecurityPolicy.TLS_1_2,
        mapping: this.restApi,
      });
      this.baseUrl = `https://${config.customDomain.domainName}`;
    } else {
      const stack = Stack.of(this);
      this.baseUrl = `https://${this.restApi.restApiId}.execute-api.${stack.region}.${stack.urlSuffix}/${config.stage}`;
    }

    if (config.waf) {
      this.webAcl = this.addWebAcl(config);
    } else {
      Validations.of(this.restApi).acknowledge({
        id: 'AwsSolutions-APIG3',
        reason:
          'WAF is optional here (context ccri:waf=true adds a web ACL with a per-IP rate rule); the stage and the token route are throttled either way.',
      });
    }
    Validations.of(this.restApi).acknowledge({
      id: 'AwsSolutions-APIG2',
      reason:
        'Request bodies are FHIR resources, validated by the resource functions against the Care Connect profiles (and POST $validate); API Gateway JSON-schema models cannot express FHIR profiles and would answer with non-FHIR errors.',
    });
    Validations.of(this.restApi).acknowledge({
      id: 'AwsSolutions-COG4',
      reason:
        'Protected methods use the Lambda TOKEN authorizer, which verifies this API\'s own KMS-signed RS256 access tokens (RFC 9068) and SMART scopes; Cognito is not the token issuer. The public methods are acknowledged under APIG4.',
    });
  }

  private addRoutes(props: CcriApiProps): void {
    const integrations = new Map<FunctionName, apigw.LambdaIntegration>();
    const methodsByPath = new Map<string, Set<string>>();
    const added = new Map<string, Route>();
    for (const route of props.routes) {
      // The routes of the 14 types share one method per resource path (the type is a path parameter): they must agree.
      const path = gatewayPath(route);
      const same = added.get(`${route.method} ${path}`);
      if (same) {
        if (same.function !== route.function || same.auth !== route.auth) {
          throw new Error(`${route.method} ${route.path} and ${same.method} ${same.path} share ${path} but not their function or auth`);
        }
        continue;
      }
      added.set(`${route.method} ${path}`, route);
      let integration = integrations.get(route.function);
      if (!integration) {
        // One invoke permission per function for this API (not one per method): keeps the stack small.
        integration = new apigw.LambdaIntegration(props.functionFor(route.function), {
          scopePermissionToMethod: false,
        });
        integrations.set(route.function, integration);
      }
      const resource = this.restApi.root.resourceForPath(path);
      const method = resource.addMethod(
        route.method,
        integration,
        route.auth === 'authorized'
          ? { authorizer: this.authorizer, authorizationType: apigw.AuthorizationType.CUSTOM }
          : { authorizationType: apigw.AuthorizationType.NONE },
      );
      if (route.auth === 'public') {
        Validations.of(method).acknowledge({
          id: 'AwsSolutions-APIG4',
          reason: `${route.method} ${path} is public by design (OAuth2 token endpoint, JWKS, FHIR CapabilityStatement, SMART discovery or the web explorer's static page): clients call it before they hold a token.`,
        });
      }
      const methods = methodsByPath.get(path) ?? new Set<string>();
      methods.add(route.method);
      methodsByPath.set(path, methods);
    }
    const origins = props.config.corsOrigins;
    if (origins.length > 0) {
      // Preflight only where there are routes (not on intermediate path segments): fewer resources, same effect.
      for (const [path, methods] of methodsByPath) {
        const preflight = this.restApi.root.resourceForPath(path).addCorsPreflight({
          allowOrigins: origins,
          allowMethods: [...methods],
          allowHeaders: CORS_ALLOW_HEADERS,
          exposeHeaders: ['Location', 'Content-Location', 'ETag', 'Last-Modified', 'WWW-Authenticate'],
          allowCredentials: false,
          maxAge: Duration.hours(1),
        });
        Validations.of(preflight).acknowledge({
          id: 'AwsSolutions-APIG4',
          reason: `OPTIONS ${path}: CORS preflight, answered by API Gateway itself (mock integration); browsers send it without credentials.`,
        });
      }
    }
  }

  private addGatewayResponses(specs: readonly GatewayResponseSpec[], corsOrigins: readonly string[]): void {
    // A browser can only read a gateway 401/403 with Access-Control-Allow-Origin. A gateway response can carry
    // one static origin, so this is added when exactly one origin is configured.
    const cors: Record<string, string> = corsOrigins.length === 1 ? { 'Access-Control-Allow-Origin': corsOrigins[0]! } : {};
    for (const spec of specs) {
      const headers = { ...spec.headers, ...cors };
      const responseHeaders: Record<string, string> = {};
      for (const [name, value] of Object.entries(headers)) responseHeaders[name] = staticHeaderValue(name, value);
      this.restApi.addGatewayResponse(`Response${spec.type}`, {
        type: apigw.ResponseType.of(spec.type),
        statusCode: spec.statusCode === undefined ? undefined : String(spec.statusCode),
        responseHeaders,
        templates: { 'application/json': spec.body, 'application/fhir+json': spec.body },
      });
    }
  }

  private addWebAcl(config: CcriConfig): wafv2.CfnWebACL {
    const visibility = (name: string): wafv2.CfnWebACL.VisibilityConfigProperty => ({
      cloudWatchMetricsEnabled: true,
      sampledRequestsEnabled: true,
      metricName: `ccri-${config.stage}-${name}`,
    });
    const acl = new wafv2.CfnWebACL(this, 'WebAcl', {
      name: `ccri-${config.stage}-api`,
      description: 'CCRI API: per-IP rate limit and AWS known-bad-inputs rules',
      scope: 'REGIONAL',
      defaultAction: { allow: {} },
      visibilityConfig: visibility('web-acl'),
      rules: [
        {
          name: 'RateLimitPerIp',
          priority: 0,
          action: { block: {} },
          statement: { rateBasedStatement: { limit: config.wafRateLimit, aggregateKeyType: 'IP' } },
          visibilityConfig: visibility('rate-limit-per-ip'),
        },
        {
          name: 'AWSManagedRulesKnownBadInputsRuleSet',
          priority: 1,
          overrideAction: { none: {} },
          statement: { managedRuleGroupStatement: { vendorName: 'AWS', name: 'AWSManagedRulesKnownBadInputsRuleSet' } },
          visibilityConfig: visibility('known-bad-inputs'),
        },
      ],
    });
    new wafv2.CfnWebACLAssociation(this, 'WebAclAssociation', {
      resourceArn: this.restApi.deploymentStage.stageArn,
      webAclArn: acl.attrArn,
    });
    return acl;
  }
}

/** API Gateway header mappings take static values in single quotes. */
function staticHeaderValue(name: string, value: string): string {
  if (value.includes("'")) throw new Error(`gateway response header ${name}: a static value cannot contain '`);
  return `'${value}'`;
}

/**
 * One JSON object per request: who (source IP, client id the authorizer returned as principal), what (method,
 * resource path, path, status), how long, and why it failed (authorizer and integration errors). Never the
 * Authorization header, the query string or a body.
 */
function accessLogFormat(): apigw.AccessLogFormat {
  const f = apigw.AccessLogField;
  return apigw.AccessLogFormat.custom(
    JSON.stringify({
      requestId: f.contextRequestId(),
      extendedRequestId: f.contextExtendedRequestId(),
      requestTime: f.contextRequestTime(),
      ip: f.contextIdentitySourceIp(),
      userAgent: f.contextIdentityUserAgent(),
      httpMethod: f.contextHttpMethod(),
      resourcePath: f.contextResourcePath(),
      // The FHIR type of a `{type}` resource, for the audit of a gateway denial (functions/audit/gateway.ts); ids,
      // never the query string.
      path: f.contextPath(),
      protocol: f.contextProtocol(),
      status: f.contextStatus(),
      responseLength: f.contextResponseLength(),
      responseLatency: f.contextResponseLatency(),
      integrationLatency: f.contextIntegrationLatency(),
      principalId: f.contextAuthorizerPrincipalId(),
      patient: '$context.authorizer.patient',
      authorizerStatus: '$context.authorizer.status',
      authorizerLatency: '$context.authorizer.latency',
      authorizerError: f.contextAuthorizerError(),
      errorMessage: f.contextErrorMessage(),
      errorType: f.contextErrorResponseType(),
      integrationError: f.contextIntegrationErrorMessage(),
      xrayTraceId: f.contextXrayTraceId(),
    }),
  );
}
