/** Profile validation per resource, beside JSON.parse of the same body (work every write does anyway). */
import type { ResourceType } from '../contract/resource-types';
import { demoResources } from '../functions/seed/demo-data';
import { validateResource } from '../functions/validation';
import { figure, timePerCall, type Figure } from './measure';

export async function validationCost(quick: boolean): Promise<Figure[]> {
  const iterations = quick ? 2_000 : 50_000;
  const all = demoResources();
  const figures: Figure[] = [];
  for (const type of ['Patient', 'Condition', 'Medication', 'Observation'] as ResourceType[]) {
    const resource = all.find((r) => r.resourceType === type)!;
    const text = JSON.stringify(resource);
    const floor = await timePerCall(() => JSON.parse(text), iterations);
    const value = await timePerCall(() => validateResource(resource, type), iterations);
    figures.push(figure(`V validation of a demo ${type}`, value * 1000, floor * 1000, iterations, 'µs', 'JSON.parse of the same resource'));
  }
  return figures;
}
