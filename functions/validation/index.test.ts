import { describe, expect, it } from 'vitest';
import { fixture } from '../../test/validation/fixtures';
import { hasErrors, readValidateInput, validateResource, validationOutcome } from './index';

describe('validateResource', () => {
  it.each([
    ['an array', []],
    ['a string', 'Patient'],
    ['null', null],
  ])('refuses %s as not a resource, with one invalid issue', async (_, body) => {
    expect(await validateResource(body, 'Patient')).toEqual([
      { severity: 'error', code: 'invalid', expression: ['Patient'], location: ['/f:Patient'], diagnostics: expect.stringContaining('not a FHIR resource') },
    ]);
  });

  it('reports only the type mismatch when the resourceType is another served type', async () => {
    const condition = fixture('Condition');
    expect(await validateResource(condition, 'Patient')).toEqual([
      { severity: 'error', code: 'invalid', expression: ['Patient'], location: ['/f:Patient'], diagnostics: "resourceType 'Condition' does not match the endpoint, which takes Patient resources." },
    ]);
  });

  it('lists every issue of a resource with several problems: unknown elements first, then in definition order', async () => {
    const patient = fixture('Patient');
    patient.identifier[0].value = '9434765918';
    patient.birthDate = '1970-02-30';
    patient.gender = 'mail';
    patient.colour = 'blue';
    const issues = await validateResource(patient, 'Patient');
    expect(issues.map((i) => [i.severity, i.code, i.expression[0]])).toEqual([
      ['error', 'structure', 'Patient.colour'],
      ['error', 'value', 'Patient.identifier[0].value'],
      ['error', 'code-invalid', 'Patient.gender'],
      ['error', 'value', 'Patient.birthDate'],
    ]);
  });

  it('requires an id in update mode', async () => {
    const patient = fixture('Patient');
    delete patient.id;
    expect(await validateResource(patient, 'Patient', { mode: 'update' })).toContainEqual(
      expect.objectContaining({ severity: 'error', code: 'required', expression: ['Patient.id'] }),
    );
    expect(await validateResource(patient, 'Patient', { mode: 'create' })).toEqual([]);
  });

  it('requires the id to match the one in the URL', async () => {
    expect(await validateResource(fixture('Patient'), 'Patient', { id: 'p2' })).toEqual([
      expect.objectContaining({ severity: 'error', code: 'invalid', expression: ['Patient.id'] }),
    ]);
    expect(await validateResource(fixture('Patient'), 'Patient', { id: 'p1', mode: 'update' })).toEqual([]);
  });

  it.each([
    ['a backbone element', (patient: Record<string, any>, deep: unknown) => (patient.contact[0].period = deep)],
    ['nested extensions', (patient: Record<string, any>, deep: unknown) => (patient.extension = [deep])],
  ])('refuses JSON nested 100,000 levels deep in %s with an issue, without exhausting the stack', async (_, place) => {
    let deep: Record<string, unknown> = { url: 'http://example.org/leaf', valueString: 'x' };
    for (let i = 0; i < 100_000; i++) deep = { url: 'http://example.org/node', extension: [deep] };
    const patient = fixture('Patient');
    place(patient, deep);
    const issues = await validateResource(patient, 'Patient');
    expect(issues).toContainEqual(expect.objectContaining({ severity: 'error', code: 'structure', diagnostics: expect.stringContaining('nested more than 64 levels') }));
  });

  it('gives the same issues whatever was validated before (its per-element tables keep nothing of an instance)', async () => {
    const bad = fixture('Patient');
    bad.deceasedBoolean = 'yes'; // a choice present twice, each value checked as the type its key names
    bad.deceasedDateTime = '2020-01-01';
    bad.extension = [...(bad.extension ?? []), { url: 'http://example.org/x', valueString: 'a', valueBoolean: true }];
    bad.telecom = [{ value: '0123' }]; // an invariant of the type (cpt-2) and a required element
    const first = await validateResource(structuredClone(bad), 'Patient');
    expect(first.map((i) => [i.code, i.expression[0]])).toEqual([
      ['structure', 'Patient.extension[1].value[x]'],
      ['structure', 'Patient.extension[1].value[x]'],
      ['required', 'Patient.telecom[0].system'],
      ['invariant', 'Patient.telecom[0]'],
      ['structure', 'Patient.deceased[x]'],
      ['structure', 'Patient.deceased[x]'],
      ['value', 'Patient.deceasedBoolean'],
    ]);
    for (const resource of [fixture('Patient'), bad, fixture('Condition'), bad]) await validateResource(structuredClone(resource), resource.resourceType);
    expect(await validateResource(structuredClone(bad), 'Patient')).toEqual(first);
    expect(await validateResource(fixture('Patient'), 'Patient')).toEqual([]);
  });

  it('does not change the resource it validates', async () => {
    const patient = fixture('Patient');
    patient.gender = 'mail';
    const before = structuredClone(patient);
    await validateResource(patient, 'Patient');
    expect(patient).toEqual(before);
  });
});

describe('validationOutcome', () => {
  it('says that a conformant resource conforms, with one information issue naming the profile', async () => {
    expect(validationOutcome([], 'Condition')).toEqual({
      resourceType: 'OperationOutcome',
      issue: [
        {
          severity: 'information',
          code: 'informational',
          diagnostics: 'The resource conforms to https://fhir.hl7.org.uk/STU3/StructureDefinition/CareConnect-Condition-1: no errors, no warnings.',
        },
      ],
    });
  });

  it('lists the issues of a non-conformant resource', async () => {
    const condition = fixture('Condition');
    delete condition.subject;
    const issues = await validateResource(condition, 'Condition');
    expect(validationOutcome(issues, 'Condition')).toEqual({ resourceType: 'OperationOutcome', issue: issues });
  });
});

describe('hasErrors', () => {
  it('is true for errors and fatals, false for warnings and information only', async () => {
    expect(hasErrors([{ severity: 'warning', code: 'required' }, { severity: 'information', code: 'informational' }])).toBe(false);
    expect(hasErrors([{ severity: 'warning', code: 'required' }, { severity: 'error', code: 'value' }])).toBe(true);
    expect(hasErrors([{ severity: 'fatal', code: 'exception' }])).toBe(true);
  });

  it('lets a Medication without a code through (Medication.code is 0..1 in CareConnect-Medication-1)', async () => {
    const medication = fixture('Medication');
    delete medication.code;
    const issues = await validateResource(medication, 'Medication');
    expect(hasErrors(issues)).toBe(false);
  });
});

describe('readValidateInput', () => {
  it('takes a bare resource as the resource to validate', async () => {
    const patient = fixture('Patient');
    expect(readValidateInput(patient)).toEqual({ resource: patient });
  });

  it('unwraps a Parameters resource with resource, mode and profile', async () => {
    const patient = fixture('Patient');
    const body = {
      resourceType: 'Parameters',
      parameter: [
        { name: 'resource', resource: patient },
        { name: 'mode', valueCode: 'update' },
        { name: 'profile', valueUri: 'https://fhir.hl7.org.uk/STU3/StructureDefinition/CareConnect-Patient-1' },
      ],
    };
    expect(readValidateInput(body)).toEqual({
      resource: patient,
      mode: 'update',
      profile: 'https://fhir.hl7.org.uk/STU3/StructureDefinition/CareConnect-Patient-1',
    });
  });

  it('gives no resource for a Parameters without one, which then fails validation as not a resource', async () => {
    const input = readValidateInput({ resourceType: 'Parameters', parameter: [{ name: 'mode', valueCode: 'create' }] });
    expect(input.resource).toBeUndefined();
    expect((await validateResource(input.resource, 'Patient'))[0]).toEqual(expect.objectContaining({ code: 'invalid' }));
  });
});
