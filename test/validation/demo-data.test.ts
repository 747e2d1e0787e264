/**
 * The data the server ships and the data the benchmarks generate are Care Connect conformant: validating each
 * resource gives no error (warnings would be listed by the assertion message, but there are none either).
 */
import { describe, expect, it } from 'vitest';
import type { ResourceType } from '../../functions/fhir/resource-types';
import { demoResources, generatePatients } from '../../functions/seed/demo-data';
import { validateResource } from '../../functions/validation';

function problems(resources: readonly { resourceType: string; id?: string }[]): string[] {
  return resources.flatMap((resource) =>
    validateResource(resource, resource.resourceType as ResourceType).map(
      (issue) => `${resource.resourceType}/${resource.id}: ${issue.severity} ${issue.code} at ${issue.expression[0]}: ${issue.diagnostics}`,
    ),
  );
}

describe('the demo data', () => {
  const resources = demoResources();

  it('holds resources of every served type', () => {
    expect(new Set(resources.map((r) => r.resourceType)).size).toBe(14);
  });

  it('conforms to STU3 and the Care Connect profiles: no issue on any resource', () => {
    expect(problems(resources)).toEqual([]);
  });
});

describe("the benchmark generator's data", () => {
  it.each([1, 2, 7])('conforms for seed %i (500 patients with their conditions)', (seed) => {
    const { patients, conditions } = generatePatients(500, seed);
    expect(problems([...patients, ...conditions])).toEqual([]);
  });
});
