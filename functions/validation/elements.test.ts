/**
 * The element tables against an independent source: the STU3 interfaces of @types/fhir (3.0.x), read from its
 * declaration file. A missing or misspelt element name in `elements.ts` fails here.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { RESOURCE_TYPES } from '../fhir/resource-types';
import { DATA_TYPE_DEFINITIONS, RESOURCE_DEFINITIONS } from './elements';

const declarations = readFileSync(createRequire(import.meta.url).resolve('@types/fhir/index.d.ts'), 'utf8');

/** The property names of `interface <name> extends ... { ... }`, without `_x` siblings and resourceType. */
function interfaceProperties(name: string): string[] {
  const match = new RegExp(`\\n    interface ${name}(?: extends [\\w, ]+)? \\{\\n([\\s\\S]*?)\\n    \\}\\n`).exec(declarations);
  if (!match) throw new Error(`interface ${name} not found`);
  return [...match[1]!.matchAll(/\n {8}(\w+)\??: /g)]
    .map((m) => m[1]!)
    .filter((p) => !p.startsWith('_') && p !== 'resourceType');
}

const RESOURCE_BASE = ['id', 'meta', 'implicitRules', 'language', 'text', 'contained', 'extension', 'modifierExtension'];

describe('the STU3 element table', () => {
  it.each(RESOURCE_TYPES)('of %s has exactly the elements of the @types/fhir interface', (type) => {
    const expected = [...RESOURCE_BASE, ...interfaceProperties(type)].sort();
    const actual = [...RESOURCE_DEFINITIONS.get(type)!.properties.keys()].sort();
    expect(actual).toEqual(expected);
  });

  it.each(['Coding', 'CodeableConcept', 'Identifier', 'HumanName', 'ContactPoint', 'Address', 'Period', 'Quantity', 'Range', 'Ratio', 'Reference', 'Meta', 'Narrative', 'Annotation', 'Attachment'])(
    'of the data type %s has exactly the elements of the @types/fhir interface',
    (type) => {
      const expected = ['id', 'extension', ...interfaceProperties(type)].sort();
      expect([...DATA_TYPE_DEFINITIONS.get(type)!.properties.keys()].sort()).toEqual(expected);
    },
  );

  it('marks as required the elements @types/fhir declares without "?"', () => {
    for (const type of RESOURCE_TYPES) {
      const match = new RegExp(`\\n    interface ${type} extends \\w+ \\{\\n([\\s\\S]*?)\\n    \\}\\n`).exec(declarations)!;
      const required = [...match[1]!.matchAll(/\n {8}(\w+): /g)].map((m) => m[1]!).filter((p) => p !== 'resourceType');
      const definition = RESOURCE_DEFINITIONS.get(type)!;
      for (const name of required) expect(definition.properties.get(name)?.element.required, `${type}.${name}`).toBe(true);
    }
  });
});
