/**
 * The data the server ships and the data the benchmarks generate are Care Connect conformant: validating each
 * resource gives no error and no warning, except the two kinds a validator without a SNOMED CT terminology server
 * must give: SNOMED CT codes whose value-set membership could not be checked (their syntax was), and the core
 * condition-category codes, which CareConnect-ConditionCategory-1 (extensible) does not list.
 */
import { describe, expect, it } from 'vitest';
import type { ResourceType } from '../../contract/resource-types';
import { demoResources, generatePatients } from '../../functions/seed/demo-data';
import { validateResource, type ValidationIssue } from '../../functions/validation';

const EXPECTED = (issue: ValidationIssue) =>
  issue.severity === 'warning' &&
  (issue.code === 'not-supported' || (issue.code === 'code-invalid' && /^Condition\.category\[\d+\]$/.test(issue.expression[0])));

async function problems(resources: readonly { resourceType: string; id?: string }[]): Promise<string[]> {
  const found: string[] = [];
  for (const resource of resources) {
    const issues = await validateResource(resource, resource.resourceType as ResourceType);
    for (const issue of issues.filter((i) => !EXPECTED(i))) {
      found.push(`${resource.resourceType}/${resource.id}: ${issue.severity} ${issue.code} at ${issue.expression[0]}: ${issue.diagnostics}`);
    }
  }
  return found;
}

describe('the demo data', () => {
  const resources = demoResources();

  it('holds resources of every served type', () => {
    expect(new Set(resources.map((r) => r.resourceType)).size).toBe(14);
  });

  it('conforms to STU3 and the Care Connect profiles: no error, no unexpected warning', async () => {
    expect(await problems(resources)).toEqual([]);
  });
});

describe("the benchmark generator's data", () => {
  it.each([1, 2, 7])('conforms for seed %i (500 patients with their conditions)', async (seed) => {
    const { patients, conditions } = generatePatients(500, seed);
    expect(await problems([...patients, ...conditions])).toEqual([]);
  });
});
