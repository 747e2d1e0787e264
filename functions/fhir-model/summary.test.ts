import { describe, expect, it } from 'vitest';
import { fixture } from '../../test/validation/fixtures';
import { SUBSETTED, selectElements, summarize } from './summary';

const tags = (r: Record<string, any>) => r.meta?.tag ?? [];

describe('_summary', () => {
  const patient = fixture('Patient');

  it('true: the isSummary elements only (no text, contact, extension or generalPractitioner), marked SUBSETTED', () => {
    const s = summarize(patient, 'true');
    expect(Object.keys(s).sort()).toEqual(['active', 'address', 'birthDate', 'deceasedBoolean', 'gender', 'id', 'identifier', 'managingOrganization', 'meta', 'name', 'resourceType', 'telecom']);
    expect(tags(s)).toContainEqual(SUBSETTED);
  });

  it('true: backbone elements keep their own summary elements only', () => {
    const encounter = fixture('Encounter');
    const participant = { type: [{ text: 'x' }], individual: { reference: 'Practitioner/pr1' }, period: { start: '2020-01-01' } };
    const s = summarize({ ...encounter, participant: [participant] }, 'true');
    expect(s.participant).toEqual([{ type: participant.type, individual: participant.individual }]); // period is not a summary element
    expect(summarize(fixture('Observation'), 'true').code).toEqual(fixture('Observation').code);
  });

  it('text: id, meta, text and the mandatory elements', () => {
    const condition = fixture('Condition');
    const s = summarize(condition, 'text');
    expect(Object.keys(s).sort()).toEqual(['id', 'meta', 'resourceType', 'subject'].sort());
  });

  it('data: everything but the narrative', () => {
    const s = summarize(patient, 'data');
    expect(s.text).toBeUndefined();
    expect(s.contact).toEqual(patient.contact);
    expect(tags(s)).toContainEqual(SUBSETTED);
  });

  it('false: the resource as it is', () => {
    expect(summarize(patient, 'false')).toBe(patient);
  });
});

describe('_elements', () => {
  it('keeps the elements named, id, meta and the mandatory ones, marked SUBSETTED', () => {
    const s = selectElements(fixture('Condition'), ['code', 'onset']);
    expect(Object.keys(s).sort()).toEqual(['code', 'id', 'meta', 'onsetDateTime', 'resourceType', 'subject']);
    expect(tags(s)).toEqual([SUBSETTED]);
  });

  it('does not add the tag twice', () => {
    const once = selectElements(fixture('Patient'), ['name']);
    expect(tags(selectElements(once, ['name']))).toEqual([SUBSETTED]);
  });
});
