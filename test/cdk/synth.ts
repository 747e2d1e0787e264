/**
 * Builds the CDK app for the assertion tests, without bundling (`aws:cdk:bundling-stacks: []`): fast, no esbuild.
 * Synthesis includes cdk-nag (a finding fails it) unless `nag: false`.
 */
import { App } from 'aws-cdk-lib';
import { vi } from 'vitest';
import { Template } from 'aws-cdk-lib/assertions';
import { type CcriStacks, createStacks } from '../../lib/app';
import { type CcriConfig, configFromContext } from '../../lib/config';

export interface Synthesized {
  app: App;
  config: CcriConfig;
  stacks: CcriStacks;
  data: Template;
  api: Template;
  /** The account-wide API Gateway logging stack, when ccri:apiGatewayCloudWatchRole is on. */
  account?: Template;
}

/** Everything optional switched on: the largest template this app can produce. */
export const EVERYTHING_ON = {
  'ccri:demoData': true,
  'ccri:corsOrigins': ['https://app.example.org', 'https://other.example.org'],
  'ccri:waf': true,
  'ccri:tracing': true,
  'ccri:customDomain': {
    domainName: 'fhir.example.org',
    certificateArn: 'arn:aws:acm:eu-west-2:123456789012:certificate/00000000-0000-0000-0000-000000000000',
  },
};

// The first test of each CDK file pays for a whole synthesis (20+ functions, cdk-nag): over 30 s on a loaded machine.
vi.setConfig({ testTimeout: 120_000 });

const cache = new Map<string, Synthesized>();

export function synth(context: Record<string, unknown> = {}, options: { nag?: boolean } = {}): Synthesized {
  const key = JSON.stringify([context, options]);
  const cached = cache.get(key);
  if (cached) return cached;
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [], ...context } });
  const config = configFromContext(app.node);
  const stacks = createStacks(app, config, options);
  const result = {
    app,
    config,
    stacks,
    data: Template.fromStack(stacks.data),
    api: Template.fromStack(stacks.api),
    account: stacks.account && Template.fromStack(stacks.account),
  };
  cache.set(key, result);
  return result;
}

export type CfnResource = { Type: string; Properties?: Record<string, any>; DeletionPolicy?: string; UpdateReplacePolicy?: string };

export function resourcesOf(template: Template, type: string): [string, CfnResource][] {
  return Object.entries(template.findResources(type)) as [string, CfnResource][];
}

/**
 * The full path of every AWS::ApiGateway::Resource by logical id ('' for the root), rebuilt from PathPart and
 * ParentId as API Gateway would.
 */
export function resourcePaths(api: Template): Map<string, string> {
  const resources = new Map(resourcesOf(api, 'AWS::ApiGateway::Resource'));
  const paths = new Map<string, string>();
  const pathOf = (logicalId: string): string => {
    const known = paths.get(logicalId);
    if (known !== undefined) return known;
    const resource = resources.get(logicalId);
    if (!resource) throw new Error(`no resource ${logicalId}`);
    const parent = resource.Properties!.ParentId;
    const parentPath = parent.Ref ? pathOf(parent.Ref) : '';
    const path = `${parentPath}/${resource.Properties!.PathPart}`;
    paths.set(logicalId, path);
    return path;
  };
  for (const id of resources.keys()) pathOf(id);
  return paths;
}

export interface SynthMethod {
  logicalId: string;
  method: string;
  path: string;
  properties: Record<string, any>;
}

export function methodsOf(api: Template): SynthMethod[] {
  const paths = resourcePaths(api);
  return resourcesOf(api, 'AWS::ApiGateway::Method').map(([logicalId, r]) => {
    const resourceId = r.Properties!.ResourceId;
    const path = resourceId.Ref ? paths.get(resourceId.Ref)! : '/';
    return { logicalId, method: r.Properties!.HttpMethod, path, properties: r.Properties! };
  });
}

/** The logical ids of the functions, by their Powertools service name and resource type. */
export function functionsOf(api: Template): { logicalId: string; service: string; env: Record<string, any>; properties: Record<string, any> }[] {
  return resourcesOf(api, 'AWS::Lambda::Function')
    .filter(([, r]) => r.Properties?.Environment?.Variables?.POWERTOOLS_SERVICE_NAME)
    .map(([logicalId, r]) => ({
      logicalId,
      service: r.Properties!.Environment.Variables.POWERTOOLS_SERVICE_NAME,
      env: r.Properties!.Environment.Variables,
      properties: r.Properties!,
    }));
}
