import { describe, expect, it } from 'vitest';
import { accessFromClaims } from '../scopes/permissions';
import { configFromEnv } from './config';

const env = {
  TABLE_NAME: 'Fhir',
  DATA_ACCESS_ROLE_ARN: 'arn:aws:iam::123456789012:role/data-access',
  DATA_TABLE_ARN: 'arn:aws:dynamodb:eu-west-2:123456789012:table/Fhir',
};

describe('the FHIR function configuration', () => {
  it('reaches the data only through the data-access role: without its ARN the function fails at init', () => {
    const { DATA_ACCESS_ROLE_ARN: _r, ...withoutRole } = env;
    expect(() => configFromEnv(withoutRole)).toThrow(/DATA_ACCESS_ROLE_ARN/);
    const { DATA_TABLE_ARN: _t, ...withoutTable } = env;
    expect(() => configFromEnv(withoutTable)).toThrow(/DATA_TABLE_ARN/);
  });

  it('DATA_ACCESS=direct (emulators only): one shared client, no role needed; any other value fails at init', () => {
    const { clientFor } = configFromEnv({ TABLE_NAME: 'Fhir', DATA_ACCESS: 'direct', POWERTOOLS_LOG_LEVEL: 'SILENT' });
    expect(clientFor(accessFromClaims({ clientId: 'a', scope: 'user/Patient.read' }))).toBe(clientFor(accessFromClaims({ clientId: 'b', scope: 'user/*.read' })));
    expect(() => configFromEnv({ ...env, DATA_ACCESS: 'none' })).toThrow(/DATA_ACCESS/);
  });

  it('gives one scoped client per distinct grant set (made without calling STS)', () => {
    const { clientFor, tableName } = configFromEnv(env);
    expect(tableName).toBe('Fhir');
    const reader = clientFor(accessFromClaims({ clientId: 'c', scope: 'user/Patient.read' }));
    expect(clientFor(accessFromClaims({ clientId: 'c', scope: 'user/Patient.read' }))).toBe(reader);
    expect(clientFor(accessFromClaims({ clientId: 'c', scope: 'user/*.read' }))).not.toBe(reader);
  });
});
