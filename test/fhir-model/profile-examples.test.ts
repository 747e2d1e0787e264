/**
 * "Every Care Connect example the profiles ship validates": the vendored Care Connect definitions ship NO instance
 * examples (no example resources, no `ImplementationGuide` examples; see definitions/MANIFEST.md), only
 * element-level examples (`ElementDefinition.example`, inherited from the core data types: an identifier, an
 * address, a period, a photo). Each of those is checked here against its element's type, with the validator's own
 * primitive rules. Whole resources are covered elsewhere: the 14 fixtures, the demo data and generated patients
 * validate without errors (test/validation/, functions/seed/demo-data.test.ts).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { typeTree } from '../../functions/fhir-model/model';
import { isPrimitiveValue } from '../../functions/validation/primitives';

const CARECONNECT = join(import.meta.dirname, '..', '..', 'definitions', 'careconnect');

interface Example {
  profile: string;
  path: string;
  type: string;
  value: unknown;
}

function examples(): Example[] {
  const found: Example[] = [];
  for (const file of readdirSync(CARECONNECT).filter((f) => f.startsWith('StructureDefinition-'))) {
    const sd = JSON.parse(readFileSync(join(CARECONNECT, file), 'utf8'));
    for (const element of sd.snapshot?.element ?? []) {
      for (const example of element.example ?? []) {
        const key = Object.keys(example).find((k) => k.startsWith('value'))!;
        const named = key.slice(5); // valuePeriod -> Period, valueUri -> uri (primitive type names start in lower case)
        const type = typeTree(named) ? named : named[0]!.toLowerCase() + named.slice(1);
        found.push({ profile: sd.name, path: element.id, type, value: example[key] });
      }
    }
  }
  return found;
}

/** The problems of `value` as an instance of `type`: primitives by the validator's rules, complex types by element. */
function problems(type: string, value: unknown, at: string): string[] {
  const tree = typeTree(type);
  if (!tree) return [`${at}: unknown type ${type}`];
  const valueDef = tree.kind === 'primitive-type' ? tree.root.children.find((c) => c.name === 'value')?.def : undefined;
  if (tree.kind === 'primitive-type') return isPrimitiveValue(type, value, valueDef?.jsonType, valueDef?.regex) ? [] : [`${at}: not a valid ${type}: ${JSON.stringify(value)}`];
  if (typeof value !== 'object' || value === null) return [`${at}: not a ${type} object`];
  return Object.entries(value).flatMap(([name, v]) => {
    const child = tree.root.children.find((c) => c.name === name);
    const code = child?.def.type?.[0]?.code;
    return code ? problems(code, v, `${at}.${name}`) : [`${at}.${name}: not an element of ${type}`];
  });
}

/**
 * The one example that is not a valid value, and why: core STU3's Identifier.system example is prose ("http://… or
 * urn:ietf:rfc:3986 if …"), which no uri can be. Care Connect inherits it in every identifier.
 */
const isCoreProse = (e: Example) => e.path.endsWith('.system') && String(e.value).includes(' if the Identifier.value itself');

describe('the element examples the Care Connect profiles ship', () => {
  const all = examples();

  it('are element examples only: the definitions hold no example resource', () => {
    expect(all.length).toBeGreaterThan(100);
    const files = readdirSync(CARECONNECT);
    expect(files.filter((f) => !/^(StructureDefinition|ValueSet|CodeSystem|NamingSystem)-/.test(f) && f.endsWith('.json'))).toEqual([]);
  });

  it.each(all.filter((e) => !isCoreProse(e)).map((e) => [`${e.profile} ${e.path}`, e] as const))('%s: its example is a valid value', (_, e) => {
    expect(problems(e.type, e.value, e.path)).toEqual([]);
  });

  it('refuses the prose example core STU3 gives Identifier.system (a uri holds no spaces), as the HL7 validator does', () => {
    const prose = all.filter(isCoreProse);
    expect(prose.length).toBeGreaterThan(0);
    for (const e of prose) expect(problems(e.type, e.value, e.path)).toHaveLength(1);
  });
});
