import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { CCRI_DEMO_CLIENTS } from '../../functions/oauth/demo-clients';
import { demoClientIds } from '../../functions/seed/clients';
import { RESOURCE_TYPES } from '../../contract/resource-types';
import { FUNCTION_NAMES } from '../../contract/routes';
import { TABLES } from '../../contract/tables';
import { functionsOf, resourcesOf, synth } from './synth';

const secretId = (api: ReturnType<typeof synth>['api'], name: string) =>
  resourcesOf(api, 'AWS::SecretsManager::Secret').find(([id]) => id.includes(name))?.[0];

describe('the demo-data switch', () => {
  it('on (the default): a seed custom resource, a generated writer secret and a warning output naming the public clients', () => {
    const { api } = synth();
    api.resourceCountIs('Custom::CcriDemoData', 1);
    api.hasResourceProperties('Custom::CcriDemoData', { DemoData: 'on' });
    const outputs = api.toJSON().Outputs as Record<string, { Value: unknown }>;
    const warning = String(outputs.DemoDataWarning?.Value);
    expect(warning).toMatch(/DEMO DATA IS ON.*PUBLISHED secrets.*ccri:demoData=false/);
    for (const id of demoClientIds()) expect(warning).toContain(id);
    expect(outputs.WriterSecretArn?.Value).toEqual({ Ref: secretId(api, 'WriterClientSecret') });
  });

  it('on: cdk synth and cdk deploy print the warning (a construct warning on the API stack)', () => {
    const { stacks } = synth();
    const warnings = Annotations.fromStack(stacks.api).findWarning('*', Match.stringLikeRegexp('DEMO DATA IS ON'));
    expect(warnings).toHaveLength(1);
    expect(String(warnings[0]!.entry.data)).toContain(CCRI_DEMO_CLIENTS[0]!.clientId);
    expect(Annotations.fromStack(synth({ 'ccri:demoData': false }).stacks.api).findWarning('*', Match.stringLikeRegexp('DEMO DATA'))).toHaveLength(0);
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

  it('off: the demo-data custom resource stays, switched off (it removes the demo clients); no writer secret, no warning', () => {
    const { api } = synth({ 'ccri:demoData': false });
    api.resourceCountIs('Custom::CcriDemoData', 1);
    const [[, resource]] = resourcesOf(api, 'Custom::CcriDemoData');
    expect(resource.Properties).toMatchObject({ DemoData: 'off' });
    expect(resource.Properties!.WriterSecretArn).toBeUndefined();
    expect(secretId(api, 'WriterClientSecret')).toBeUndefined();
    const outputs = api.toJSON().Outputs as Record<string, { Value: unknown }>;
    expect(Object.keys(outputs)).not.toContain('DemoDataWarning');
    expect(Object.keys(outputs)).not.toContain('WriterSecretArn');
    expect(String(outputs.DemoData?.Value)).toMatch(/^OFF: .*removes the demo clients/);
    for (const id of demoClientIds()) expect(String(outputs.DemoData?.Value)).toContain(id);
    const seed = functionsOf(api).find((f) => f.service === 'ccri-seed');
    if (seed) expect(seed.env.DEMO_DATA).toBe('false');
  });

  it('accepts the flag from the command line as a string', () => {
    synth({ 'ccri:demoData': 'false' }).api.hasResourceProperties('Custom::CcriDemoData', { DemoData: 'off' });
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
