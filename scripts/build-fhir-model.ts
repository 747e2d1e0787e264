/**
 * Builds the FHIR model the functions import (functions/fhir-model/generated/*.json) from the vendored official
 * definitions (definitions/: FHIR STU3 3.0.1 core + the Care Connect STU3 profiles, see definitions/README.md).
 *
 *   npm run build:model                       definitions/ -> functions/fhir-model/generated/
 *   npm run build:model -- --vendor <dir>     first copies from <dir> (the reference folder) what the model needs
 *                                             into definitions/ (pruned Bundles, one file per Care Connect resource)
 *
 * The output is committed: `npm ci && npm test` needs no build step, and test/fhir-model/generated.test.ts checks
 * that it is what this script makes from definitions/ today. Nothing here runs in a Lambda.
 *
 * What is kept of each StructureDefinition: its snapshot elements, compacted to what validation, XML and
 * `_summary` use (id, cardinality, types, slicing, fixed/pattern, binding, constraints, isSummary, contentReference).
 * Value sets bound required/extensible/preferred are expanded to {system: codes}; the parts that cannot be
 * enumerated from the files here (SNOMED CT refsets and ECL, external code systems) are listed as `open` systems.
 */
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');
const DEFS = join(ROOT, 'definitions');
const OUT = join(ROOT, 'functions', 'fhir-model', 'generated');

/** The 14 Care Connect profiles served, one per resource type. */
export const SERVED = [
  'Patient', 'Practitioner', 'PractitionerRole', 'Organization', 'Location', 'Encounter', 'Condition', 'Procedure',
  'Observation', 'AllergyIntolerance', 'Immunization', 'Medication', 'MedicationStatement', 'MedicationRequest',
] as const;
/** Core resources the API also writes or reads (responses, $validate input), besides the served ones. */
const EXTRA_RESOURCES = ['Bundle', 'OperationOutcome', 'Parameters', 'CapabilityStatement', 'Resource', 'DomainResource'];
const CORE_BUNDLES = ['profiles-resources', 'profiles-types', 'valuesets', 'v3-codesystems', 'v2-tables'] as const;

type Json = Record<string, any>;

const readJson = (file: string): Json => JSON.parse(readFileSync(file, 'utf8'));

// ------------------------------------------------------------------------------------------------ vendoring
function vendor(from: string): void {
  const sdsOf = (name: string) => readJson(join(from, 'stu3', `${name}.json`));
  mkdirSync(join(DEFS, 'stu3'), { recursive: true });
  mkdirSync(join(DEFS, 'careconnect'), { recursive: true });
  for (const file of readdirSync(join(from, 'careconnect'))) {
    if (file.endsWith('.json')) copyFileSync(join(from, 'careconnect', file), join(DEFS, 'careconnect', file));
  }
  // Keep, from the core Bundles, the resources the model reaches (found by building once with everything).
  const everything = Object.fromEntries(CORE_BUNDLES.map((name) => [name, sdsOf(name)]));
  const reached = reach(loadAll(everything));
  for (const name of CORE_BUNDLES) {
    const bundle = everything[name]!;
    const kept = bundle.entry.filter((e: Json) => reached.has(e.resource.url));
    writeFileSync(join(DEFS, 'stu3', `${name}.json`), JSON.stringify({ ...bundle, entry: kept }, null, 1) + '\n');
  }
}

// ------------------------------------------------------------------------------------------------ loading
interface Library {
  sds: Map<string, Json>;
  valueSets: Map<string, Json>;
  codeSystems: Map<string, Json>;
}

function loadAll(bundles: Record<string, Json>): Library {
  const lib: Library = { sds: new Map(), valueSets: new Map(), codeSystems: new Map() };
  const add = (r: Json) => {
    if (r.resourceType === 'StructureDefinition') lib.sds.set(r.url, r);
    else if (r.resourceType === 'ValueSet') lib.valueSets.set(r.url, r);
    else if (r.resourceType === 'CodeSystem') lib.codeSystems.set(r.url, r);
  };
  for (const bundle of Object.values(bundles)) for (const e of bundle.entry) add(e.resource);
  // Care Connect after core: its copies of core-URL extensions win (they are what the profiles were built with).
  for (const file of readdirSync(join(DEFS, 'careconnect')).sort()) if (file.endsWith('.json')) add(readJson(join(DEFS, 'careconnect', file)));
  return lib;
}

const coreUrl = (type: string) => `http://hl7.org/fhir/StructureDefinition/${type}`;
const ccUrl = (type: string) => `https://fhir.hl7.org.uk/STU3/StructureDefinition/CareConnect-${type}-1`;
/** The published profile binds this URL; the value set that exists has the fhir.hl7.org.uk one (MANIFEST quirk). */
const VALUE_SET_ALIASES: Record<string, string> = {
  'https://fhir.nhs.uk/STU3/ValueSet/CareConnect-ObservationInterpretation-1':
    'https://fhir.hl7.org.uk/STU3/ValueSet/CareConnect-ObservationInterpretation-1',
};

/** Every canonical URL the model needs: structure definitions, then the value sets and code systems bound. */
function reach(lib: Library): Set<string> {
  const seen = new Set<string>();
  const queue = [...SERVED.map(ccUrl), ...SERVED.map(coreUrl), ...EXTRA_RESOURCES.map(coreUrl)];
  for (const sd of lib.sds.values()) if (sd.kind === 'complex-type' || sd.kind === 'primitive-type') queue.push(sd.url);
  while (queue.length > 0) {
    const url = queue.pop()!;
    if (seen.has(url)) continue;
    seen.add(url);
    const sd = lib.sds.get(url);
    if (sd) {
      if (sd.baseDefinition && sd.derivation === 'constraint') queue.push(sd.baseDefinition);
      for (const e of sd.snapshot.element) {
        for (const t of e.type ?? []) {
          if (t.profile) queue.push(t.profile);
          if (lib.sds.has(coreUrl(t.code))) queue.push(coreUrl(t.code));
        }
        const vs = bindingUrl(e);
        if (vs && e.binding.strength !== 'example') queue.push(vs);
      }
    }
    const vs = lib.valueSets.get(url);
    if (vs) {
      for (const part of [...(vs.compose?.include ?? []), ...(vs.compose?.exclude ?? [])]) {
        if (part.system) queue.push(part.system);
        for (const v of part.valueSet ?? []) queue.push(v);
      }
    }
  }
  return seen;
}

function bindingUrl(e: Json): string | undefined {
  const url = e.binding?.valueSetReference?.reference ?? e.binding?.valueSetUri;
  return url === undefined ? undefined : (VALUE_SET_ALIASES[url] ?? url);
}

// ------------------------------------------------------------------------------------------------ compacting
/** One constraint, shared by every element that carries it. */
export interface Constraint {
  key: string;
  severity: 'error' | 'warning';
  human: string;
  expression: string;
}

const SKIPPED_CONSTRAINTS: Record<string, string> = {
  'ele-1': 'checked natively: no empty elements, no empty values, in every JSON and XML shape',
  'txt-1': 'XHTML content rules: checked natively (a div element in the XHTML namespace, no script, no active content)',
  'txt-2': 'checked natively with txt-1 (the narrative has text)',
};

/**
 * Forge writes a choice constrained to one type as a "type slice" named like the renamed element
 * (`Extension.valueCodeableConcept:valueCodeableConcept`, with no `Extension.value[x]` left). The model keeps it
 * as the choice it is: `Extension.value[x]`, of that one type.
 */
function renamedChoices(elements: Json[]): Map<string, string> {
  const renames = new Map<string, string>();
  for (const e of elements) {
    const segment = e.id.split('.').pop() as string;
    const [name, slice] = segment.split(':');
    const code = e.type?.length === 1 ? (e.type[0].code as string) : undefined;
    if (!slice || slice !== name || !code) continue;
    const suffix = code[0]!.toUpperCase() + code.slice(1);
    if (name!.endsWith(suffix)) renames.set(e.id, e.id.slice(0, e.id.length - segment.length) + name!.slice(0, -suffix.length) + '[x]');
  }
  return renames;
}

function renameId(id: string, renames: Map<string, string>): string {
  for (const [from, to] of renames) if (id === from || id.startsWith(`${from}.`)) return to + id.slice(from.length);
  return id;
}

/**
 * Invariants whose 3.0.1 expression is wrong (it fails valid resources) and that later FHIR versions corrected:
 * the corrected expression is used. Each is listed in docs/validation.md.
 */
const CORRECTED_CONSTRAINTS: Record<string, { from: string; to: string; why: string }> = {
  'obs-7': {
    from: 'value.empty() or code!=component.code',
    to: 'value.empty() or component.code.where(coding.intersect(%resource.code.coding).exists()).empty()',
    why: 'compares code with an empty collection when there is no component, so every Observation with a value fails; FHIR R4 corrected it',
  },
};

function compactElements(sd: Json, constraints: Constraint[], constraintIndex: Map<string, number>): Json[] {
  const renames = renamedChoices(sd.snapshot.element);
  return sd.snapshot.element.map((e: Json) => {
    const c: Json = { id: renameId(e.id, renames) };
    if (e.sliceName && !renames.has(e.id)) c.sliceName = e.sliceName;
    // A renamed choice keeps the cardinality of the choice it replaces (Forge gives the type slice min 0).
    c.min = renames.has(e.id) ? Math.max(e.min ?? 0, e.base?.min ?? 0) : (e.min ?? 0);
    c.max = e.max ?? '*';
    // JSON (and XML) repeat an element as its base definition does, whatever a profile narrows it to.
    if ((e.base?.max ?? e.max ?? '*') !== '1' && (e.id as string).includes('.')) c.array = true;
    if (e.type) {
      c.type = e.type
        .filter((t: Json) => t.code)
        .map((t: Json) => ({ code: t.code, ...(t.profile ? { profile: t.profile } : {}), ...(t.targetProfile ? { targetProfile: t.targetProfile } : {}) }));
      if (c.type.length === 0) delete c.type;
      const regex = e.type.flatMap((t: Json) => t.extension ?? []).find((x: Json) => x.url.endsWith('/structuredefinition-regex'));
      if (regex) c.regex = regex.valueString;
      const jsonType = e.type.flatMap((t: Json) => t._code?.extension ?? []).find((x: Json) => x.url.endsWith('/structuredefinition-json-type'));
      if (jsonType) c.jsonType = jsonType.valueString;
    }
    if (e.contentReference) c.contentReference = e.contentReference.replace(/^#/, '');
    if (e.slicing) {
      c.slicing = {
        discriminator: (e.slicing.discriminator ?? []).map((d: Json) => `${d.type}:${d.path}`),
        rules: e.slicing.rules ?? 'open',
        ...(e.slicing.ordered ? { ordered: true } : {}),
      };
    }
    for (const [key, value] of Object.entries(e)) {
      if (key.startsWith('fixed') && key !== 'fixed') c.fixed = value;
      if (key.startsWith('pattern') && key !== 'pattern') c.pattern = value;
    }
    const vs = bindingUrl(e);
    if (vs && ['required', 'extensible', 'preferred'].includes(e.binding.strength)) c.binding = { strength: e.binding.strength, valueSet: vs };
    const keys: number[] = [];
    for (const k of e.constraint ?? []) {
      if (!k.expression || SKIPPED_CONSTRAINTS[k.key]) continue;
      const corrected = CORRECTED_CONSTRAINTS[k.key];
      const expression = corrected && corrected.from === k.expression ? corrected.to : k.expression;
      const sig = `${k.key}|${expression}`;
      let index = constraintIndex.get(sig);
      if (index === undefined) {
        index = constraints.length;
        constraints.push({ key: k.key, severity: k.severity === 'warning' ? 'warning' : 'error', human: k.human, expression });
        constraintIndex.set(sig, index);
      }
      keys.push(index);
    }
    if (keys.length > 0) c.constraints = keys;
    if (e.isSummary) c.summary = true;
    if (e.isModifier) c.modifier = true;
    if (e.representation?.includes('xmlAttr')) c.xmlAttr = true;
    return c;
  });
}

/**
 * Forge snapshots spell out the inside of every data type (`Patient.identifier.period.start`…) even where the profile
 * constrains nothing there. Those subtrees are dropped when every element in them is what the data type's own
 * definition says: the model then walks the data type's definition instead, with the same result.
 */
function withoutUnconstrainedDataTypes(elements: Json[], base: Map<string, Json>): Json[] {
  const DEFAULT_EXTENSION_SLICING = JSON.stringify({ discriminator: ['value:url'], rules: 'open' });
  // The invariants of an element's type are run on every instance of the type: no need to compare them.
  const typeInvariants = (e: Json): number[] => (e.type?.length === 1 ? (base.get(e.type[0].code)?.constraints ?? []) : []);
  const comparable = (e: Json) => {
    const { id: _id, ...rest } = e;
    if (rest.constraints) {
      const own = rest.constraints.filter((c: number) => !typeInvariants(e).includes(c));
      if (own.length > 0) rest.constraints = own;
      else delete rest.constraints;
    }
    if (rest.slicing && JSON.stringify(rest.slicing) === DEFAULT_EXTENSION_SLICING) delete rest.slicing;
    return JSON.stringify(rest, Object.keys(rest).sort());
  };
  const dropped = new Set<string>();
  for (const e of elements) {
    if ([...dropped].some((d) => e.id.startsWith(`${d}.`))) continue;
    const code = e.type?.length === 1 && !e.type[0].profile ? (e.type[0].code as string) : undefined;
    if (!code || code === 'BackboneElement' || code === 'Element' || code === 'Extension' || !base.has(code)) continue;
    const inside = elements.filter((d) => d.id.startsWith(`${e.id}.`));
    if (inside.length === 0) continue;
    const same = inside.every((d) => {
      const own = base.get(code + d.id.slice(e.id.length));
      return own !== undefined && !d.sliceName && comparable(own) === comparable(d);
    });
    if (same) dropped.add(e.id);
  }
  return elements.filter((e) => ![...dropped].some((d) => e.id.startsWith(`${d}.`)));
}

// ------------------------------------------------------------------------------------------------ value sets
export interface Expansion {
  /** Codes per system. */
  codes: Record<string, string[]>;
  /** Systems whose codes cannot be enumerated here (SNOMED CT refsets, ECL, external code systems). */
  open?: string[];
}

function conceptCodes(concepts: Json[] | undefined, into: string[] = []): string[] {
  for (const c of concepts ?? []) {
    into.push(c.code);
    conceptCodes(c.concept, into);
  }
  return into;
}

function findConcept(concepts: Json[] | undefined, code: string): Json | undefined {
  for (const c of concepts ?? []) {
    if (c.code === code) return c;
    const inner = findConcept(c.concept, code);
    if (inner) return inner;
  }
  return undefined;
}

function expand(lib: Library, url: string, depth = 0): Expansion | undefined {
  const vs = lib.valueSets.get(url);
  if (!vs) {
    // A code system URL used as a value set (e.g. Attachment.contentType → BCP 13): all of it, unenumerable.
    return depth === 0 && !url.includes('/ValueSet/') && !lib.codeSystems.has(url) ? { codes: {}, open: [url] } : undefined;
  }
  const codes = new Map<string, Set<string>>();
  const open = new Set<string>();
  const add = (system: string, list: string[]) => {
    const set = codes.get(system) ?? new Set<string>();
    for (const c of list) set.add(c);
    codes.set(system, set);
  };
  for (const inc of vs.compose?.include ?? []) {
    for (const ref of inc.valueSet ?? []) {
      const inner = expand(lib, ref, depth + 1);
      if (!inner) continue;
      for (const [s, list] of Object.entries(inner.codes)) add(s, list);
      for (const s of inner.open ?? []) open.add(s);
    }
    if (!inc.system) continue;
    const cs = lib.codeSystems.get(inc.system);
    if (inc.concept) add(inc.system, inc.concept.map((c: Json) => c.code));
    else if (inc.filter) {
      const f = inc.filter[0];
      const root = cs && inc.filter.length === 1 && f.property === 'concept' && ['is-a', 'descendent-of'].includes(f.op) ? findConcept(cs.concept, f.value) : undefined;
      if (root) add(inc.system, conceptCodes(root.concept, f.op === 'is-a' ? [root.code] : []));
      else open.add(inc.system);
    } else if (cs && cs.content !== 'not-present' && cs.concept) add(inc.system, conceptCodes(cs.concept));
    else open.add(inc.system);
  }
  for (const exc of vs.compose?.exclude ?? []) {
    for (const c of exc.concept ?? []) codes.get(exc.system)?.delete(c.code);
  }
  // Core value sets of 3.0.1 sometimes carry only an expansion.
  if (codes.size === 0 && open.size === 0 && vs.expansion?.contains) {
    for (const c of vs.expansion.contains) if (c.system && c.code) add(c.system, [c.code]);
  }
  const out: Expansion = { codes: Object.fromEntries([...codes].map(([s, set]) => [s, [...set].sort()])) };
  if (open.size > 0) out.open = [...open].sort();
  return out;
}

// ------------------------------------------------------------------------------------------------ building
export interface BuiltModel {
  files: Record<string, string>;
}

export function buildModel(): BuiltModel {
  const bundles = Object.fromEntries(CORE_BUNDLES.map((name) => [name, readJson(join(DEFS, 'stu3', `${name}.json`))]));
  const lib = loadAll(bundles);
  const constraints: Constraint[] = [];
  const constraintIndex = new Map<string, number>();

  // Base types: every data type and the resources the API handles, by type name.
  const types: Record<string, Json> = {};
  for (const sd of lib.sds.values()) {
    if (sd.derivation === 'constraint' && sd.kind !== 'primitive-type') {
      // Data type profiles of core (SimpleQuantity, Age, Duration…) are types of their own in STU3 JSON.
      if (!sd.url.startsWith('http://hl7.org/fhir/StructureDefinition/') || sd.kind !== 'complex-type') continue;
    }
    if (sd.kind === 'resource' && !(SERVED as readonly string[]).includes(sd.id) && !EXTRA_RESOURCES.includes(sd.id)) continue;
    if (sd.kind === 'logical' || sd.type === 'Extension' && sd.derivation === 'constraint') continue;
    const name = sd.kind === 'resource' || sd.derivation === 'constraint' ? sd.id : sd.type;
    types[name] = {
      kind: sd.kind,
      ...(sd.baseDefinition ? { base: sd.baseDefinition.split('/').pop() } : {}),
      elements: compactElements(sd, constraints, constraintIndex),
    };
  }

  // Profiles: the 14 and every extension definition they (and their extensions) use.
  const profiles: Record<string, Json> = {};
  const baseElements = new Map<string, Json>();
  for (const [name, def] of Object.entries(types)) for (const e of def.elements) baseElements.set(e.id, e);
  const reached = reach(lib);
  for (const url of [...reached].sort()) {
    const sd = lib.sds.get(url);
    if (!sd || sd.derivation !== 'constraint' || !(sd.type === 'Extension' || url.startsWith('https://fhir.hl7.org.uk/'))) continue;
    profiles[url] = {
      type: sd.type,
      name: sd.name,
      ...(sd.version ? { version: sd.version } : {}),
      elements: withoutUnconstrainedDataTypes(compactElements(sd, constraints, constraintIndex), baseElements),
    };
  }

  // Value sets bound anywhere in the types and profiles.
  const valueSets: Record<string, Expansion> = {};
  for (const def of [...Object.values(types), ...Object.values(profiles)]) {
    for (const e of def.elements) {
      const url = e.binding?.valueSet;
      if (!url || valueSets[url]) continue;
      const expansion = expand(lib, url);
      if (expansion) valueSets[url] = expansion;
      else if (e.binding.strength !== 'preferred') throw new Error(`binding to ${url} at ${e.id}: no such value set`);
    }
  }

  const served = Object.fromEntries(
    SERVED.map((type) => {
      const sd = lib.sds.get(ccUrl(type))!;
      return [type, { url: sd.url, version: sd.version, name: sd.name }];
    }),
  );
  const sources = createHash('sha256');
  for (const name of CORE_BUNDLES) sources.update(readFileSync(join(DEFS, 'stu3', `${name}.json`)));
  for (const file of readdirSync(join(DEFS, 'careconnect')).sort()) if (file.endsWith('.json')) sources.update(readFileSync(join(DEFS, 'careconnect', file)));

  const json = (value: unknown) => JSON.stringify(value) + '\n';
  return {
    files: {
      'served.json': JSON.stringify({ fhirVersion: '3.0.1', sources: sources.digest('hex'), profiles: served, skippedConstraints: SKIPPED_CONSTRAINTS, correctedConstraints: CORRECTED_CONSTRAINTS }, null, 2) + '\n',
      'types.json': json(types),
      'profiles.json': json(profiles),
      'constraints.json': json(constraints),
      'value-sets.json': json(valueSets),
      'fhirpath-stu3.json': json(fhirpathModel(new Set(Object.keys(types)))),
    },
  };
}

/**
 * The FHIRPath engine's STU3 model (npm fhirpath, pinned), cut down to the types this model holds: the engine needs
 * it to resolve choice types and element types, and the whole of it (all 120 resources) would add 360 KB to the
 * function that validates.
 */
function fhirpathModel(typeNames: ReadonlySet<string>): Json {
  const dir = join(ROOT, 'node_modules', 'fhirpath', 'fhir-context', 'stu3');
  const keep = (path: string) => typeNames.has(path.split('.')[0]!);
  const pick = (file: string) => Object.fromEntries(Object.entries(readJson(join(dir, file))).filter(([path]) => keep(path)));
  return {
    choiceTypePaths: pick('choiceTypePaths.json'),
    pathsDefinedElsewhere: pick('pathsDefinedElsewhere.json'),
    type2Parent: readJson(join(dir, 'type2Parent.json')),
    path2Type: pick('path2Type.json'),
    path2Repeating: (JSON.parse(readFileSync(join(dir, 'path2Repeating.json'), 'utf8')) as string[]).filter(keep),
    resourcesWithUrlParam: JSON.parse(readFileSync(join(dir, 'resourcesWithUrlParam.json'), 'utf8')) as string[],
  };
}

function main(): void {
  const at = process.argv.indexOf('--vendor');
  if (at >= 0) vendor(resolve(process.argv[at + 1] ?? '../shared/reference/definitions'));
  if (!existsSync(join(DEFS, 'stu3'))) throw new Error('definitions/ is missing: run with --vendor <reference folder> once');
  const { files } = buildModel();
  mkdirSync(OUT, { recursive: true });
  for (const [name, text] of Object.entries(files)) {
    writeFileSync(join(OUT, name), text);
    console.log(`${name}: ${(Buffer.byteLength(text) / 1024).toFixed(0)} KB`);
  }
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) main();
