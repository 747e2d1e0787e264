/**
 * What `sam local start-api -t cdk.out/<api stack>.template.json` reads from the synthesized template, and must find
 * there for docs/local-emulators.md to hold. SAM CLI passes a function only the environment variables its template
 * declares ([S8] in test/emulators/events.ts), so ISSUER and AUDIENCE have to be in the template (`ccri:issuer`),
 * not only in `--env-vars`.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { synth } from '../cdk/synth';

const ISSUER = 'http://host.docker.internal:3000';

function functionsByEntry(template: ReturnType<typeof synth>['api']): Map<string, Record<string, unknown>> {
  const byEntry = new Map<string, Record<string, unknown>>();
  for (const fn of Object.values(template.findResources('AWS::Lambda::Function'))) {
    const env = ((fn as { Properties: { Environment?: { Variables?: Record<string, unknown> } } }).Properties.Environment?.Variables ?? {});
    byEntry.set(String(env.POWERTOOLS_SERVICE_NAME), env);
  }
  return byEntry;
}

describe('the API template, as sam local reads it', () => {
  let synthesized: ReturnType<typeof synth>;
  // One synthesis (20-40 s on a loaded machine), outside the per-test timeout.
  beforeAll(() => {
    synthesized = synth({ 'ccri:issuer': ISSUER }, { nag: false });
  }, 180_000);

  it('declares ISSUER and AUDIENCE on the authorizer and the token function with ccri:issuer, so --env-vars can set them', () => {
    const fns = functionsByEntry(synthesized.api);
    for (const name of ['ccri-authorizer', 'ccri-token']) {
      expect(fns.get(name), name).toMatchObject({ ISSUER, AUDIENCE: `${ISSUER}/STU3` });
    }
    expect(fns.get('ccri-metadata')).toMatchObject({ TOKEN_ISSUER: ISSUER });
  });

  it('has one TOKEN authorizer on the Authorization header (the one identity source SAM CLI reads) and a stage SAM names the method ARN by', () => {
    const { api, config } = synthesized;
    api.hasResourceProperties('AWS::ApiGateway::Authorizer', { Type: 'TOKEN', IdentitySource: 'method.request.header.Authorization' });
    api.hasResourceProperties('AWS::ApiGateway::Stage', { StageName: config.stage });
  });
});
