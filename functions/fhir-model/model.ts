/**
 * The FHIR STU3 model as trees of element definitions, built from the tables that scripts/build-fhir-model.ts
 * compiles out of the official definitions (generated/*.json). One tree per base type (data types and the
 * resources the API handles) here; one per profile (the 14 Care Connect profiles and the extensions they use) in
 * profiles.ts, with the invariants and value sets only the validator needs.
 *
 * Pure data, no I/O. This module (with the base types' table, 160 KB) is loaded only by the code that needs it (XML,
 * `_summary`/`_elements`, validation), so a read in JSON never pays for it; XML and `_summary` do not load the
 * profiles.
 */
import typesTable from './generated/types.json';

export interface TypeRef {
  code: string;
  profile?: string;
  targetProfile?: string;
}

/** One compacted ElementDefinition of a snapshot. */
export interface ElementDef {
  id: string;
  sliceName?: string;
  min: number;
  max: string;
  /** Repeats in JSON and XML (its base definition's max is not 1). */
  array?: boolean;
  type?: TypeRef[];
  regex?: string;
  jsonType?: string;
  contentReference?: string;
  slicing?: { discriminator: string[]; rules: string; ordered?: boolean };
  fixed?: unknown;
  pattern?: unknown;
  binding?: { strength: 'required' | 'extensible' | 'preferred'; valueSet: string };
  constraints?: number[];
  summary?: boolean;
  modifier?: boolean;
  xmlAttr?: boolean;
}

export interface Constraint {
  key: string;
  severity: 'error' | 'warning';
  human: string;
  expression: string;
}

export interface Expansion {
  codes: Record<string, string[]>;
  open?: string[];
}

/** An element of a tree: its definition, its children by name (`value[x]` for a choice), its slices. */
export interface ElementNode {
  def: ElementDef;
  /** The element's name in its parent (`value[x]`, `identifier`); the root's is its type. */
  name: string;
  /** The path in the base model, without slice names (`Patient.identifier.system`): FHIRPath's type context. */
  path: string;
  children: ElementNode[];
  /** For a sliced element: its slices, each with its own children. */
  slices: ElementNode[];
}

export interface StructureTree {
  /** The type (`Patient`, `HumanName`, `Extension`). */
  type: string;
  kind: string;
  url?: string;
  version?: string;
  root: ElementNode;
  /** Nodes by element id, for contentReference (`Bundle.link`) and discriminator look-ups. */
  byId: Map<string, ElementNode>;
}

export interface TableEntry {
  kind?: string;
  type?: string;
  version?: string;
  elements: ElementDef[];
}

export { FHIR_VERSION, SERVED_PROFILES } from './served';

const types = typesTable as unknown as Record<string, TableEntry>;

/** `Patient.identifier:nhsNumber.system` -> `Patient.identifier.system`. */
const pathOf = (id: string) => id.replace(/:[^.]+/g, '');

function buildTree(type: string, entry: TableEntry, url?: string): StructureTree {
  const byId = new Map<string, ElementNode>();
  let root: ElementNode | undefined;
  for (const def of entry.elements) {
    const path = pathOf(def.id);
    const dot = def.id.lastIndexOf('.');
    const lastSegment = def.id.slice(dot + 1);
    const name = lastSegment.split(':')[0]!;
    const node: ElementNode = { def, name, path, children: [], slices: [] };
    byId.set(def.id, node);
    if (dot < 0 && !def.sliceName) {
      root = node;
      continue;
    }
    if (def.sliceName && lastSegment.includes(':')) {
      // A slice: `X.identifier:nhsNumber` slices `X.identifier` (re-slices `a:b/c` are slices of `a:b`).
      const slicedId = def.id.slice(0, def.id.length - def.sliceName.length - 1);
      byId.get(slicedId)?.slices.push(node);
      continue;
    }
    byId.get(def.id.slice(0, dot))?.children.push(node);
  }
  if (!root) throw new Error(`no root element in ${url ?? type}`);
  return { type, kind: entry.kind ?? 'constraint', url, version: entry.version, root, byId };
}

/** The tree of a table entry (a base type by name, or a profile by `url`), built once and kept in `cache`. */
export function cachedTree(cache: Map<string, StructureTree>, key: string, entry: TableEntry | undefined, url?: string): StructureTree | undefined {
  let tree = cache.get(key);
  if (!tree && entry) {
    tree = buildTree(url ? entry.type! : key, entry, url);
    cache.set(key, tree);
  }
  return tree;
}

const typeTrees = new Map<string, StructureTree>();

/** The base definition of a data type or resource type, or undefined when the model does not hold it. */
export const typeTree = (type: string): StructureTree | undefined => cachedTree(typeTrees, type, types[type]);

export const isPrimitiveType = (code: string) => types[code]?.kind === 'primitive-type';
export const isResourceTypeName = (code: string) => types[code]?.kind === 'resource';
export const isKnownType = (code: string) => types[code] !== undefined;

/** `value[x]` + `Quantity` -> `valueQuantity`. */
export const choiceName = (name: string, code: string) => name.slice(0, -3) + code[0]!.toUpperCase() + code.slice(1);

/** Finds a profile's tree by canonical URL (profiles.ts `profileTree`). */
export type ProfileLookup = (url: string) => StructureTree | undefined;

/**
 * The children of a node when walking an instance: the node's own (a profile constrains inside the element), else
 * the element definitions of its type (or of the type's profile, when `profiles` knows it), else those a
 * contentReference names. The base definitions name no profile that `profiles` holds (only SimpleQuantity, a base
 * type): XML and `_summary` walk them without the profiles.
 */
export function childrenOf(
  node: ElementNode,
  tree: StructureTree,
  type: string | undefined,
  profiles: ProfileLookup = () => undefined,
): { children: ElementNode[]; base: string; tree: StructureTree } {
  if (node.children.length > 0) return { children: node.children, base: node.path, tree };
  if (node.def.contentReference) {
    const target = tree.byId.get(node.def.contentReference);
    if (target) return { children: target.children, base: target.path, tree };
  }
  const profile = node.def.type?.find((t) => t.code === type && t.profile)?.profile;
  const target = (profile && profiles(profile)) || (type && typeTree(type));
  if (target) return { children: target.root.children, base: target.type, tree: target };
  return { children: [], base: node.path, tree };
}
