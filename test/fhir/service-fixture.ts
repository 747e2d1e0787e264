/** Repositories and FHIR services on fresh tables of the run's DynamoDB Local engine, for service-level tests. */
import { beforeAll } from 'vitest';
import type { ResourceType } from '../../functions/fhir/resource-types';
import { FhirService } from '../../functions/fhir/service';
import { ResourceRepository } from '../../functions/store/repository';
import { localTableName, resourceTable } from '../../lib/tables';
import { RESOURCE_TYPES } from '../../functions/fhir/resource-types';
import { createTestTables, testDocumentClient, uniquePrefix } from '../support/dynamodb';

export function serviceFixture() {
  const prefix = uniquePrefix();
  const db = testDocumentClient();
  beforeAll(() => createTestTables(RESOURCE_TYPES.map(resourceTable), prefix));
  const repository = (type: ResourceType) =>
    new ResourceRepository({ documentClient: db, tableName: localTableName(resourceTable(type), prefix), type });
  const service = (type: ResourceType) => new FhirService(type, repository(type));
  const serviceOn = (client: typeof db, type: ResourceType) =>
    new FhirService(type, new ResourceRepository({ documentClient: client, tableName: localTableName(resourceTable(type), prefix), type }));
  return { db, repository, service, serviceOn };
}
