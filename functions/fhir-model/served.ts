/**
 * Which profile versions this server validates against, from the compiled definitions (generated/served.json,
 * 3 KB): the CapabilityStatement states them. A module of its own so that the metadata function does not carry the
 * model.
 */
import served from './generated/served.json';

export interface ServedProfile {
  url: string;
  version: string;
  name: string;
}

/** The Care Connect profile of each served resource type: canonical URL, version, name. */
export const SERVED_PROFILES: Readonly<Record<string, ServedProfile>> = served.profiles;
/** The FHIR core version the profiles and the validator are built on. */
export const FHIR_VERSION: string = served.fhirVersion;
