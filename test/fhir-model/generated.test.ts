/**
 * The model the functions import (functions/fhir-model/generated/) is what scripts/build-fhir-model.ts makes from
 * the vendored definitions today (`npm run build:model` after changing definitions/), and every invariant in it is
 * one the FHIRPath engine can run.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fhirpath from 'fhirpath';
import { describe, expect, it } from 'vitest';
import { buildModel } from '../../scripts/build-fhir-model';
import { SERVED_PROFILES } from '../../functions/fhir-model/model';
import { CONSTRAINTS } from '../../functions/fhir-model/profiles';
import { RESOURCE_TYPES } from '../../contract/resource-types';
import { stu3Model } from '../../functions/validation/fhirpath-model';

const GENERATED = join(import.meta.dirname, '..', '..', 'functions', 'fhir-model', 'generated');

describe('the compiled FHIR model', () => {
  const { files } = buildModel();

  it.each(Object.keys(files))('%s is up to date with definitions/ (run npm run build:model)', (name) => {
    expect(readFileSync(join(GENERATED, name), 'utf8') === files[name]).toBe(true);
  });

  it('has the Care Connect profile of every served type', () => {
    expect(Object.keys(SERVED_PROFILES).sort()).toEqual([...RESOURCE_TYPES].sort());
    expect(SERVED_PROFILES.Patient!.version).toBe('1.3.0');
  });

  it.each(CONSTRAINTS.map((c) => [c.key, c.expression] as const))('invariant %s compiles: %s', (_, expression) => {
    expect(() => fhirpath.compile(expression, stu3Model as never)).not.toThrow();
  });
});
