/**
 * The FHIRPath engine's STU3 model, cut down at build time to the types of functions/fhir-model
 * (generated/fhirpath-stu3.json, from the pinned `fhirpath` package's own fhir-context/stu3) and completed by the
 * engine's own `updateWithGeneratedData`, exactly as `fhirpath/fhir-context/stu3` builds the full one.
 */
// @ts-expect-error: the package ships no types for this CommonJS helper of its models
import { arrToHash, updateWithGeneratedData } from 'fhirpath/fhir-context/general-additions.js';
import tables from '../fhir-model/generated/fhirpath-stu3.json';

const model: Record<string, unknown> = {
  version: 'stu3',
  choiceTypePaths: tables.choiceTypePaths,
  pathsDefinedElsewhere: tables.pathsDefinedElsewhere,
  type2Parent: tables.type2Parent,
  path2Type: { ...tables.path2Type },
  path2Repeating: arrToHash(tables.path2Repeating),
  resourcesWithUrlParam: arrToHash(tables.resourcesWithUrlParam),
};
updateWithGeneratedData(model);

export const stu3Model = model;
