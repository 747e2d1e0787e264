import { describe, expect, it } from 'vitest';
import { DEFINITIONS } from '../fhir/definitions';
import { RESOURCE_TYPES } from '../../contract/resource-types';
import { searchValues } from '../fhir/search';
import { isValidNhsNumber } from '../validation/nhs-number';
import { isSnomedConceptId } from '../validation/snomed';
import { validateResource } from '../validation';
import { profileUrl, type ResourceType } from '../../contract/resource-types';
import { byType, demoResources, generatePatients, NHS_NUMBER_SYSTEM, SNOMED } from './demo-data';

const resources = demoResources();
const groups = byType(resources);

function codings(value: unknown, out: { system?: string; code?: string }[] = []) {
  if (Array.isArray(value)) value.forEach((v) => codings(v, out));
  else if (value && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    if (typeof o.system === 'string' && typeof o.code === 'string') out.push(o as { system: string; code: string });
    Object.values(o).forEach((v) => codings(v, out));
  }
  return out;
}

describe('demo data', () => {
  it('has resources of all 14 types with unique ids per type', () => {
    expect([...groups.keys()].sort()).toEqual([...RESOURCE_TYPES].sort());
    for (const list of groups.values()) expect(new Set(list.map((r) => r.id)).size).toBe(list.length);
  });

  it('has patients 1..10, each with a valid 999-range NHS number verified (01) and an official name with a family', () => {
    const patients = groups.get('Patient')!;
    expect(patients.map((p) => p.id)).toEqual(['1', '2', '3', '4', '5', '6', '7', '8', '9', '10']);
    for (const p of patients) {
      const nhs = (p.identifier as { system: string; value: string; extension: unknown[] }[]).find((i) => i.system === NHS_NUMBER_SYSTEM)!;
      expect(nhs.value).toMatch(/^999\d{7}$/);
      expect(isValidNhsNumber(nhs.value)).toBe(true);
      expect(JSON.stringify(nhs.extension)).toContain('"code":"01"');
      expect((p.name as { use: string; family: string }[]).find((n) => n.use === 'official')?.family).toBeTruthy();
    }
  });

  it('uses only well-formed SNOMED CT concept ids', () => {
    for (const c of codings(resources).filter((c) => c.system === SNOMED)) expect(isSnomedConceptId(c.code!), c.code).toBe(true);
  });

  it.each(resources.map((r) => [`${r.resourceType}/${r.id}`, r] as const))('%s conforms to its Care Connect profile', async (_, r) => {
    const type = r.resourceType as ResourceType;
    const issues = await validateResource({ ...r, meta: { profile: [profileUrl(type)] } }, type);
    expect(issues.filter((i) => i.severity === 'error')).toEqual([]);
  });

  describe.each(RESOURCE_TYPES)('%s', (type) => {
    // CareConnect-MedicationRequest-1 allows no medicationCodeableConcept, which is all that `code` searches.
    const unexercisable: Record<string, string[]> = { MedicationRequest: ['code'] };
    it.each(Object.keys(DEFINITIONS[type].searchParams).filter((p) => !unexercisable[type]?.includes(p)))('exercises the search parameter %s', (param) => {
      const hits = groups.get(type)!.filter((r) => searchValues(type, r).has(param));
      expect(hits.length).toBeGreaterThan(0);
    });
  });
});

describe('generatePatients', () => {
  it('is deterministic for a seed and gives distinct valid NHS numbers', () => {
    const a = generatePatients(200, 7);
    const b = generatePatients(200, 7);
    expect(a).toEqual(b);
    const numbers = a.patients.map((p) => (p.identifier as { value: string }[])[0]!.value);
    expect(new Set(numbers).size).toBe(200);
    expect(numbers.every(isValidNhsNumber)).toBe(true);
    expect(a.conditions.every((c) => a.patients.some((p) => (c.subject as { reference: string }).reference === `Patient/${p.id}`))).toBe(true);
  });
});
