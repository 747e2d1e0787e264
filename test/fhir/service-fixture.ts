/** The repository and FHIR services on a fresh FHIR table of the run's DynamoDB Local engine, for service-level tests. */
import { beforeAll } from 'vitest';
import type { ResourceType } from '../../contract/resource-types';
import { FhirService } from '../../functions/fhir/service';
import { FhirRepository, type RepositoryOptions } from '../../functions/store/repository';
import { FHIR_TABLE, localTableName } from '../../contract/tables';
import { createTestTables, testDocumentClient, uniquePrefix } from '../support/dynamodb';

export function serviceFixture() {
  const prefix = uniquePrefix();
  const db = testDocumentClient();
  const tableName = localTableName(FHIR_TABLE, prefix);
  beforeAll(() => createTestTables([FHIR_TABLE], prefix));
  const repository = (options: Partial<RepositoryOptions> = {}) => new FhirRepository({ documentClient: db, tableName, ...options });
  const service = (type: ResourceType) => new FhirService(type, repository());
  const serviceOn = (client: typeof db, type: ResourceType) => new FhirService(type, repository({ documentClient: client }));
  return { db, tableName, repository, service, serviceOn };
}
