import { describe, expect, it } from 'vitest';
import { baseUrlEnv, booleanEnv, intEnv, listEnv, optionalEnv, requiredEnv } from './env';

describe('reading configuration from the environment', () => {
  it('requires a variable the function cannot run without, naming it', () => {
    expect(requiredEnv('TABLE_NAME', { TABLE_NAME: 'Fhir' })).toBe('Fhir');
    expect(() => requiredEnv('TABLE_NAME', { TABLE_NAME: '' })).toThrow('environment variable TABLE_NAME is not set');
  });

  it('treats a blank optional variable as unset, and trims', () => {
    expect(optionalEnv('ISSUER', { ISSUER: '  ' })).toBeUndefined();
    expect(optionalEnv('ISSUER', { ISSUER: ' https://x ' })).toBe('https://x');
    expect(baseUrlEnv('ISSUER', { ISSUER: 'https://x/prod//' })).toBe('https://x/prod');
  });

  it.each([
    [undefined, 3600],
    ['', 3600],
    [' 120 ', 120],
  ])('reads an integer within its bounds (%j -> %i)', (raw, value) => {
    expect(intEnv('TOKEN_LIFETIME_SECONDS', { min: 60, max: 86_400, fallback: 3600 }, { TOKEN_LIFETIME_SECONDS: raw })).toBe(value);
  });

  it.each(['59', '86401', '1.5', 'abc', '1e3x'])('refuses %j for an integer variable, naming the bounds', (raw) => {
    expect(() => intEnv('TOKEN_LIFETIME_SECONDS', { min: 60, max: 86_400, fallback: 3600 }, { TOKEN_LIFETIME_SECONDS: raw })).toThrow(
      `TOKEN_LIFETIME_SECONDS must be an integer from 60 to 86400, not ${raw}`,
    );
  });

  it('reads booleans as true/false only, the fallback when unset', () => {
    expect(booleanEnv('STRICT_PATIENT_SCOPES', false, {})).toBe(false);
    expect(booleanEnv('STRICT_PATIENT_SCOPES', false, { STRICT_PATIENT_SCOPES: 'TRUE' })).toBe(true);
    expect(() => booleanEnv('STRICT_PATIENT_SCOPES', false, { STRICT_PATIENT_SCOPES: 'yes' })).toThrow('STRICT_PATIENT_SCOPES must be "true" or "false"');
  });

  it('splits comma-separated lists, dropping blanks', () => {
    expect(listEnv('KMS_KEY_IDS', { KMS_KEY_IDS: 'alias/new, key-old,, ' })).toEqual(['alias/new', 'key-old']);
    expect(listEnv('KMS_KEY_IDS', {})).toEqual([]);
  });
});
