/**
 * The Care Connect profiles and the extensions they use, as trees (model.ts builds them), with the invariants and
 * value sets they bind: what only the validator needs (generated/profiles.json, constraints.json,
 * value-sets.json: ~400 KB). Imported by functions/validation/walker.ts, in the validator's lazy chunk.
 */
import constraintsTable from './generated/constraints.json';
import profilesTable from './generated/profiles.json';
import valueSetsTable from './generated/value-sets.json';
import { cachedTree, type Constraint, type Expansion, type StructureTree, type TableEntry } from './model';

export const CONSTRAINTS: readonly Constraint[] = constraintsTable as Constraint[];
export const VALUE_SETS: Readonly<Record<string, Expansion>> = valueSetsTable as Record<string, Expansion>;

const profiles = profilesTable as unknown as Record<string, TableEntry>;
const profileTrees = new Map<string, StructureTree>();

/** A profile or extension definition by canonical URL, or undefined when it is not shipped. */
export const profileTree = (url: string): StructureTree | undefined => cachedTree(profileTrees, url, profiles[url], url);
