/**
 * FHIR STU3 XML (https://hl7.org/fhir/STU3/xml.html) ⇄ JSON, driven by the element definitions of the model: the
 * element order, which elements repeat, which are primitives (a `value` attribute, with `id` and extensions beside
 * it: `_name` in JSON), choice types (`valueQuantity`), contained resources (`<contained><Patient>…`), attributes
 * (`Element.id`, `Extension.url`) and the narrative `div`, kept as XHTML text. Parsing is fast-xml-parser's; this
 * module only maps its tree onto the definitions.
 *
 * Elements the model does not know are carried over as they are (a JSON property with the same name), so that the
 * validator reports them exactly as it does for JSON: XML and JSON get the same verdict.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { childrenOf, choiceName, isPrimitiveType, typeTree, type ElementNode, type StructureTree } from './model';
import { NOT_XML_CHAR, XHTML_NS, xhtmlDiv } from './narrative';

export const FHIR_NS = 'http://hl7.org/fhir';

type Json = Record<string, unknown>;

/** A body that is not well-formed FHIR XML. */
export class XmlSyntaxError extends Error {}

// ------------------------------------------------------------------------------------------------ JSON -> XML
/** A value as an XML attribute: escaped, and each character XML cannot carry (a control character) as U+FFFD. */
const escapeAttr = (value: string) =>
  value
    .replace(new RegExp(NOT_XML_CHAR.source, 'g'), '\uFFFD')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/\n/g, '&#xA;')
    .replace(/\r/g, '&#xD;')
    .replace(/\t/g, '&#x9;');

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The XML of a resource (a JSON object with resourceType). */
export function toXml(resource: Json): string {
  const out: string[] = ['<?xml version="1.0" encoding="UTF-8"?>'];
  writeResource(resource, out, ` xmlns="${FHIR_NS}"`);
  return out.join('');
}

function writeResource(resource: Json, out: string[], ns = ''): void {
  const type = String(resource.resourceType);
  if (!XML_NAME.test(type)) return;
  const tree = typeTree(type);
  out.push(`<${type}${ns}>`);
  if (tree) writeChildren(resource, tree.root, tree, type, out, true);
  else writeGeneric(resource, out, true);
  out.push(`</${type}>`);
}

/** The JSON properties of `obj`, in the order of the definitions. */
function writeChildren(obj: Json, node: ElementNode, tree: StructureTree, type: string | undefined, out: string[], isResource = false): void {
  const { children, tree: childTree } = childrenOf(node, tree, isResource ? undefined : type);
  const done = new Set<string>(isResource ? ['resourceType'] : []);
  for (const child of children) {
    if (child.def.xmlAttr) {
      done.add(child.name);
      continue;
    }
    const keys = child.name.endsWith('[x]') ? (child.def.type ?? []).map((t) => [choiceName(child.name, t.code), t.code] as const) : [[child.name, child.def.type?.[0]?.code] as const];
    for (const [key, code] of keys) {
      if (done.has(key) || !(key in obj || `_${key}` in obj)) continue;
      done.add(key);
      done.add(`_${key}`);
      const values = obj[key];
      const extras = obj[`_${key}`];
      const count = Math.max(Array.isArray(values) ? values.length : 1, Array.isArray(extras) ? extras.length : 1);
      for (let i = 0; i < count; i++) {
        const value = Array.isArray(values) ? values[i] : values;
        const extra = Array.isArray(extras) ? extras[i] : extras;
        writeElement(key, value, extra, child, childTree, code, out);
      }
    }
  }
  // Properties the model does not know: written as they are, so that nothing is lost.
  for (const key of Object.keys(obj)) if (!done.has(key) && !key.startsWith('_')) writeGenericElement(key, obj[key], out);
}

function writeElement(name: string, value: unknown, extra: unknown, node: ElementNode, tree: StructureTree, code: string | undefined, out: string[]): void {
  if (code === 'xhtml' && typeof value === 'string') {
    // Only a div that keeps the narrative rules is written as it is: one element, so that it cannot close or open
    // anything around it (a div stored before those rules were checked is shown as withheld).
    out.push(xhtmlDiv(value) ?? `<div xmlns="${XHTML_NS}">(narrative withheld: not a valid XHTML narrative)</div>`);
    return;
  }
  if (code !== undefined && isPrimitiveType(code)) {
    const ext = isObject(extra) ? extra : undefined;
    let open = `<${name}`;
    if (typeof ext?.id === 'string') open += ` id="${escapeAttr(ext.id)}"`;
    if (value !== undefined && value !== null) open += ` value="${escapeAttr(String(value))}"`;
    if (ext && Array.isArray(ext.extension) && ext.extension.length > 0) {
      out.push(`${open}>`);
      const extTree = typeTree(code)!;
      writeChildren({ extension: ext.extension }, extTree.root, extTree, code, out, true);
      out.push(`</${name}>`);
    } else out.push(`${open}/>`);
    return;
  }
  if (!isObject(value)) {
    writeGenericElement(name, value, out);
    return;
  }
  if (code === 'Resource') {
    out.push(`<${name}>`);
    writeResource(value, out);
    out.push(`</${name}>`);
    return;
  }
  let open = `<${name}`;
  if (typeof value.id === 'string') open += ` id="${escapeAttr(value.id)}"`;
  if (code === 'Extension' && typeof value.url === 'string') open += ` url="${escapeAttr(value.url)}"`;
  out.push(`${open}>`);
  writeChildren(value, node, tree, code, out);
  out.push(`</${name}>`);
}

function writeGeneric(obj: Json, out: string[], isResource = false): void {
  for (const [key, value] of Object.entries(obj)) {
    if (isResource && key === 'resourceType') continue;
    if (!key.startsWith('_')) writeGenericElement(key, value, out);
  }
}

/** What may be an element's name here: a JSON key that is not one (`a><b`) would write markup, so it is not written. */
const XML_NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

function writeGenericElement(name: string, value: unknown, out: string[]): void {
  if (!XML_NAME.test(name)) return;
  if (Array.isArray(value)) {
    for (const v of value) writeGenericElement(name, v, out);
  } else if (isObject(value)) {
    if (typeof value.resourceType === 'string') {
      out.push(`<${name}>`);
      writeResource(value, out);
      out.push(`</${name}>`);
    } else {
      out.push(`<${name}>`);
      writeGeneric(value, out);
      out.push(`</${name}>`);
    }
  } else if (value !== undefined && value !== null) out.push(`<${name} value="${escapeAttr(String(value))}"/>`);
}

// ------------------------------------------------------------------------------------------------ XML -> JSON
/** One node of fast-xml-parser's ordered tree: `{ tag: children, ':@': attributes }` or `{ '#text': … }`. */
type XNode = Record<string, unknown> & { ':@'?: Record<string, string> };

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  processEntities: true,
  htmlEntities: true,
  stopNodes: ['*.div'],
});

const tagOf = (node: XNode) => Object.keys(node).find((k) => k !== ':@')!;
const elementsOf = (nodes: XNode[]) => nodes.filter((n) => !('#text' in n) && !('#comment' in n) && !tagOf(n).startsWith('?'));

/** A resource from FHIR XML; XmlSyntaxError when the text is not well-formed XML holding one FHIR resource. */
export function fromXml(text: string): Json {
  if (/<!DOCTYPE/i.test(text)) throw new XmlSyntaxError('XML with a DOCTYPE is not accepted (FHIR forbids DTDs)');
  const valid = XMLValidator.validate(text);
  if (valid !== true) throw new XmlSyntaxError(`The body is not well-formed XML: ${valid.err.msg} (line ${valid.err.line})`);
  let parsed: XNode[];
  try {
    parsed = parser.parse(text) as XNode[];
  } catch (err) {
    // e.g. over maxNestedTags (100): no FHIR resource nests that deep, and walking it would cost the stack.
    throw new XmlSyntaxError(`The body could not be read as XML: ${(err as Error).message}`);
  }
  const roots = elementsOf(parsed);
  if (roots.length !== 1) throw new XmlSyntaxError('The body must hold exactly one FHIR resource');
  const root = roots[0]!;
  if (root[':@']?.xmlns !== FHIR_NS) throw new XmlSyntaxError(`The resource must be in the FHIR namespace (xmlns="${FHIR_NS}")`);
  return readResource(root);
}

function readResource(node: XNode): Json {
  const type = tagOf(node);
  const tree = typeTree(type);
  const resource: Json = { resourceType: type };
  const children = elementsOf(node[type] as XNode[]);
  if (tree) readChildren(children, resource, tree.root, tree, type, true);
  else for (const child of children) addGeneric(resource, child);
  return resource;
}

function readChildren(nodes: XNode[], into: Json, node: ElementNode, tree: StructureTree, type: string | undefined, isResource = false): void {
  const { children, tree: childTree } = childrenOf(node, tree, isResource ? undefined : type);
  for (const xml of nodes) {
    const tag = tagOf(xml);
    let def: ElementNode | undefined = children.find((c) => c.name === tag && !c.def.xmlAttr);
    let code = def?.def.type?.[0]?.code;
    if (!def) {
      for (const c of children) {
        if (!c.name.endsWith('[x]')) continue;
        const t = c.def.type?.find((t) => choiceName(c.name, t.code) === tag);
        if (t) {
          def = c;
          code = t.code;
          break;
        }
      }
    }
    if (!def) {
      addGeneric(into, xml);
      continue;
    }
    const many = def.def.array === true;
    const attrs = xml[':@'] ?? {};
    const inner = (xml[tag] as XNode[]) ?? [];
    if (code === 'xhtml') {
      put(into, tag, rawDiv(tag, attrs, inner), many);
    } else if (code !== undefined && isPrimitiveType(code)) {
      const value = 'value' in attrs ? typed(attrs.value!, code) : undefined;
      const ext: Json = {};
      if (attrs.id !== undefined) ext.id = attrs.id;
      const extTree = typeTree(code)!;
      readChildren(elementsOf(inner), ext, extTree.root, extTree, code, true);
      putPrimitive(into, tag, value, Object.keys(ext).length > 0 ? ext : undefined, many);
    } else if (code === 'Resource') {
      const resources = elementsOf(inner);
      put(into, tag, resources.length === 1 ? readResource(resources[0]!) : {}, many);
    } else {
      const obj: Json = {};
      if (attrs.id !== undefined) obj.id = attrs.id;
      if (code === 'Extension' && attrs.url !== undefined) obj.url = attrs.url;
      readChildren(elementsOf(inner), obj, def, childTree, code);
      put(into, tag, obj, many);
    }
  }
  dropEmptyPrimitiveArrays(into);
}

/** A primitive's JSON value from its XML text: booleans and numbers as JSON ones when they are well formed. */
function typed(value: string, code: string): unknown {
  if (code === 'boolean') return value === 'true' ? true : value === 'false' ? false : value;
  if (code === 'integer' || code === 'positiveInt' || code === 'unsignedInt' || code === 'decimal') {
    return /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$/.test(value) ? Number(value) : value;
  }
  return value;
}

function put(into: Json, key: string, value: unknown, many: boolean): void {
  if (!many) {
    into[key] = value;
    return;
  }
  const list = (into[key] as unknown[] | undefined) ?? [];
  list.push(value);
  into[key] = list;
}

/** A primitive and its `_key` part; repeating ones go to two aligned arrays, tidied by `dropEmptyPrimitiveArrays`. */
function putPrimitive(into: Json, key: string, value: unknown, ext: Json | undefined, many: boolean): void {
  if (!many) {
    if (value !== undefined) into[key] = value;
    if (ext) into[`_${key}`] = ext;
    return;
  }
  ((into[key] ??= []) as unknown[]).push(value ?? null);
  ((into[`_${key}`] ??= []) as unknown[]).push(ext ?? null);
}

/** Removes the side of an aligned pair that holds only nulls (`given` without extensions has no `_given`). */
function dropEmptyPrimitiveArrays(obj: Json): void {
  for (const key of Object.keys(obj)) {
    const value = obj[key];
    if (Array.isArray(value) && value.length > 0 && value.every((v) => v === null)) delete obj[key];
  }
}

/** The `div` as the XHTML text JSON carries, with its attributes, its content exactly as sent. */
function rawDiv(tag: string, attrs: Record<string, string>, inner: XNode[]): string {
  const text = inner.map((n) => (typeof n['#text'] === 'string' ? (n['#text'] as string) : '')).join('');
  const attributes = Object.entries(attrs)
    .map(([k, v]) => ` ${k}="${escapeAttr(v)}"`)
    .join('');
  return `<${tag}${attributes}>${text}</${tag}>`;
}

/** An element the model does not know: a value attribute becomes a string, children an object. */
function addGeneric(into: Json, xml: XNode): void {
  const tag = tagOf(xml);
  const attrs = xml[':@'] ?? {};
  const children = elementsOf((xml[tag] as XNode[]) ?? []);
  let value: unknown;
  if (children.length === 0 && 'value' in attrs) value = attrs.value;
  else {
    const obj: Json = {};
    for (const [k, v] of Object.entries(attrs)) if (k !== 'xmlns') obj[k] = v;
    for (const child of children) addGeneric(obj, child);
    value = obj;
  }
  if (!(tag in into)) into[tag] = value;
  else if (Array.isArray(into[tag])) (into[tag] as unknown[]).push(value);
  else into[tag] = [into[tag], value];
}

