/**
 * Walks a JSON resource along the element trees of its profile (functions/fhir-model) and reports what does not
 * conform: unknown elements and wrong JSON shapes, cardinality (also per slice), types and choice types, primitive
 * formats, fixed and pattern values, references and their target types, extensions against their own definitions,
 * bindings against the shipped value sets, and every invariant (`constraint.expression`) through the `fhirpath`
 * engine with its STU3 model. The one rule not in the definitions, the NHS number check digit, is `nhsNumberRule`.
 *
 * This module is loaded on the first validation only (`import()` in index.ts): the FHIRPath engine and the tables
 * are not paid for by reads.
 */
import fhirpath from 'fhirpath';
import { childrenOf, choiceName, isKnownType, isPrimitiveType, isResourceTypeName, typeTree, type ElementDef, type ElementNode, type StructureTree } from '../fhir-model/model';
import { CONSTRAINTS, VALUE_SETS, profileTree } from '../fhir-model/profiles';
import { stu3Model } from './fhirpath-model';
import { Issues, quote } from './issues';
import { nhsNumberProblem } from './nhs-number';
import { PRIMITIVE_HINT, isPrimitiveValue } from './primitives';
import { narrativeProblem } from '../fhir-model/narrative';
import { isSnomedConceptId } from './snomed';
import { FHIR_ID_PATTERN } from '../../contract/fhir-id';

/** A literal reference: `Type/id[/_history/vid]`, relative or at the end of an absolute http(s) URL. */
const LITERAL_REFERENCE = new RegExp(`^(?:(https?)://[^/\\s]+(?:/[^\\s]*)?/)?([A-Za-z]+)/(${FHIR_ID_PATTERN})(?:/_history/${FHIR_ID_PATTERN})?$`);

type Json = Record<string, unknown>;

export { profileTree };

export const NHS_NUMBER_SYSTEM = 'https://fhir.nhs.uk/Id/nhs-number';
const SNOMED = 'http://snomed.info/sct';
const BACKBONE = new Set(['BackboneElement', 'Element']);
/** Deeper JSON is refused rather than walked (a resource of the 14 types is never nested more than ~12 levels). */
export const MAX_DEPTH = 64;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

// ------------------------------------------------------------------------------------------------ FHIRPath
type Compiled = (resource: unknown, env?: Record<string, unknown>) => unknown[];
/** By type context, then by invariant index. */
const compiled = new Map<string, Map<number, Compiled | null>>();

/** The invariant compiled for a type context (`Patient`, `Patient.contact`, `Period`), once per process. */
function compiledConstraint(index: number, base: string): Compiled | null {
  let byIndex = compiled.get(base);
  if (!byIndex) compiled.set(base, (byIndex = new Map()));
  let fn = byIndex.get(index);
  if (fn === undefined) {
    try {
      fn = fhirpath.compile({ base, expression: CONSTRAINTS[index]!.expression }, stu3Model as never, { traceFn: () => undefined } as never) as unknown as Compiled;
    } catch {
      fn = null; // an expression the engine cannot parse: skipped (none in the shipped definitions; see the tests)
    }
    byIndex.set(index, fn);
  }
  return fn;
}

// ------------------------------------------------------------------------------------------------ per-node tables
// The element trees never change once built (functions/fhir-model), so what the walk derives from a node or a type
// alone is worked out on first use and kept for the process, bounded by the model's size: the JSON keys of a list
// of children, the keys of a choice element, the invariants an item is checked against, a primitive's value
// definition. Nothing of an instance is kept.

interface ChildKey {
  child: ElementNode;
  type: string | undefined;
}

const keysByChildren = new WeakMap<readonly ElementNode[], Map<string, ChildKey>>();

/** The JSON property names (without `_`) the elements of a children list take, each with its element and type. */
function childKeys(children: readonly ElementNode[]): Map<string, ChildKey> {
  let byKey = keysByChildren.get(children);
  if (!byKey) {
    byKey = new Map();
    for (const child of children) {
      if (child.name.endsWith('[x]')) for (const t of child.def.type ?? []) byKey.set(choiceName(child.name, t.code), { child, type: t.code });
      else byKey.set(child.name, { child, type: child.def.type?.[0]?.code });
    }
    keysByChildren.set(children, byKey);
  }
  return byKey;
}

interface ElementKey {
  key: string;
  /** `_key`: the primitive's id and extensions. */
  extraKey: string;
  type: string | undefined;
}

interface ElementShape {
  /** The JSON keys the element may take: its name, or one per type of a choice (`value[x]`: valueString…). */
  keys: readonly ElementKey[];
  /** Absent, it breaks no rule: not required, and none of its slices is. */
  optional: boolean;
}

const shapes = new WeakMap<ElementNode, ElementShape>();

function elementShape(child: ElementNode): ElementShape {
  let shape = shapes.get(child);
  if (!shape) {
    const keys: ElementKey[] = [];
    if (child.name.endsWith('[x]')) {
      for (const t of child.def.type ?? []) {
        const key = choiceName(child.name, t.code);
        if (!keys.some((k) => k.key === key)) keys.push({ key, extraKey: `_${key}`, type: t.code });
      }
    } else keys.push({ key: child.name, extraKey: `_${child.name}`, type: child.def.type?.[0]?.code });
    shape = { keys, optional: child.def.min === 0 && !child.slices.some((slice) => slice.def.min > 0) };
    shapes.set(child, shape);
  }
  return shape;
}

const invariantsByNode = new WeakMap<ElementNode, Map<string, readonly number[]>>();

/** The invariants of an item of `type` at `node`: the element's own, then its type's (per-1, ext-1…), once each. */
function itemInvariants(node: ElementNode, type: string): readonly number[] {
  let byType = invariantsByNode.get(node);
  if (!byType) invariantsByNode.set(node, (byType = new Map()));
  let list = byType.get(type);
  if (!list) {
    list = [...new Set([...(node.def.constraints ?? []), ...(BACKBONE.has(type) ? [] : (typeTree(type)?.root.def.constraints ?? []))])];
    byType.set(type, list);
  }
  return list;
}

const rootInvariants = new WeakMap<ElementNode, readonly number[]>();

/** The invariants of a resource (or profile) root, once each. */
function resourceInvariants(root: ElementNode): readonly number[] {
  let list = rootInvariants.get(root);
  if (!list) rootInvariants.set(root, (list = [...new Set(root.def.constraints)]));
  return list;
}

const valueDefs = new Map<string, ElementDef | undefined>();

/** The definition of a primitive type's `value` (its JSON type and regex). */
function primitiveValueDef(type: string): ElementDef | undefined {
  if (!valueDefs.has(type)) valueDefs.set(type, typeTree(type)?.root.children.find((c) => c.name === 'value')?.def);
  return valueDefs.get(type);
}

// ------------------------------------------------------------------------------------------------ values
function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isObject(a) && isObject(b)) {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((k) => deepEqual(a[k], b[k]));
  }
  return false;
}

/** Whether `value` holds everything `pattern` has (arrays: every pattern item matches some value item). */
function matchesPattern(value: unknown, pattern: unknown): boolean {
  if (Array.isArray(pattern)) return Array.isArray(value) && pattern.every((p) => value.some((v) => matchesPattern(v, p)));
  if (isObject(pattern)) return isObject(value) && Object.entries(pattern).every(([k, p]) => matchesPattern(value[k], p));
  return value === pattern;
}

/** The value of a discriminator path (`system`, `url`, `coding.system`) in an instance item. */
function valueAt(item: unknown, path: string): unknown {
  let current: unknown = item;
  for (const step of path.split('.')) {
    if (step === '$this') continue;
    if (Array.isArray(current)) current = current[0];
    current = isObject(current) ? current[step] : undefined;
  }
  return Array.isArray(current) ? current[0] : current;
}

/** What a slice requires at a discriminator path: its fixed or pattern value (an extension slice: its profile). */
function sliceValueAt(slice: ElementNode, tree: StructureTree, path: string): { value: unknown; pattern: boolean } | undefined {
  let node: ElementNode | undefined = slice;
  let nodeTree = tree;
  for (const step of path.split('.')) {
    if (step === '$this' || !node) continue;
    let next: ElementNode | undefined = node.children.find((c) => c.name === step);
    if (!next) {
      const type = node.def.type?.[0]?.code;
      const inner = childrenOf(node, nodeTree, type, profileTree);
      next = inner.children.find((c) => c.name === step);
      nodeTree = inner.tree;
    }
    node = next;
  }
  if (node?.def.fixed !== undefined) return { value: node.def.fixed, pattern: false };
  if (node?.def.pattern !== undefined) return { value: node.def.pattern, pattern: true };
  if (path === 'url') {
    const profile = slice.def.type?.find((t) => t.code === 'Extension')?.profile;
    if (profile) return { value: profile, pattern: false };
  }
  return undefined;
}

function sliceMatches(item: unknown, slice: ElementNode, sliced: ElementNode, tree: StructureTree): boolean {
  const discriminators = sliced.def.slicing?.discriminator ?? [];
  if (discriminators.length === 0) return false;
  return discriminators.every((d) => {
    const [kind, path] = [d.slice(0, d.indexOf(':')), d.slice(d.indexOf(':') + 1)];
    if (kind !== 'value' && kind !== 'pattern') return false;
    const expected = sliceValueAt(slice, tree, path);
    if (!expected) return false;
    const actual = valueAt(item, path);
    return expected.pattern ? matchesPattern(actual, expected.value) : deepEqual(actual, expected.value);
  });
}

// ------------------------------------------------------------------------------------------------ the walk
interface Item {
  value: unknown;
  /** The `_element` part of a primitive (id, extensions). */
  extra?: unknown;
  fp: string;
}

export class Walker {
  private depth = 0;
  /** FHIRPath's `%resource`, the same for every invariant of this walk. */
  private readonly env: Record<string, unknown>;

  constructor(
    readonly issues: Issues,
    root: Json,
  ) {
    this.env = { resource: root };
  }

  /** Validates `resource` against `tree` (a profile or a base resource type), at `fp`. */
  resource(resource: Json, tree: StructureTree, fp: string): void {
    this.object(resource, tree.root, tree, tree.type, fp, tree.type, true);
    this.constraints(resource, resourceInvariants(tree.root), tree.type, fp);
  }

  private object(obj: Json, node: ElementNode, tree: StructureTree, type: string, fp: string, modelPath: string, isResource = false): void {
    if (this.issues.exhausted) return;
    if (this.depth >= MAX_DEPTH) {
      this.issues.error('structure', fp, `${fp} is nested more than ${MAX_DEPTH} levels deep: it was not checked further.`);
      return;
    }
    this.depth++;
    try {
      this.objectAtDepth(obj, node, tree, type, fp, modelPath, isResource);
    } finally {
      this.depth--;
    }
  }

  private objectAtDepth(obj: Json, node: ElementNode, tree: StructureTree, type: string, fp: string, modelPath: string, isResource: boolean): void {
    const { children, tree: childTree } = childrenOf(node, tree, isResource ? undefined : type, profileTree);
    const byKey = childKeys(children);
    for (const key of Object.keys(obj)) {
      if (isResource && key === 'resourceType') continue;
      if (key === 'fhir_comments') continue;
      const plain = key.startsWith('_') ? key.slice(1) : key;
      const known = byKey.get(plain);
      if (!known || (key.startsWith('_') && !(known.type && isPrimitiveType(known.type)))) {
        this.issues.error('structure', `${fp}.${key}`, `${fp}.${key} is not an element of ${node.path}: remove it or check its spelling.`);
      }
    }
    for (const child of children) this.element(obj, child, childTree, fp, modelPath);
  }

  private element(obj: Json, child: ElementNode, tree: StructureTree, parentFp: string, parentModelPath: string): void {
    const shape = elementShape(child);
    const present: ElementKey[] = [];
    for (const k of shape.keys) if (k.key in obj || k.extraKey in obj) present.push(k);
    if (present.length === 0 && shape.optional) return; // absent and not required: nothing to check
    const choice = child.name.endsWith('[x]');
    const nameFp = `${parentFp}.${child.name}`;
    if (present.length > 1) {
      this.issues.error('structure', nameFp, `${nameFp} takes one type only, but ${present.map((p) => p.key).join(' and ')} are both present.`);
    }
    const items: Item[] = [];
    /** The type of each item: that of the key it came from. */
    const itemTypes: (string | undefined)[] = [];
    const many = child.def.array === true;
    for (const { key, type } of present) {
      for (const item of this.itemsOf(obj, key, many, `${parentFp}.${key}`)) {
        items.push(item);
        itemTypes.push(type);
      }
    }
    const shownName = choice && present.length === 1 ? `${parentFp}.${present[0]!.key}` : nameFp;
    if (items.length < child.def.min) {
      this.issues.error('required', shownName, `${shownName} is required (at least ${child.def.min}) by ${tree.url ? `${tree.type} profile ${tree.url}` : `FHIR STU3 ${tree.type}`}.`);
    }
    const max = child.def.max === '*' ? Infinity : Number(child.def.max);
    if (items.length > max) {
      const why = max === 0 ? 'is not allowed here (0..0)' : `allows at most ${max} value(s), found ${items.length}`;
      this.issues.error('structure', shownName, `${shownName} ${why} in ${tree.url ? `profile ${tree.url}` : `FHIR STU3 ${tree.type}`}.`);
    }
    if (max === 0) return;
    // Slicing: each item goes to the slice it matches; the slices' cardinalities are then checked.
    const assigned = new Map<Item, ElementNode>();
    if (child.slices.length > 0 && (items.length > 0 || child.slices.some((slice) => slice.def.min > 0))) {
      for (const slice of child.slices) {
        const matched = items.filter((item) => !assigned.has(item) && sliceMatches(item.value, slice, child, tree));
        for (const item of matched) assigned.set(item, slice);
        const sliceFp = `${shownName}`;
        if (matched.length < slice.def.min) {
          this.issues.error('required', sliceFp, `${sliceFp} needs ${slice.def.min} ${slice.def.sliceName} (slice ${child.path}:${slice.def.sliceName} of ${tree.url ?? tree.type}), found ${matched.length}.`);
        }
        const sliceMax = slice.def.max === '*' ? Infinity : Number(slice.def.max);
        if (matched.length > sliceMax) {
          this.issues.error('structure', sliceFp, `${sliceFp} allows at most ${sliceMax} ${slice.def.sliceName} (slice ${child.path}:${slice.def.sliceName} of ${tree.url ?? tree.type}), found ${matched.length}.`);
        }
      }
      if (child.def.slicing?.rules === 'closed') {
        for (const item of items) {
          if (!assigned.has(item)) this.issues.error('structure', item.fp, `${item.fp} matches none of the slices of ${child.path}, and the slicing is closed.`);
        }
      }
    }
    for (let i = 0; i < items.length; i++) {
      const item = items[i]!;
      this.item(item, assigned.get(item) ?? child, tree, itemTypes[i], parentModelPath);
    }
  }

  /** The values of one JSON property, paired with their `_property` parts, checking the JSON shape. */
  private itemsOf(obj: Json, key: string, many: boolean, fp: string): Item[] {
    const value = obj[key];
    const extra = obj[`_${key}`];
    if (!many) {
      if (Array.isArray(value) || Array.isArray(extra)) {
        this.issues.error('structure', fp, `${fp} is a single element: send one value, not a JSON array.`);
        return [];
      }
      if (value === null || extra === null) {
        this.issues.error('structure', fp, `${fp} is null: leave an element out instead of sending null.`);
        return [];
      }
      return [{ value, extra, fp }];
    }
    if ((value !== undefined && !Array.isArray(value)) || (extra !== undefined && !Array.isArray(extra))) {
      this.issues.error('structure', fp, `${fp} repeats: send a JSON array, even for one value.`);
      return [];
    }
    const values = (value as unknown[] | undefined) ?? [];
    const extras = (extra as unknown[] | undefined) ?? [];
    if (values.length === 0 && extras.length === 0) {
      this.issues.error('structure', fp, `${fp} is an empty array: leave the element out instead.`);
      return [];
    }
    if (value !== undefined && extra !== undefined && values.length !== extras.length) {
      this.issues.error('structure', fp, `${fp} and _${key.split('.').pop()} have different lengths.`);
    }
    const items: Item[] = [];
    for (let i = 0; i < Math.max(values.length, extras.length); i++) {
      const v = values[i] ?? undefined;
      const x = extras[i] ?? undefined;
      if ((v === null || v === undefined) && (x === null || x === undefined)) {
        this.issues.error('structure', `${fp}[${i}]`, `${fp}[${i}] is null: arrays hold no nulls (except to align a value with its _ part).`);
        continue;
      }
      items.push({ value: v === null ? undefined : v, extra: x === null ? undefined : x, fp: `${fp}[${i}]` });
    }
    return items;
  }

  private item(item: Item, node: ElementNode, tree: StructureTree, type: string | undefined, parentModelPath: string): void {
    const { fp } = item;
    if (type === undefined || this.issues.exhausted) return;
    const modelPath = BACKBONE.has(type) ? `${parentModelPath}.${node.name}` : type;
    if (isPrimitiveType(type)) {
      this.primitive(item, type);
      if (item.extra !== undefined) {
        if (!isObject(item.extra)) this.issues.error('structure', fp, `The _ part of ${fp} must be an object with id and/or extension.`);
        else this.object(item.extra, typeTree(type)!.root, typeTree(type)!, type, fp, type);
      }
    } else if (type === 'Resource') {
      this.contained(item.value, fp);
      return;
    } else {
      if (!isObject(item.value)) {
        this.issues.error('structure', fp, `${fp} must be a JSON object (a ${type}).`);
        return;
      }
      if (Object.keys(item.value).length === 0) {
        this.issues.error('structure', fp, `${fp} is empty: leave it out instead of sending {}.`);
        return;
      }
      const extension = type === 'Extension' && typeof item.value.url === 'string' && !node.def.type?.some((t) => t.profile) ? profileTree(item.value.url) : undefined;
      if (extension) this.object(item.value, extension.root, extension, type, fp, type);
      else this.object(item.value, node, tree, type, fp, modelPath);
      if (type === 'Reference') this.reference(item.value, node, fp);
      if (type === 'Identifier') nhsNumberRule(item.value, fp, this.issues);
      if (type === 'Coding') snomedCodeRule(item.value, fp, this.issues);
    }
    const value = item.value;
    if (value !== undefined) {
      if (node.def.fixed !== undefined && !deepEqual(value, node.def.fixed)) {
        this.issues.error('value', fp, `${fp} must be exactly ${quote(node.def.fixed)} (fixed by ${tree.url ?? tree.type}), found ${quote(value)}.`);
      }
      if (node.def.pattern !== undefined && !matchesPattern(value, node.def.pattern)) {
        this.issues.error('value', fp, `${fp} must contain ${quote(node.def.pattern)} (pattern of ${tree.url ?? tree.type}).`);
      }
      if (node.def.binding) this.binding(value, type, node, fp);
    }
    if (item.value !== undefined) {
      // The element's invariants, and those of its type (per-1 on every Period, ext-1 on every Extension…), once each.
      this.constraints(item.value, itemInvariants(node, type), modelPath, fp);
    }
  }

  private primitive(item: Item, type: string): void {
    if (item.value === undefined) return;
    if (type === 'xhtml') {
      const problem = typeof item.value === 'string' ? narrativeProblem(item.value) : 'it is not a string';
      if (problem) this.issues.error('value', item.fp, `${item.fp} is not a valid narrative: ${problem} (txt-1, txt-2).`);
      return;
    }
    const valueDef = primitiveValueDef(type);
    if (!isPrimitiveValue(type, item.value, valueDef?.jsonType, valueDef?.regex)) {
      this.issues.error('value', item.fp, `${item.fp} ${quote(item.value)} is not a valid ${type}: expected ${PRIMITIVE_HINT[type] ?? type}.`);
    }
  }

  private contained(value: unknown, fp: string): void {
    if (!isObject(value) || typeof value.resourceType !== 'string') {
      this.issues.error('structure', fp, `${fp} must be a resource: a JSON object with a resourceType.`);
      return;
    }
    const tree = isResourceTypeName(value.resourceType) ? typeTree(value.resourceType) : undefined;
    if (!tree) {
      this.issues.warning('not-supported', fp, `${fp} is a ${quote(value.resourceType)}: this server holds no definition of that type, so it was not checked.`);
      return;
    }
    this.resource(value, tree, fp);
  }

  /** A reference's syntax and, where the element says, the type of its target. */
  private reference(ref: Json, node: ElementNode, fp: string): void {
    const reference = ref.reference;
    if (typeof reference !== 'string') return;
    const at = `${fp}.reference`;
    if (reference.startsWith('#')) return; // local: ref-1 (an invariant of Reference) checks the contained id
    if (reference.startsWith('urn:uuid:')) {
      if (!/^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(reference)) {
        this.issues.error('value', at, `${at} ${quote(reference)} is not a valid urn:uuid reference.`);
      }
      return;
    }
    if (reference.startsWith('urn:oid:')) return;
    const m = LITERAL_REFERENCE.exec(reference);
    if (!m || (reference.includes('://') && !m[1])) {
      this.issues.error('value', at, `${at} ${quote(reference)} is not a reference: expected Type/id, an absolute URL ending in Type/id, urn:uuid:… or #id.`);
      return;
    }
    const targetType = m[2]!;
    if (!isResourceName(targetType)) {
      this.issues.error('value', at, `${at} ${quote(reference)} names ${quote(targetType)}, which is not a FHIR STU3 resource type.`);
      return;
    }
    const targets = (node.def.type ?? []).filter((t) => t.code === 'Reference').map((t) => t.targetProfile);
    if (targets.length === 0 || targets.some((t) => t === undefined)) return;
    const allowed = targets.map((t) => targetTypeOf(t!));
    if (allowed.includes('Resource') || allowed.includes(targetType)) return;
    this.issues.error('value', at, `${at} refers to a ${targetType}, but ${node.path} refers to ${allowed.join(' or ')} only.`);
  }

  private binding(value: unknown, type: string, node: ElementNode, fp: string): void {
    const { strength, valueSet } = node.def.binding!;
    const expansion = VALUE_SETS[valueSet];
    if (!expansion) return;
    let codings: { system?: string; code?: string }[];
    if (type === 'code') codings = typeof value === 'string' ? [{ code: value }] : [];
    else if (type === 'Coding') codings = isObject(value) ? [value as { system?: string; code?: string }] : [];
    else if (type === 'CodeableConcept') codings = isObject(value) && Array.isArray(value.coding) ? (value.coding as { system?: string; code?: string }[]).filter(isObject) : [];
    else return;
    if (codings.length === 0) {
      if (strength === 'required' && type === 'CodeableConcept') {
        this.issues.error('code-invalid', fp, `${fp} has no coding, but a code from ${valueSet} is required.`);
      }
      return;
    }
    let inSet = false;
    let unchecked: string | undefined;
    for (const coding of codings) {
      if (typeof coding.code !== 'string') continue;
      if (coding.system === undefined && type === 'code') {
        if (Object.values(expansion.codes).some((codes) => codes.includes(coding.code!))) inSet = true;
        continue;
      }
      if (coding.system !== undefined && expansion.codes[coding.system]?.includes(coding.code)) inSet = true;
      else if (coding.system !== undefined && expansion.open?.includes(coding.system)) {
        // A malformed SNOMED CT code is reported once, by snomedCodeRule; membership cannot be checked either way.
        if (coding.system !== SNOMED || isSnomedConceptId(coding.code)) unchecked = coding.system;
        inSet = true;
      }
    }
    if (inSet) {
      if (unchecked && strength !== 'preferred') {
        this.issues.warning('not-supported', fp, `${fp}: membership of ${valueSet} was not checked (its ${unchecked} codes cannot be expanded without a terminology server); the code's syntax was.`);
      }
      return;
    }
    const shown = codings.map((c) => `${c.system ?? ''}${c.system ? '|' : ''}${c.code ?? ''}`).join(', ');
    const words = `${fp} ${quote(shown)} is not in the value set ${valueSet} (${strength} binding).`;
    if (strength === 'required') this.issues.error('code-invalid', fp, words);
    else this.issues.warning('code-invalid', fp, words);
  }

  /** The invariants (indices into CONSTRAINTS), evaluated on this instance of an element. */
  private constraints(value: unknown, invariants: readonly number[], modelPath: string, fp: string): void {
    for (const index of invariants) {
      const constraint = CONSTRAINTS[index]!;
      const fn = compiledConstraint(index, modelPath);
      if (!fn) continue;
      let result: unknown[];
      try {
        result = fn(value, this.env);
      } catch {
        continue; // the engine could not evaluate it on this data: not a finding about the resource
      }
      // As the HL7 validator does: an invariant holds only when it evaluates to true (false or empty: it fails).
      if (!(result.length === 1 && result[0] === true)) {
        const words = `${fp}: ${constraint.human} (invariant ${constraint.key}: ${constraint.expression})`;
        if (constraint.severity === 'error') this.issues.error('invariant', fp, words);
        else this.issues.warning('invariant', fp, words);
      }
    }
  }
}

/** The resource type a targetProfile names: a core type's name, or the type a Care Connect profile constrains. */
function targetTypeOf(url: string): string {
  const profile = profileTree(url);
  if (profile) return profile.type;
  const m = /CareConnect-([A-Za-z]+)-1$/.exec(url);
  return m ? m[1]! : url.split('/').pop()!;
}

function isResourceName(name: string): boolean {
  return VALUE_SETS['http://hl7.org/fhir/ValueSet/resource-types']?.codes['http://hl7.org/fhir/resource-types']?.includes(name) ?? isKnownType(name);
}

/**
 * The named extra rule: an NHS number (system https://fhir.nhs.uk/Id/nhs-number) is ten digits whose last is the
 * Modulus 11 check digit of the first nine. The profiles fix the system; the check digit is the NHS Data
 * Dictionary's rule, which no StructureDefinition can express.
 */
export function nhsNumberRule(identifier: Json, fp: string, issues: Issues): void {
  if (identifier.system !== NHS_NUMBER_SYSTEM || typeof identifier.value !== 'string') return;
  const problem = nhsNumberProblem(identifier.value);
  if (problem === 'format') {
    issues.error('value', `${fp}.value`, `${fp}.value ${quote(identifier.value)} is not an NHS number: expected 10 digits with no spaces (rule nhs-number-mod11).`);
  } else if (problem === 'check-digit') {
    issues.error('value', `${fp}.value`, `${fp}.value ${quote(identifier.value)} is not a valid NHS number: its check digit fails the Modulus 11 test (rule nhs-number-mod11).`);
  }
}

/**
 * The second extra rule: a SNOMED CT code (system http://snomed.info/sct) is a concept id: 6 to 18 digits, the
 * partition of a concept, and a valid Verhoeff check digit. It is all a validator can check of SNOMED CT without
 * a terminology server (value sets defined by ECL or refsets cannot be expanded here).
 */
export function snomedCodeRule(coding: Json, fp: string, issues: Issues): void {
  if (coding.system !== SNOMED || typeof coding.code !== 'string' || isSnomedConceptId(coding.code)) return;
  issues.error('code-invalid', `${fp}.code`, `${fp}.code ${quote(coding.code)} is not a SNOMED CT concept id: 6 to 18 digits ending in a partition (00 or 10) and a Verhoeff check digit (rule sct-concept-id).`);
}
