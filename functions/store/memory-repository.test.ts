/**
 * The FhirRepository behaviour suite (fhir-repository-contract.fixture.ts) on the in-memory repository: the FHIR
 * service's interactions and the patient-compartment rules as plain functions, no engine. The same suite runs on
 * DynamoDB Local in test/fhir/repository.int.test.ts.
 */
import { InMemoryFhirRepository } from './memory-repository';
import { describeFhirRepositoryContract } from './fhir-repository-contract.fixture';

describeFhirRepositoryContract('InMemoryFhirRepository', () => new InMemoryFhirRepository());
