/**
 * Write units per create on DynamoDB, computed from the items a create writes (functions/store/writes.ts
 * `firstVersionItems`, through functions/seed/loader.ts `seedItems`: the same items the repository writes) with
 * DynamoDB's item-size rules: attribute names and values in UTF-8 bytes, numbers about 1 byte per 2 digits + 1; one
 * WCU per 1 KB of each item, rounded up per item (standard, non-transactional writes; a TransactWriteItems would
 * double each).
 */
import type { ResourceType } from '../contract/resource-types';
import { demoResources, generatePatients } from '../functions/seed/demo-data';
import { seedItems } from '../functions/seed/loader';

export function itemBytes(item: Record<string, unknown>): number {
  const size = (v: unknown): number => {
    if (typeof v === 'string') return Buffer.byteLength(v, 'utf8');
    if (v instanceof Uint8Array) return v.length;
    if (typeof v === 'number') return Math.ceil(String(Math.abs(v)).replace(/^0+|\./g, '').length / 2) + 1;
    if (typeof v === 'boolean' || v === null) return 1;
    if (Array.isArray(v)) return 3 + v.reduce((n: number, x) => n + 1 + size(x), 0);
    if (typeof v === 'object') return 3 + Object.entries(v as object).reduce((n, [k, x]) => n + 1 + Buffer.byteLength(k) + size(x), 0);
    return 0;
  };
  return Object.entries(item).reduce((n, [k, v]) => n + Buffer.byteLength(k) + size(v), 0);
}

export interface WriteCost {
  label: string;
  items: number;
  indexItems: number;
  resourceBytes: number;
  wcu: number;
}

export function createCost(label: string, type: ResourceType, resource: Record<string, unknown> & { id: string }): WriteCost {
  const items = seedItems({ ...resource, resourceType: type }, new Date(0).toISOString());
  const wcu = items.reduce((n, item) => n + Math.max(1, Math.ceil(itemBytes(item) / 1024)), 0);
  return { label, items: items.length, indexItems: items.length - 1, resourceBytes: itemBytes(items[0]!), wcu };
}

/**
 * What a Care Connect Patient from a patient administration system typically holds: the NHS number (with its
 * verification status), one official name (family and one given name), gender, birth date, one home address and one
 * phone number, a GP practice. The demo Patient/1 and the generated one are richer on purpose (a local identifier
 * too, two given names, a title, phone AND email: 12 searchable values).
 */
export const TYPICAL_PATIENT_IS = 'NHS number, family + given name, gender, birth date, postcode, phone, GP practice';
export const TYPICAL_PATIENT = {
  resourceType: 'Patient',
  id: '8d3c6f0e-2b1a-4c5d-9e8f-7a6b5c4d3e2f',
  identifier: [
    {
      system: 'https://fhir.nhs.uk/Id/nhs-number',
      value: '9990000018',
      extension: [
        {
          url: 'https://fhir.hl7.org.uk/STU3/StructureDefinition/Extension-CareConnect-NHSNumberVerificationStatus-1',
          valueCodeableConcept: {
            coding: [{ system: 'https://fhir.hl7.org.uk/STU3/CodeSystem/CareConnect-NHSNumberVerificationStatus-1', code: '01', display: 'Number present and verified' }],
          },
        },
      ],
    },
  ],
  name: [{ use: 'official', family: 'Smith', given: ['Grace'] }],
  telecom: [{ system: 'phone', value: '07700900073', use: 'mobile' }],
  gender: 'female',
  birthDate: '1968-12-08',
  address: [{ use: 'home', line: ['12 Acacia Avenue'], city: 'Leeds', postalCode: 'LS11 5DT', country: 'GB' }],
  generalPractitioner: [{ reference: 'Organization/2' }],
};

/** One row per demo resource type (its first demo resource), and the generated benchmark Patient. */
export function writeCostTable(): WriteCost[] {
  const seen = new Set<string>();
  const rows: WriteCost[] = [];
  for (const r of demoResources()) {
    if (seen.has(r.resourceType)) continue;
    seen.add(r.resourceType);
    rows.push(createCost(`${r.resourceType}/${r.id} (demo)`, r.resourceType as ResourceType, r));
  }
  const { patients } = generatePatients(1, 1);
  rows.push(createCost('Patient (generated, bench/P5-P8)', 'Patient', patients[0]!));
  rows.push(createCost(`Patient (typical: ${TYPICAL_PATIENT_IS})`, 'Patient', TYPICAL_PATIENT));
  return rows;
}

export function writeCostMarkdown(): string {
  const lines = ['| resource | items written | of which index items | current-version item (bytes) | WCU per create |', '|---|---|---|---|---|'];
  for (const r of writeCostTable()) lines.push(`| ${r.label} | ${r.items} | ${r.indexItems} | ${r.resourceBytes} | ${r.wcu} |`);
  return lines.join('\n');
}

if (process.argv[1]?.endsWith('bench/wcu.ts')) console.log(writeCostMarkdown());
