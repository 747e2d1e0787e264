/**
 * VALIDATION HOOK: the profile validator the resource functions call on create, update and $validate
 * (functions/validation, STU3 structure + CareConnect-<Type>-1). Errors on create/update are a 422 listing every
 * issue; $validate answers them with 200.
 */
import { validateResource } from '../validation';
import type { Validator } from '../fhir/service';

export const profileValidator: Validator = (resource, type, options) => validateResource(resource, type, options);
