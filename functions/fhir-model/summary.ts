/**
 * `_summary` and `_elements` (https://hl7.org/fhir/STU3/search.html#summary, #elements), from the base
 * definitions: which elements are `isSummary`, which are mandatory (min > 0). A resource cut down this way is
 * marked with the `SUBSETTED` tag in `meta.tag`, as the specification requires, so that no client mistakes it for
 * the whole resource (and writes it back).
 */
import { childrenOf, choiceName, typeTree, type ElementNode, type StructureTree } from './model';

export type SummaryMode = 'true' | 'text' | 'data' | 'count' | 'false';
export const SUMMARY_MODES: readonly SummaryMode[] = ['true', 'text', 'data', 'count', 'false'];

export const SUBSETTED = { system: 'http://hl7.org/fhir/v3/ObservationValue', code: 'SUBSETTED', display: 'subsetted' } as const;

type Json = Record<string, unknown>;
const BACKBONE = new Set(['BackboneElement', 'Element']);

/** The JSON property names an element takes (`value[x]` -> valueQuantity, …; a primitive's `_name` too). */
function keysOf(child: ElementNode): string[] {
  const names = child.name.endsWith('[x]') ? (child.def.type ?? []).map((t) => choiceName(child.name, t.code)) : [child.name];
  return names.flatMap((n) => [n, `_${n}`]);
}

function withSubsetted(resource: Json): Json {
  const meta = { ...((resource.meta as Json | undefined) ?? {}) };
  const tags = Array.isArray(meta.tag) ? (meta.tag as Json[]) : [];
  if (!tags.some((t) => t.system === SUBSETTED.system && t.code === SUBSETTED.code)) meta.tag = [...tags, { ...SUBSETTED }];
  return { ...resource, meta };
}

/** Keeps, of `obj`, the elements `keep` says yes to; backbone elements are filtered the same way, recursively. */
function filter(obj: Json, node: ElementNode, tree: StructureTree, type: string | undefined, keep: (child: ElementNode) => boolean, isResource: boolean): Json {
  const { children, tree: childTree } = childrenOf(node, tree, isResource ? undefined : type);
  const out: Json = isResource ? { resourceType: obj.resourceType } : {};
  for (const child of children) {
    if (!keep(child)) continue;
    const code = child.def.type?.[0]?.code;
    for (const key of keysOf(child)) {
      if (!(key in obj)) continue;
      const value = obj[key];
      if (code && BACKBONE.has(code) && !key.startsWith('_')) {
        const one = (v: unknown) => (typeof v === 'object' && v !== null ? filter(v as Json, child, childTree, code, keep, false) : v);
        out[key] = Array.isArray(value) ? value.map(one) : one(value);
      } else out[key] = value;
    }
  }
  return out;
}

/**
 * The resource as `_summary=<mode>` asks: `true` the summary elements, `text` text, id, meta and the mandatory
 * top-level elements, `data` everything but text, `false` (and `count`, which concerns search Bundles) as it is.
 */
export function summarize(resource: Json, mode: SummaryMode): Json {
  if (mode === 'false' || mode === 'count') return resource;
  const tree = typeTree(String(resource.resourceType));
  if (!tree) return resource;
  if (mode === 'data') {
    const { text: _text, ...rest } = resource;
    return withSubsetted(rest);
  }
  const keep =
    mode === 'true'
      ? (child: ElementNode) => child.def.summary === true
      : (child: ElementNode) => ['id', 'meta', 'text'].includes(child.name) || (child.def.min > 0 && child.path.split('.').length === 2);
  return withSubsetted(filter(resource, tree.root, tree, tree.type, mode === 'true' ? keep : (c) => keep(c) || c.path.split('.').length > 2, true));
}

/** The resource with only the top-level elements named (`_elements=identifier,name`), plus id, meta and the mandatory ones. */
export function selectElements(resource: Json, names: readonly string[]): Json {
  const tree = typeTree(String(resource.resourceType));
  if (!tree) return resource;
  const wanted = new Set(names.map((n) => n.trim()).filter((n) => n !== ''));
  const keep = (child: ElementNode) => {
    if (child.path.split('.').length > 2) return true;
    const bare = child.name.replace('[x]', '');
    return child.name === 'id' || child.name === 'meta' || child.def.min > 0 || wanted.has(child.name) || wanted.has(bare);
  };
  return withSubsetted(filter(resource, tree.root, tree, tree.type, keep, true));
}
