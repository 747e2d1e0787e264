import { OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { describe, expect, it } from 'vitest';
import { BUNDLING } from '../../lib/constructs/function';
import { FUNCTION_NAMES } from '../../contract/routes';
import { functionsOf, synth } from './synth';

describe('the functions', () => {
  const { api } = synth();
  const functions = functionsOf(api);
  const resources = api.toJSON().Resources as Record<string, any>;

  it('are one per function of the route table, plus the authorizer, the seed and the audit sink', () => {
    const expected = FUNCTION_NAMES.map((n) => (n === 'fhir' ? 'ccri-resource' : `ccri-${n}`));
    const actual = functions.map((f) => (f.env.RESOURCE_TYPE ? `${f.service} ${f.env.RESOURCE_TYPE}` : f.service));
    expect(actual.sort()).toEqual([...expected, 'ccri-authorizer', 'ccri-seed', 'ccri-audit-sink'].sort());
  });

  it.each(functions.map((f) => [f.env.RESOURCE_TYPE ? `${f.service} ${f.env.RESOURCE_TYPE}` : f.service, f]))(
    '%s: Node.js 24 on arm64, ESM bundle, source maps, JSON logs to its own log group with retention',
    (_, f) => {
      expect(f.properties).toMatchObject({
        Runtime: 'nodejs24.x',
        Architectures: ['arm64'],
        Handler: 'index.handler',
        LoggingConfig: { LogFormat: 'JSON' },
      });
      expect(f.properties.Timeout).toBeGreaterThanOrEqual(10);
      expect(f.env).toMatchObject({ NODE_OPTIONS: '--enable-source-maps', LOG_LEVEL: 'INFO' });
      expect(f.env.POWERTOOLS_SERVICE_NAME).toMatch(/^ccri-/);
      const logGroup = resources[f.properties.LoggingConfig.LogGroup.Ref];
      expect(logGroup.Type).toBe('AWS::Logs::LogGroup');
      expect(logGroup.Properties.RetentionInDays).toBe(90);
      expect(f.properties.TracingConfig).toBeUndefined();
      expect(f.properties.Role['Fn::GetAtt'] ?? f.properties.Role['Fn::ImportValue']).toBeDefined();
    },
  );

  it('share no log group and no role', () => {
    const logGroups = functions.map((f) => f.properties.LoggingConfig.LogGroup.Ref);
    const roles = functions.map((f) => JSON.stringify(f.properties.Role));
    expect(new Set(logGroups).size).toBe(functions.length);
    expect(new Set(roles).size).toBe(functions.length);
  });

  it('are bundled by the local esbuild as minified ESM with source maps, the AWS SDK included', () => {
    expect(BUNDLING).toMatchObject({
      format: OutputFormat.ESM,
      minify: true,
      sourceMap: true,
      externalModules: [],
      forceDockerBundling: false,
    });
    expect(BUNDLING.banner).toContain('createRequire');
  });
});
