import { validateResource } from './functions/validation';
import { fixture } from './test/validation/fixtures';
import { demoResources } from './functions/seed/demo-data';
import { RESOURCE_TYPES } from './functions/fhir/resource-types';
const t0 = performance.now();
for (const type of RESOURCE_TYPES) {
  const issues = await validateResource(fixture(type), type);
  for (const i of issues) console.log('FIX', type, i.severity, i.code, i.expression[0], i.diagnostics.slice(0, 200));
}
console.log('fixtures ms', performance.now() - t0);
const counts: Record<string, number> = {};
for (const r of demoResources()) {
  const issues = await validateResource(r, r.resourceType as any);
  for (const i of issues) { const k = `${r.resourceType} ${i.severity} ${i.code} ${i.expression[0].replace(/\[\d+\]/g,'[]')} ${i.diagnostics.replace(/'[^']*'/g,"'…'").slice(0,160)}`; counts[k] = (counts[k] ?? 0) + 1; }
}
for (const [k, n] of Object.entries(counts)) console.log('DEMO', n, k);
console.log('total ms', performance.now() - t0);
