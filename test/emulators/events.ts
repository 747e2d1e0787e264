/**
 * The exact events the two local emulators hand to our Lambda functions, written from their source (nothing here
 * was captured from a run: there is no Docker here). Each field says where it was read.
 *
 * SAM CLI, repository aws/aws-sam-cli (files as stored by the search tool, commit in brackets):
 * - [S1] samcli/local/apigw/local_apigw_service.py, `LocalApigwService._create_method_arn`:
 *   `f"arn:aws:execute-api:us-east-1:{context.account_id}:{context.api_id}/{self.api.stage_name}/{method}{path}"`
 *   with `context = RequestContext()` (its defaults) and `path = flask_request.path` (the concrete path).
 * - [S2] same file, `_generate_lambda_token_authorizer_event`: returns exactly
 *   `{"type": "TOKEN", "authorizationToken": str(authorization_token), "methodArn": method_arn}`, the token being the
 *   value of the authorizer's one header identity source (Authorization).
 * - [S3] same file, `_request_handler` + `_valid_identity_sources`: a request without the identity source is answered
 *   401 `{"message": "Unauthorized"}` before any function runs; `_invoke_parse_lambda_authorizer` merges the
 *   authorizer's `context` plus `principalId` into `requestContext.authorizer` (payload v1, REST).
 * - [S4] samcli/local/apigw/authorizers/lambda_authorizer.py [1029dcb0], `LambdaAuthorizer.is_valid_response`:
 *   `LambdaAuthorizerIAMPolicyValidator.validate_policy_document` (principalId: str, policyDocument: dict) and
 *   `validate_statement` (a non-empty `Statement` list, each with Action, Effect, Resource) or the answer is 502;
 *   then `_is_resource_authorized`: only `Effect: Allow` statements count, `Action` must contain
 *   `execute-api:Invoke`, and each Resource becomes the regex `resource.replace("*", ".*").replace("?", ".") + "$"`
 *   matched with `re.match` against the method ARN. No match: 403 `lambda_authorizer_unauthorized`
 *   (service_error_responses.py). A function error (our `throw new Error('Unauthorized')`) fails the policy
 *   validation: SAM answers 502, not 401. SAM CLI caches no authorizer result.
 * - [S5] samcli/local/apigw/event_constructor.py [1d373b44], `construct_v1_event` (lines 25-111): `endpoint` is
 *   the route template (`PathConverter.convert_path_to_api_gateway(flask_request.endpoint)`, line 55),
 *   `host = flask_request.host` (line 58, the client's Host header), and `RequestContext(resource_path=endpoint,
 *   http_method=method, stage=stage_name, identity=identity, path=endpoint, protocol=protocol, domain_name=host,
 *   operation_name=..., request_id=..., request_time_epoch=..., request_time=...)` (lines 78-90): note that
 *   `requestContext.path` is the TEMPLATE, without the stage, and `domainName` is the Host header. The event is
 *   `ApiGatewayLambdaEvent(http_method, body, resource=endpoint, request_context, query_string_params,
 *   multi_value_query_string_params, headers, multi_value_headers, path_parameters=flask_request.view_args,
 *   path=flask_request.path, is_base_64_encoded, stage_variables)`.
 * - [S6] same file, `_event_headers`: every request header as Flask names it, then `X-Forwarded-Proto` =
 *   `flask_request.scheme` and `X-Forwarded-Port` = the port, in `headers` and `multiValueHeaders`; no
 *   X-Forwarded-For. `_query_string_params`: last value in `queryStringParameters`, all in the multi-value map.
 * - [S7] samcli/local/events/api_event.py [bf9eb751]: `RequestContext.__init__` defaults (lines 68-85)
 *   `resource_id="123456"`, `api_id="1234567890"`, `account_id="123456789012"`; `ContextIdentity` defaults
 *   (lines 7-20) `user_agent="Custom User Agent String"`, `source_ip="127.0.0.1"`; `to_dict` key sets as below;
 *   `ApiGatewayLambdaEvent.to_dict`: `"version": "1.0"`, `body` null when empty, the maps null when empty.
 * - [S8] samcli/local/lambdafn/env_vars.py [0db016ce], `EnvironmentVariables.resolve`: only the variables the
 *   template declares for a function are passed (an `--env-vars` value for an undeclared name is dropped; an
 *   unresolved intrinsic such as Fn::ImportValue becomes ""), plus `AWS_SAM_LOCAL=true`, `AWS_ACCOUNT_ID=123456789012`
 *   and the region (default us-east-1).
 * The stage is the template's stage name (`self.api.stage_name`): `prod` for this app's default `ccri:stage`.
 *
 * LocalStack (next-gen API Gateway, default since 4.0), repository localstack/localstack:
 * - [L1] localstack-core/localstack/services/apigateway/next_gen/execute_api/handlers/parse.py [d064217f],
 *   `InvocationRequestParser._enrich_with_raw_path`: the two URL shapes
 *   `http://localhost:4566/restapis/<apiId>/<stage>/_user_request_/<path>` (everything after `_user_request_` is the
 *   path) and `http://<apiId>.execute-api.localhost.localstack.cloud:4566/<stage>/<path>` (the first `/<stage>` is
 *   removed); `create_context_variables`: `domainName` = the Host header, `domainPrefix` = its first label,
 *   `path` = `/<stage><raw path>`, `protocol` "HTTP/1.1", `identity.sourceIp` "127.0.0.1" (fixed),
 *   `requestTimeEpoch` in ms, `accountId` the deployment's account (`000000000000` by default).
 * - [L2] .../next_gen/execute_api/integrations/aws.py, `RestApiAwsProxyIntegration.create_lambda_input_event`:
 *   `headers`, `multiValueHeaders` (the client's), `body` or null, `requestContext` = the context variables,
 *   `stageVariables`, the query maps or null, `pathParameters`, `resource`, `path`, `httpMethod`.
 * - [L3] .../next_gen/execute_api/gateway.py [51f6828a], `RestApiGateway.__init__`: the community handler chain is
 *   parse, modify, route, `preprocess_request` (an empty extension point), API key, method request, integration...:
 *   no authorizer step. Lambda authorizers run only in LocalStack Pro (which plugs into that point); under the
 *   community edition a protected route reaches the function with no `requestContext.authorizer` at all.
 * - The URL shapes are also in LocalStack's documentation (docs.localstack.cloud/aws/services/apigateway,
 *   "recommended URL format ... `http://<apiId>.execute-api.localhost.localstack.cloud:4566/<stageId>/<path>`").
 */
import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEvent, APIGatewayTokenAuthorizerEvent } from 'aws-lambda';

export const SAM = { region: 'us-east-1', accountId: '123456789012', apiId: '1234567890', resourceId: '123456', port: 3000 } as const;
export const LOCALSTACK = { accountId: '000000000000', region: 'us-east-1', port: 4566 } as const;

export interface EmulatedRequest {
  method: string;
  /** The route template, e.g. `/STU3/Patient/{id}`. */
  resource: string;
  /** The concrete path the client called, without any stage, e.g. `/STU3/Patient/1`. */
  path: string;
  pathParameters?: Record<string, string>;
  /** Request headers as the client sent them (Flask / Werkzeug title-cases the names). */
  headers?: Record<string, string>;
  query?: Record<string, string[]>;
  body?: string;
  stage?: string;
}

function queryMaps(query: Record<string, string[]> | undefined) {
  const entries = Object.entries(query ?? {});
  if (entries.length === 0) return { queryStringParameters: null, multiValueQueryStringParameters: null };
  return {
    queryStringParameters: Object.fromEntries(entries.map(([k, v]) => [k, v[v.length - 1] ?? ''])),
    multiValueQueryStringParameters: Object.fromEntries(entries),
  };
}

/** [S1] The method ARN SAM CLI builds for a request. */
export function samMethodArn(method: string, path: string, stage = 'prod'): string {
  return `arn:aws:execute-api:${SAM.region}:${SAM.accountId}:${SAM.apiId}/${stage}/${method}${path}`;
}

/** [S2] SAM CLI's TOKEN authorizer event. */
export function samTokenAuthorizerEvent(req: Pick<EmulatedRequest, 'method' | 'path' | 'stage'>, authorization: string): APIGatewayTokenAuthorizerEvent {
  return { type: 'TOKEN', authorizationToken: String(authorization), methodArn: samMethodArn(req.method, req.path, req.stage) };
}

/** [S5]-[S7] SAM CLI's REST proxy event (payload 1.0) for `sam local start-api` on 127.0.0.1:3000. */
export function samProxyEvent(req: EmulatedRequest, authorizer?: Record<string, unknown>): APIGatewayProxyEvent {
  const headers: Record<string, string> = { Host: `127.0.0.1:${SAM.port}`, 'User-Agent': 'curl/8.5.0', Accept: '*/*', ...req.headers };
  if (req.body !== undefined) headers['Content-Length'] ??= String(Buffer.byteLength(req.body));
  headers['X-Forwarded-Proto'] = 'http';
  headers['X-Forwarded-Port'] = String(SAM.port);
  const multiValueHeaders = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]]));
  const requestContext: Record<string, unknown> = {
    resourceId: SAM.resourceId,
    apiId: SAM.apiId,
    resourcePath: req.resource,
    httpMethod: req.method,
    requestId: randomUUID(),
    accountId: SAM.accountId,
    stage: req.stage ?? 'prod',
    identity: {
      apiKey: null,
      userArn: null,
      cognitoAuthenticationType: null,
      caller: null,
      userAgent: 'Custom User Agent String',
      user: null,
      cognitoIdentityPoolId: null,
      cognitoAuthenticationProvider: null,
      sourceIp: '127.0.0.1',
      accountId: null,
    },
    extendedRequestId: null,
    // [S5]: the template, not the concrete path, and no stage.
    path: req.resource,
    protocol: 'HTTP/1.1',
    // [S5]: the client's Host header.
    domainName: headers.Host,
    requestTimeEpoch: Math.floor(Date.now() / 1000),
    requestTime: new Date().toUTCString(),
  };
  // [S3]: the authorizer's context plus principalId.
  if (authorizer) requestContext.authorizer = authorizer;
  return {
    version: '1.0',
    httpMethod: req.method,
    body: req.body ? req.body : null,
    resource: req.resource,
    requestContext,
    ...queryMaps(req.query),
    headers,
    multiValueHeaders,
    pathParameters: req.pathParameters && Object.keys(req.pathParameters).length > 0 ? req.pathParameters : null,
    stageVariables: null,
    path: req.path,
    isBase64Encoded: false,
  } as unknown as APIGatewayProxyEvent;
}

/**
 * [S4] What SAM CLI does with the authorizer's answer for one method ARN: 'allow', 'deny' (its 403) or 'invalid'
 * (its 502: a function error, or a policy it cannot read).
 */
export function samAuthorizerVerdict(answer: unknown, methodArn: string): 'allow' | 'deny' | 'invalid' {
  const res = answer as { principalId?: unknown; policyDocument?: { Statement?: unknown } } | undefined;
  if (!res || typeof res.principalId !== 'string' || !res.policyDocument || typeof res.policyDocument !== 'object') return 'invalid';
  const statements = res.policyDocument.Statement;
  if (!Array.isArray(statements) || statements.length === 0) return 'invalid';
  for (const st of statements as Array<Record<string, unknown>>) {
    if (typeof st !== 'object' || st === null) return 'invalid';
    for (const key of ['Action', 'Effect', 'Resource']) if (st[key] === undefined || st[key] === null) return 'invalid';
  }
  for (const st of statements as Array<Record<string, string | string[]>>) {
    if (st.Effect !== 'Allow') continue;
    const actions = Array.isArray(st.Action) ? st.Action : [st.Action];
    if (!actions.includes('execute-api:Invoke')) continue;
    const resources = Array.isArray(st.Resource) ? st.Resource : [st.Resource];
    // Python's re.match anchors at the start; SAM appends "$". Dots and other metacharacters stay unescaped, as there.
    if (resources.some((r) => new RegExp(`^(?:${r!.replaceAll('*', '.*').replaceAll('?', '.')}$)`).test(methodArn))) return 'allow';
  }
  return 'deny';
}

/** [L1] The two URL shapes LocalStack serves a REST API on. */
export function localStackUrls(apiId: string, stage: string) {
  return {
    hostBased: `http://${apiId}.execute-api.localhost.localstack.cloud:${LOCALSTACK.port}/${stage}`,
    pathBased: `http://localhost:${LOCALSTACK.port}/restapis/${apiId}/${stage}/_user_request_`,
  };
}

/** [L1]-[L2] LocalStack's REST proxy event for a request made through one of its URL shapes. */
export function localStackProxyEvent(
  req: EmulatedRequest,
  shape: { apiId: string; urlShape: 'hostBased' | 'pathBased' },
  authorizer?: Record<string, unknown>,
): APIGatewayProxyEvent {
  const stage = req.stage ?? 'prod';
  const host = shape.urlShape === 'hostBased' ? `${shape.apiId}.execute-api.localhost.localstack.cloud:${LOCALSTACK.port}` : `localhost:${LOCALSTACK.port}`;
  const headers: Record<string, string> = { Host: host, 'User-Agent': 'curl/8.5.0', Accept: '*/*', ...req.headers };
  const requestContext: Record<string, unknown> = {
    accountId: LOCALSTACK.accountId,
    apiId: shape.apiId,
    deploymentId: 'dep123',
    domainName: host,
    domainPrefix: host.split('.')[0],
    extendedRequestId: 'ext123',
    httpMethod: req.method,
    identity: {
      accountId: null,
      accessKey: null,
      caller: null,
      cognitoAuthenticationProvider: null,
      cognitoAuthenticationType: null,
      cognitoIdentityId: null,
      cognitoIdentityPoolId: null,
      principalOrgId: null,
      sourceIp: '127.0.0.1',
      user: null,
      userAgent: headers['User-Agent'],
      userArn: null,
    },
    path: `/${stage}${req.path}`,
    protocol: 'HTTP/1.1',
    requestId: randomUUID(),
    requestTime: new Date().toUTCString(),
    requestTimeEpoch: Date.now(),
    stage,
    resourceId: 'res123',
    resourcePath: req.resource,
  };
  if (authorizer) requestContext.authorizer = authorizer;
  return {
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
    body: req.body ? req.body : null,
    isBase64Encoded: false,
    requestContext,
    stageVariables: null,
    ...queryMaps(req.query),
    pathParameters: req.pathParameters && Object.keys(req.pathParameters).length > 0 ? req.pathParameters : null,
    resource: req.resource,
    path: req.path,
    httpMethod: req.method,
  } as unknown as APIGatewayProxyEvent;
}

/** The method ARN API Gateway (and LocalStack Pro) builds: `arn:aws:execute-api:<region>:<account>:<api>/<stage>/<METHOD><path>`. */
export function localStackMethodArn(apiId: string, method: string, path: string, stage = 'prod'): string {
  return `arn:aws:execute-api:${LOCALSTACK.region}:${LOCALSTACK.accountId}:${apiId}/${stage}/${method}${path}`;
}
