/**
 * STU3 structural validation (https://hl7.org/fhir/STU3/json.html, https://hl7.org/fhir/STU3/validation.html):
 * one walk over the resource that checks, against the tables of `elements.ts`,
 * - that every property is an element of the resource or data type (or a `_name` primitive extension sibling),
 * - JSON shapes and cardinalities: arrays for repeating elements, single values otherwise, one choice at most,
 *   required elements present, no `null`, empty string, empty array or empty object (ele-1),
 * - primitive formats (`primitives.ts`) and required bindings (`value-sets.ts`),
 * - references: `Type/id[/_history/vid]`, an absolute URL, `urn:uuid:`, `urn:oid:` or `#contained`, pointing to a
 *   type the element allows,
 * - extensions: a `url`, and either a value[x] or nested extensions (ext-1),
 * - contained resources: an id, no nested contained, no meta.versionId/lastUpdated, referenced from the
 *   container (dom-2, dom-3, dom-4); contained resources of the 14 types are validated too.
 * Parts whose structure the tables do not describe (backbone elements, Dosage, SampledData) are still walked for
 * empties, references and extensions.
 */
import { RESOURCE_TYPES } from '../fhir/resource-types';
import { DATA_TYPE_DEFINITIONS, RESOURCE_DEFINITIONS, type Definition, type ElementSpec, type TypeRef } from './elements';
import { Issues, quote } from './issues';
import { PRIMITIVE_HINT, PRIMITIVE_TYPES, isId, isPrimitive, type PrimitiveType } from './primitives';
import { VALUE_SETS } from './value-sets';

type Json = Record<string, unknown>;

const RELATIVE_REF = /^([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(\/_history\/[A-Za-z0-9\-.]{1,64})?$/;
const ABSOLUTE_REF = /^https?:\/\/[^\s/]+(\/\S*)?$/;
const ABSOLUTE_TYPED_REF = /\/([A-Z][A-Za-z]+)\/[A-Za-z0-9\-.]{1,64}(\/_history\/[A-Za-z0-9\-.]{1,64})?$/;
const URN_UUID = /^urn:uuid:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const URN_OID = /^urn:oid:[0-2](\.(0|[1-9][0-9]*))+$/;
const SERVED_TYPES: ReadonlySet<string> = new Set(RESOURCE_TYPES);

export function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** What the walk remembers about local references, to check dom-3 at the end. */
interface Walk {
  issues: Issues;
  /** contained id -> the path of the first reference to it */
  localReferences: Map<string, string>;
  /** How deep the walk is: JSON nested beyond MAX_DEPTH is refused rather than recursed into. */
  depth: number;
}

/** Far deeper than any real resource; keeps a hostile body from exhausting the stack. */
const MAX_DEPTH = 64;

/** Enters one nesting level; false (with one issue) when the body is nested too deeply. */
function enter(walk: Walk, path: string): boolean {
  if (walk.depth >= MAX_DEPTH) {
    walk.issues.error('structure', path, `${path} is nested more than ${MAX_DEPTH} levels deep.`);
    return false;
  }
  walk.depth++;
  return true;
}

/** Validates the structure of a resource of a served type (its resourceType already checked). */
export function validateStructure(resource: Json, type: string, issues: Issues): void {
  const walk: Walk = { issues, localReferences: new Map(), depth: 0 };
  walkResource(resource, RESOURCE_DEFINITIONS.get(type)!, type, type, walk, false);
  checkContained(resource, type, walk);
}

function walkResource(resource: Json, definition: Definition, path: string, type: string, walk: Walk, contained: boolean) {
  for (const key in resource) {
    if (key === 'resourceType') continue;
    const value = resource[key];
    if (key === 'id') {
      if (!isId(value)) {
        walk.issues.error('value', `${path}.id`, `The id ${quote(value)} is not valid: ${PRIMITIVE_HINT.id}.`);
      }
      continue;
    }
    walkProperty(key, value, definition, path, type, walk);
  }
  checkRequired(resource, definition, path, walk);
  if (contained) {
    if (resource.contained !== undefined) {
      walk.issues.error('invariant', `${path}.contained`, 'A contained resource cannot contain resources (dom-2).');
    }
    const meta = resource.meta;
    if (isObject(meta) && (meta.versionId !== undefined || meta.lastUpdated !== undefined)) {
      walk.issues.error(
        'invariant',
        `${path}.meta`,
        'A contained resource cannot have a meta.versionId or meta.lastUpdated (dom-4).',
      );
    }
  }
}

/** One property of a resource or data type: known element, `_x` sibling, or an error. */
function walkProperty(key: string, value: unknown, definition: Definition, path: string, typeName: string, walk: Walk) {
  const property = definition.properties.get(key);
  if (property) {
    walkElement(value, property.element, property.type, `${path}.${key}`, walk);
    return;
  }
  if (key.startsWith('_')) {
    const primitive = definition.properties.get(key.slice(1));
    if (primitive && PRIMITIVE_TYPES.has(primitive.type.code)) {
      walkOpaque(value, `${path}.${key}`, walk, true);
      return;
    }
  }
  walk.issues.error(
    'structure',
    `${path}.${key}`,
    `Unknown element '${key}': it is not an element of the STU3 ${typeName}${choiceHint(key, definition)}.`,
  );
}

function choiceHint(key: string, definition: Definition): string {
  for (const element of definition.elements) {
    if (element.jsonNames.length > 1 && key.startsWith(element.name.slice(0, -3))) {
      return ` (${element.name} allows ${element.jsonNames.join(', ')})`;
    }
  }
  return '';
}

function checkRequired(owner: Json, definition: Definition, path: string, walk: Walk) {
  for (const element of definition.counted) {
    let present = 0;
    for (const name of element.jsonNames) if (owner[name] !== undefined) present++;
    if (element.required && present === 0) {
      walk.issues.error('required', `${path}.${element.name}`, `${path}.${element.name} is required (minimum cardinality 1).`);
    } else if (present > 1) {
      walk.issues.error('structure', `${path}.${element.name}`, `${path}.${element.name} can take only one of its types; ${present} are present.`);
    }
  }
}

function walkElement(value: unknown, element: ElementSpec, type: TypeRef, path: string, walk: Walk) {
  if (Array.isArray(value)) {
    if (!element.many) {
      walk.issues.error('structure', path, `${path} takes a single value, not an array.`);
      return;
    }
    if (value.length === 0) {
      walk.issues.error('structure', path, `${path} is an empty array: leave the element out instead.`);
      return;
    }
    for (let i = 0; i < value.length; i++) walkValue(value[i], element, type, `${path}[${i}]`, walk);
    return;
  }
  if (element.many) {
    walk.issues.error('structure', path, `${path} repeats: its value must be a JSON array.`);
    return;
  }
  walkValue(value, element, type, path, walk);
}

function walkValue(value: unknown, element: ElementSpec, type: TypeRef, path: string, walk: Walk) {
  if (value === null) {
    walk.issues.error('structure', path, `${path} is null: leave the element out instead.`);
    return;
  }
  const code = type.code;
  if (PRIMITIVE_TYPES.has(code)) {
    if (!isPrimitive(code as PrimitiveType, value)) {
      walk.issues.error('value', path, `${path} has the value ${quote(value)}, which is not a valid ${code}: ${PRIMITIVE_HINT[code as PrimitiveType]}.`);
      return;
    }
    if (element.valueSet && !VALUE_SETS[element.valueSet].has(value as string)) {
      walk.issues.error(
        'code-invalid',
        path,
        `${path} has the code ${quote(value)}, which is not one of ${[...VALUE_SETS[element.valueSet]].join(' | ')} (required binding).`,
      );
    }
    return;
  }
  if (!isObject(value)) {
    walk.issues.error('structure', path, `${path} must be a JSON object (${code}).`);
    return;
  }
  if (isEmpty(value)) {
    walk.issues.error('structure', path, `${path} is an empty object: leave the element out instead.`);
    return;
  }
  if (!enter(walk, path)) return;
  walkComplex(value, type, path, walk);
  walk.depth--;
}

function isEmpty(value: Json): boolean {
  for (const _ in value) return false;
  return true;
}

function walkComplex(value: Json, type: TypeRef, path: string, walk: Walk) {
  switch (type.code) {
    case 'Resource':
      return; // contained resources: checkContained
    case 'Extension':
      return walkExtension(value, path, walk);
  }
  const definition = DATA_TYPE_DEFINITIONS.get(type.code);
  if (definition === undefined) return walkOpaque(value, path, walk, false); // Backbone, Element, SampledData
  for (const key in value) {
    walkProperty(key, value[key], definition, path, type.code, walk);
  }
  checkRequired(value, definition, path, walk);
  if (type.code === 'Reference') checkReference(value, type, path, walk);
  else DATA_TYPE_INVARIANTS[type.code]?.(value, path, walk.issues);
}

/** The invariants of the data types (https://hl7.org/fhir/STU3/datatypes.html) that need no FHIRPath engine. */
const DATA_TYPE_INVARIANTS: Record<string, (value: Json, path: string, issues: Issues) => void> = {
  Period(period, path, issues) {
    const { start, end } = period;
    if (typeof start === 'string' && typeof end === 'string' && Date.parse(start) > Date.parse(end)) {
      issues.error('invariant', path, `${path}: the start ${quote(start)} is after the end ${quote(end)} (per-1).`);
    }
  },
  Quantity: quantityInvariant,
  Age: quantityInvariant,
  Duration: quantityInvariant,
  Attachment(attachment, path, issues) {
    if (attachment.data !== undefined && attachment.contentType === undefined) {
      issues.error('invariant', `${path}.contentType`, `${path} has data, so it needs a contentType (att-1).`);
    }
  },
  ContactPoint(contactPoint, path, issues) {
    if (contactPoint.value !== undefined && contactPoint.system === undefined) {
      issues.error('invariant', `${path}.system`, `${path} has a value, so it needs a system (phone, email, ...) (cpt-2).`);
    }
  },
  Ratio(ratio, path, issues) {
    if ((ratio.numerator === undefined) !== (ratio.denominator === undefined)) {
      issues.error('invariant', path, `${path} needs both a numerator and a denominator, or neither (rat-1).`);
    }
  },
};

function quantityInvariant(quantity: Json, path: string, issues: Issues) {
  if (quantity.code !== undefined && quantity.system === undefined) {
    issues.error('invariant', `${path}.system`, `${path} has a unit code, so it needs the system that defines it (qty-3).`);
  }
}

/** Extension (https://hl7.org/fhir/STU3/extensibility.html): url 1..1, value[x] xor extension (ext-1). */
function walkExtension(extension: Json, path: string, walk: Walk) {
  const url = extension.url;
  if (url === undefined) {
    walk.issues.error('required', `${path}.url`, `${path}.url is required: every extension names its definition.`);
  } else if (!isPrimitive('uri', url)) {
    walk.issues.error('value', `${path}.url`, `${path}.url ${quote(url)} is not a valid uri.`);
  }
  let values = 0;
  for (const key in extension) {
    const value = extension[key];
    if (key === 'url' || key === 'id') continue;
    if (key === 'extension') {
      walkElement(value, EXTENSION_LIST, EXTENSION_TYPE, `${path}.extension`, walk);
    } else if (key.startsWith('value') && key.length > 5) {
      values++;
      walkExtensionValue(key, value, `${path}.${key}`, walk);
    } else if (key.startsWith('_value')) {
      walkOpaque(value, `${path}.${key}`, walk, true);
    } else {
      walk.issues.error('structure', `${path}.${key}`, `Unknown element '${key}' in an Extension.`);
    }
  }
  if (values > 1) walk.issues.error('structure', path, `${path} has ${values} value[x] elements: at most one is allowed.`);
  if ((values > 0) === (extension.extension !== undefined)) {
    walk.issues.error('invariant', path, `${path} must have either a value[x] or nested extensions, not both or neither (ext-1).`);
  }
}

const EXTENSION_TYPE: TypeRef = { code: 'Extension' };
const EXTENSION_LIST: ElementSpec = { name: 'extension', types: [EXTENSION_TYPE], many: true, required: false, jsonNames: ['extension'] };

/** An extension value: its type is named by the suffix of `value[x]`; unknown suffixes are walked generically. */
function walkExtensionValue(key: string, value: unknown, path: string, walk: Walk) {
  const suffix = key.slice(5);
  const primitive = suffix.charAt(0).toLowerCase() + suffix.slice(1);
  let type: TypeRef;
  if (PRIMITIVE_TYPES.has(primitive)) type = { code: primitive };
  else if (DATA_TYPE_DEFINITIONS.has(suffix) || suffix === 'Reference') type = { code: suffix };
  else type = { code: 'Element' };
  walkValue(value, { name: key, types: [type], many: false, required: false, jsonNames: [key] }, type, path, walk);
}

/**
 * Parts of a resource that the tables do not describe: still no null/empty values (ele-1), and any `reference`
 * string, `extension` or `modifierExtension` found in it is checked like everywhere else.
 */
function walkOpaque(value: unknown, path: string, walk: Walk, primitiveSibling: boolean) {
  if (value === null) {
    if (!primitiveSibling) walk.issues.error('structure', path, `${path} is null: leave the element out instead.`);
    return;
  }
  if (Array.isArray(value)) {
    if (value.length === 0) walk.issues.error('structure', path, `${path} is an empty array: leave the element out instead.`);
    if (!enter(walk, path)) return;
    for (let i = 0; i < value.length; i++) walkOpaque(value[i], `${path}[${i}]`, walk, primitiveSibling);
    walk.depth--;
    return;
  }
  if (typeof value === 'string') {
    if (value.trim().length === 0) walk.issues.error('value', path, `${path} is an empty string: leave the element out instead.`);
    return;
  }
  if (!isObject(value)) return;
  if (isEmpty(value)) {
    walk.issues.error('structure', path, `${path} is an empty object: leave the element out instead.`);
    return;
  }
  if (!enter(walk, path)) return;
  for (const key in value) {
    const child = value[key];
    const childPath = `${path}.${key}`;
    if (key === 'extension' || key === 'modifierExtension') {
      walkElement(child, EXTENSION_LIST, EXTENSION_TYPE, childPath, walk);
    } else if (key === 'reference' && typeof child === 'string') {
      checkReference(value, REFERENCE_ANY, path, walk);
    } else if (key === 'resourceType') {
      // a resource inside an unknown part (e.g. a contained resource of a type not served): not described here
    } else {
      walkOpaque(child, childPath, walk, primitiveSibling || key.startsWith('_'));
    }
  }
  walk.depth--;
}

const REFERENCE_ANY: TypeRef = { code: 'Reference' };

/** Reference.reference (https://hl7.org/fhir/STU3/references.html#literal) and its target types. */
function checkReference(reference: Json, type: TypeRef, path: string, walk: Walk) {
  const literal = reference.reference;
  if (typeof literal !== 'string' || literal.length === 0) return; // typed by the Reference table
  let target: string | undefined;
  if (literal.startsWith('#')) {
    if (!isId(literal.slice(1))) {
      walk.issues.error('value', `${path}.reference`, `The local reference ${quote(literal)} must be '#' followed by the id of a contained resource.`);
      return;
    }
    if (!walk.localReferences.has(literal.slice(1))) walk.localReferences.set(literal.slice(1), `${path}.reference`);
    return;
  }
  const relative = RELATIVE_REF.exec(literal);
  if (relative) {
    target = relative[1];
  } else if (ABSOLUTE_REF.test(literal)) {
    target = ABSOLUTE_TYPED_REF.exec(literal)?.[1];
  } else if (URN_UUID.test(literal) || URN_OID.test(literal)) {
    return;
  } else {
    walk.issues.error(
      'value',
      `${path}.reference`,
      `The reference ${quote(literal)} is not well formed: use Type/id (e.g. Patient/123), an absolute URL, urn:uuid:<uuid> or #<contained id>.`,
    );
    return;
  }
  if (target !== undefined && type.targets && !type.targets.has(target)) {
    walk.issues.error(
      'value',
      `${path}.reference`,
      `The reference ${quote(literal)} points to a ${target}, but ${path} may only point to ${[...type.targets].join(' | ')}.`,
    );
  }
}

/** Contained resources (https://hl7.org/fhir/STU3/references.html#contained) and dom-3. */
function checkContained(resource: Json, type: string, walk: Walk) {
  const contained = Array.isArray(resource.contained) ? resource.contained : [];
  const ids = new Set(contained.map((inner) => (isObject(inner) ? inner.id : undefined)));
  for (const [id, referencePath] of walk.localReferences) {
    if (!ids.has(id)) {
      walk.issues.error('invariant', referencePath, `The local reference '#${id}' has no contained resource with the id ${quote(id)} (ref-1).`);
    }
  }
  for (let i = 0; i < contained.length; i++) {
    const inner = contained[i];
    const path = `${type}.contained[${i}]`;
    if (!isObject(inner) || typeof inner.resourceType !== 'string') {
      walk.issues.error('structure', path, `${path} must be a resource: a JSON object with a resourceType.`);
      continue;
    }
    if (!isId(inner.id)) {
      walk.issues.error('required', `${path}.id`, `${path} needs an id, so that the container can refer to it as '#id'.`);
    } else if (!walk.localReferences.has(inner.id)) {
      walk.issues.error(
        'invariant',
        path,
        `${path} (id ${quote(inner.id)}) is not referred to from the resource: nothing reads '#${inner.id}' (dom-3).`,
      );
    }
    if (inner.text !== undefined) {
      walk.issues.error('invariant', `${path}.text`, 'A contained resource cannot have a narrative (dom-1).');
    }
    if (SERVED_TYPES.has(inner.resourceType)) {
      walkResource(inner, RESOURCE_DEFINITIONS.get(inner.resourceType)!, path, inner.resourceType, walk, true);
    } else {
      walkOpaque(inner, path, walk, false);
    }
  }
}
