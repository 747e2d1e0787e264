/**
 * The read interactions of one resource type (read, vread) and the compartment test every interaction shares:
 * what a JSON read needs, and all the FHIR function loads at init. The writes, conditional interactions, PATCH and
 * history extend it in functions/fhir/service.ts (FhirService), a chunk loaded on first use. The rule (see
 * service.ts): a resource outside a patient-bound caller's compartment (a deleted one keeps its compartment) is a
 * 404, as for one that does not exist, so that the caller cannot learn which ids exist.
 */
import { FHIR_ID } from '../../contract/fhir-id';
import type { ResourceType } from '../../contract/resource-types';
import type { FhirRepository, FhirResource, StoredVersion } from '../store/repository';
import { inPatientCompartment } from './definitions';
import { BadRequestError, GoneError, NotFoundError } from './errors';
import { compartmentPatients } from './search';

export interface CallerContext {
  /** Set when the caller may act only inside this patient's compartment. */
  compartmentPatient?: string;
}

export function assertId(id: string): void {
  if (!FHIR_ID.test(id)) throw new BadRequestError(`Invalid resource id '${id}'`);
}

export class FhirReadService {
  constructor(
    readonly type: ResourceType,
    protected readonly repository: FhirRepository,
  ) {}

  /** Whether a version (live: its resource; deleted: the compartments it kept) is in the caller's compartment. */
  protected inCompartment(version: { resource?: FhirResource; compartments?: string[] } | undefined, id: string, ctx: CallerContext): boolean {
    const patient = ctx.compartmentPatient;
    if (patient === undefined || !inPatientCompartment(this.type)) return true;
    if (!version) return false;
    const patients = version.resource ? compartmentPatients(this.type, id, version.resource) : this.type === 'Patient' ? [id] : (version.compartments ?? []);
    return patients.includes(patient);
  }

  protected hidden(id: string): NotFoundError {
    return new NotFoundError(`${this.type}/${id} not found`);
  }

  async read(id: string, ctx: CallerContext): Promise<StoredVersion> {
    assertId(id);
    const current = await this.repository.read(this.type, id);
    if (!current || !this.inCompartment(current, id, ctx)) throw this.hidden(id);
    if (current.deleted) throw new GoneError(`${this.type}/${id} was deleted`);
    return current;
  }

  async vread(id: string, vid: string, ctx: CallerContext): Promise<StoredVersion> {
    assertId(id);
    if (!/^[1-9]\d{0,9}$/.test(vid)) throw new NotFoundError(`${this.type}/${id} has no version '${vid}'`);
    const version = await this.repository.vread(this.type, id, Number(vid));
    // A version outside the compartment answers exactly as a missing one: any other word would tell the id exists.
    if (!version || !this.inCompartment(version, id, ctx)) throw new NotFoundError(`${this.type}/${id} has no version ${vid}`);
    if (version.deleted) throw new GoneError(`${this.type}/${id} version ${vid} is a deletion`);
    return version;
  }

  /** Whether the caller may see this version (a deletion by the compartments it kept): history filters with it. */
  mayReveal(version: StoredVersion, ctx: CallerContext): boolean {
    return this.inCompartment(version, version.id, ctx);
  }
}
