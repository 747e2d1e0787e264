import { App, Stack, Validations } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { EVERYTHING_ON, synth } from './synth';

/**
 * cdk-nag 3 is a CDK policy-validation plugin: its findings go to the validation report (and fail synthesis), not
 * to construct annotations, so `Annotations.findError/findWarning` would see nothing. The tests run the pack
 * directly with `validateScope`, which returns every unacknowledged finding, errors and warnings alike.
 */
const CONFIGURATIONS: [string, Record<string, unknown>][] = [
  ['the default configuration', {}],
  ['demo data off', { 'ccri:demoData': false }],
  ['everything on (CORS, WAF, tracing, custom domain, demo data)', EVERYTHING_ON],
  ['named key administrators', { 'ccri:keyAdminRoleArns': ['arn:aws:iam::123456789012:role/KeyAdmins'] }],
  ['one CORS origin, no API Gateway account role', { 'ccri:corsOrigins': ['https://app.example.org'], 'ccri:apiGatewayCloudWatchRole': false }],
];

/** Every rule this app acknowledges, and nothing else: a new suppression must be added here, in review. */
const ACKNOWLEDGED_RULES = [
  'AwsSolutions-APIG2', // request validation: FHIR bodies are validated by the functions against the profiles
  'AwsSolutions-APIG3', // WAF optional (ccri:waf), only acknowledged when off
  'AwsSolutions-APIG4', // the four public routes and CORS preflight, each method by name
  'AwsSolutions-COG4', // our own Lambda TOKEN authorizer, not Cognito
  'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
  'AwsSolutions-IAM5[Resource::*]', // X-Ray only, when tracing is on
  'AwsSolutions-IAM5[Resource::<SeedingSeed', // the Provider's invoke on the seed function's versions
  'AwsSolutions-SMG4', // the demo writer secret and the admin bootstrap secret are not rotated by Secrets Manager
];

function acknowledgments(app: App): { path: string; id: string; reason: string }[] {
  return app.node.findAll().flatMap((c) =>
    c.node.metadata
      .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((m) =>
        Object.entries(m.data as Record<string, string>).map(([id, reason]) => ({
          path: c.node.path,
          id: id.replace(/^annotation::/i, ''),
          reason,
        })),
      ),
  );
}

describe('cdk-nag AwsSolutions', () => {
  it.each(CONFIGURATIONS)('finds no unacknowledged error or warning with %s', (_, context) => {
    const { app } = synth(context, { nag: false });
    const report = new AwsSolutionsChecks().validateScope(app);
    const findings = report.violations.flatMap((v) =>
      v.violatingResources.map((r) => `${v.severity} ${v.ruleName} at ${r.constructPath}: ${v.description}`),
    );
    expect(findings).toEqual([]);
    expect(report.success).toBe(true);
    // The first configuration pays for loading aws-cdk-lib and synthesizing: over 30 s on a loaded 2-core machine.
  }, 120_000);

  it.each(CONFIGURATIONS)('acknowledges only known rules, each with a specific reason, with %s', (_, context) => {
    const { app } = synth(context, { nag: false });
    const acks = acknowledgments(app);
    expect(acks.length).toBeGreaterThan(0);
    for (const ack of acks) {
      expect(ACKNOWLEDGED_RULES.some((known) => ack.id.startsWith(known)), `${ack.id} at ${ack.path}`).toBe(true);
      expect(ack.reason.length, `${ack.id} at ${ack.path}`).toBeGreaterThanOrEqual(60);
    }
  });

  it('acknowledges APIG4 only on public methods and preflights, by name', () => {
    const { app } = synth({ 'ccri:corsOrigins': ['https://app.example.org'] }, { nag: false });
    for (const ack of acknowledgments(app).filter((a) => a.id === 'AwsSolutions-APIG4')) {
      const method = ack.path.split('/').pop()!;
      expect(ack.reason.startsWith(`${method} /`), ack.path).toBe(true);
      expect(ack.reason).toMatch(/public by design|CORS preflight/);
    }
  });

  it('fails synthesis when a finding is not acknowledged', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'Careless');
    new dynamodb.Table(stack, 'NoBackups', { partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING } });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    expect(() => app.synth()).toThrow(/AwsSolutions-DDB3/);
  });

  it('runs in the real app: synthesis with the pack passes', () => {
    expect(() => synth()).not.toThrow();
  });
});
