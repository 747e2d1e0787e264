import { describe, expect, it } from 'vitest';
import { RESOURCE_TYPES } from '../../functions/fhir/resource-types';
import { FUNCTION_NAMES } from '../../lib/routes';
import { TABLES } from '../../lib/tables';
import { functionsOf, resourcesOf, synth } from './synth';

const secretId = (api: ReturnType<typeof synth>['api'], name: string) =>
  resourcesOf(api, 'AWS::SecretsManager::Secret').find(([id]) => id.includes(name))?.[0];

describe('the demo-data switch', () => {
  it('on (the default): a seed custom resource, a generated writer secret and a warning output', () => {
    const { api } = synth();
    api.resourceCountIs('Custom::CcriDemoData', 1);
    const outputs = api.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(String(outputs.DemoDataWarning?.Value)).toMatch(/DEMO DATA IS ON.*PUBLISHED secrets.*ccri:demoData=false/);
    expect(outputs.WriterSecretArn?.Value).toEqual({ Ref: secretId(api, 'WriterClientSecret') });
  });

  it('generates the writer secret in Secrets Manager: no secret value in the template', () => {
    const { api } = synth();
    const id = secretId(api, 'WriterClientSecret')!;
    const secret = api.toJSON().Resources[id];
    expect(secret.Properties.SecretString).toBeUndefined();
    expect(secret.Properties.GenerateSecretString).toMatchObject({ PasswordLength: 64, ExcludePunctuation: true });
    const seed = functionsOf(api).find((f) => f.service === 'ccri-seed')!;
    expect(seed.env).toMatchObject({ DEMO_DATA: 'true' });
    api.hasResourceProperties('Custom::CcriDemoData', { WriterSecretArn: { Ref: id } });
  });

  it('gives the seed function every table name as TABLE_<id>', () => {
    const seed = functionsOf(synth().api).find((f) => f.service === 'ccri-seed')!;
    for (const spec of TABLES) {
      const exportName = seed.env[`TABLE_${spec.id}`]['Fn::ImportValue'] as string;
      expect(exportName, spec.id).toMatch(new RegExp(`:ExportsOutputRefTables${spec.id}[0-9A-F]{8}[0-9A-F]{8}$`));
    }
    expect(seed.properties.Timeout).toBe(300);
  });

  it('off: no demo-data custom resource, no writer secret, no warning', () => {
    const { api } = synth({ 'ccri:demoData': false });
    api.resourceCountIs('Custom::CcriDemoData', 0);
    expect(secretId(api, 'WriterClientSecret')).toBeUndefined();
    const outputs = Object.keys(api.toJSON().Outputs);
    expect(outputs).not.toContain('DemoDataWarning');
    expect(outputs).not.toContain('WriterSecretArn');
    const seed = functionsOf(api).find((f) => f.service === 'ccri-seed');
    if (seed) expect(seed.env.DEMO_DATA).toBe('false');
  });

  it('accepts the flag from the command line as a string', () => {
    synth({ 'ccri:demoData': 'false' }).api.resourceCountIs('Custom::CcriDemoData', 0);
  });
});

describe.runIf(FUNCTION_NAMES.includes('admin'))('the first admin client', () => {
  it.each([
    ['demo data on', {}],
    ['demo data off', { 'ccri:demoData': false }],
  ])('is bootstrapped at deploy with a generated secret, %s', (_, context) => {
    const { api } = synth(context);
    const id = secretId(api, 'AdminClientSecret')!;
    const secret = api.toJSON().Resources[id];
    expect(secret.Properties.SecretString).toBeUndefined();
    expect(secret.Properties.GenerateSecretString).toMatchObject({
      SecretStringTemplate: '{"clientId":"ccri-admin"}',
      GenerateStringKey: 'clientSecret',
      PasswordLength: 64,
    });
    api.hasResourceProperties('Custom::CcriAdminClient', { AdminSecretArn: { Ref: id } });
    expect(api.toJSON().Outputs.AdminSecretArn.Value).toEqual({ Ref: id });
  });
});
