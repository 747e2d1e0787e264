/**
 * Search latency against data size, through THE FHIR function (handler, one table), p50 of each, as ratios:
 *  - P5 selective searches (identifier, family of 10, `Condition?patient=`) at the large vs the small data set;
 *  - P6 first pages of broad searches (no parameter, `gender=female`, a `name` prefix every patient matches) at the
 *    large vs the small data set, and `Condition?patient=X` for a patient with 2,000 conditions vs one with 5 in
 *    the large set: each must cost the same (<= 1.2x) whatever the number of matches and the table size.
 * Sizes: 1,000 and 20,000 patients (`--size=100000` for the large one), quick mode 100 and 1,000. Each data set is
 * bulk-loaded (functions/seed/loader.ts bulkLoad, with a progress bar outside quick mode) and its load time reported.
 */
import { createHash } from 'node:crypto';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { ResourceType } from '../contract/resource-types';
import { toContext, accessFromClaims } from '../functions/scopes/permissions';
import { createFhirHandler } from '../functions/resource/handler';
import { generatePatients, type DemoResource } from '../functions/seed/demo-data';
import { bulkLoad, progressBar } from '../functions/seed/loader';
import { FHIR_TABLE } from '../contract/tables';
import { createTables } from '../local/tables';
import type { BenchDynamo } from './dynamo';
import { alternating, figure, median, timeEach, type Figure } from './measure';

const FAMILY_SIZE = 10;
const familyOf = (i: number) => `Bench${String(Math.floor(i / FAMILY_SIZE)).padStart(6, '0')}`;

interface Dataset {
  size: number;
  loadMs: number;
  resources: number;
  nhsNumbers: string[];
  families: string[];
  patientsWithConditions: string[];
  big: string;
  small: string;
}

async function load(dynamo: BenchDynamo, tableName: string, size: number, seed: number, bigConditions: number, quick: boolean): Promise<Dataset> {
  const { patients, conditions } = generatePatients(size, seed);
  patients.forEach((p, i) => {
    (p as unknown as fhir.Patient).name![0]!.family = familyOf(i);
  });
  const withConditions = [...new Set(conditions.map((c) => (c as unknown as fhir.Condition).subject.reference!.split('/')[1]!))];
  const [big, small] = [patients[1]!.id, patients[2]!.id];
  const extra: DemoResource[] = [];
  const template = conditions[0]!;
  const add = (owner: string, n: number) => {
    for (let k = 0; k < n; k++) extra.push({ ...template, id: `${owner}-x${k}`, subject: { reference: `Patient/${owner}` } } as DemoResource);
  };
  add(big, bigConditions);
  add(small, 5);
  const resources = [...patients, ...conditions.filter((c) => ![big, small].some((o) => (c as unknown as fhir.Condition).subject.reference === `Patient/${o}`)), ...extra];
  const start = performance.now();
  await bulkLoad({
    documentClient: dynamo.documentClient,
    tableName,
    resources,
    ...(quick ? {} : { onProgress: progressBar(`loading ${size} patients + conditions`) }),
  });
  const loadMs = performance.now() - start;
  const pick = <T>(xs: T[], k: number) => Array.from({ length: k }, (_, j) => xs[Math.floor(((j + 0.5) * xs.length) / k)]!);
  return {
    size,
    loadMs,
    resources: resources.length,
    nhsNumbers: pick(patients, 20).map((p) => (p as unknown as fhir.Patient).identifier![0]!.value!),
    families: pick(patients, 20).map((_, j) => familyOf(Math.floor(((j + 0.5) * size) / 20))),
    patientsWithConditions: pick(withConditions, 20),
    big,
    small,
  };
}

function event(type: ResourceType, query: Record<string, string>, context: Record<string, string>): APIGatewayProxyEvent {
  return {
    resource: `/STU3/${type}`,
    path: `/STU3/${type}`,
    httpMethod: 'GET',
    headers: { Accept: 'application/fhir+json' },
    multiValueHeaders: {},
    queryStringParameters: query,
    multiValueQueryStringParameters: Object.fromEntries(Object.entries(query).map(([k, v]) => [k, [v]])),
    pathParameters: null,
    stageVariables: null,
    body: null,
    isBase64Encoded: false,
    requestContext: { requestId: 'bench', domainName: 'bench.local', stage: 'prod', authorizer: context },
  } as unknown as APIGatewayProxyEvent;
}

export async function searchBench(quick: boolean, dynamo: BenchDynamo, largeSize?: number): Promise<Figure[]> {
  const sizes = quick ? [100, 1000] : [1000, largeSize ?? 20_000];
  const bigConditions = quick ? 200 : 2000;
  const repeats = quick ? 5 : 60;
  const context = toContext(accessFromClaims({ clientId: 'bench', scope: 'system/*.read' }, {})) as Record<string, string>;
  const results: Record<string, number[]> = {};
  const figures: Figure[] = [];
  const raw = new DynamoDBClient({ endpoint: dynamo.endpoint });
  try {
    for (const [k, size] of sizes.entries()) {
      const suffix = createHash('sha1').update(`${size}-${Date.now()}`).digest('hex').slice(0, 6);
      const tableName = `${dynamo.prefix}${suffix}-${FHIR_TABLE.id}`;
      await createTables(raw, [FHIR_TABLE], () => tableName);
      const data = await load(dynamo, tableName, size, k + 1, bigConditions, quick);
      figures.push(figure(`P5 load ${size} patients + conditions (${data.resources} resources, BatchWriteItem, 32 in parallel)`, data.loadMs / 1000, 0, 1, 's', 'none'));
      const fhir = createFhirHandler({ tableName, clientFor: () => dynamo.documentClient, validator: null });
      let i = 0;
      const rotate = <T>(xs: T[]) => xs[i++ % xs.length]!;
      const check = async (type: ResourceType, query: Record<string, string>, min: number) => {
        const res = await fhir(event(type, query, context));
        const entries = ((JSON.parse(res.body) as { entry?: unknown[] }).entry ?? []).length;
        if (res.statusCode !== 200 || entries < min) throw new Error(`${type}?${new URLSearchParams(query)}: ${res.statusCode}, ${entries} entries`);
      };
      const cases: Array<[string, () => Promise<unknown>]> = [
        ['identifier', () => check('Patient', { identifier: `https://fhir.nhs.uk/Id/nhs-number|${rotate(data.nhsNumbers)}` }, 1)],
        ['family', () => check('Patient', { family: rotate(data.families), _count: '10' }, FAMILY_SIZE)],
        ['Condition?patient=', () => check('Condition', { patient: rotate(data.patientsWithConditions) }, 1)],
        ['first page, no parameter', () => check('Patient', { _count: '10' }, 10)],
        ['first page, gender=female', () => check('Patient', { gender: 'female', _count: '10' }, 10)],
        ['first page, name prefix matching every patient', () => check('Patient', { name: 'bench', _count: '10' }, 10)],
      ];
      for (const [name, fn] of cases) results[`${name}@${size}`] = await timeEach(fn, repeats);
      if (k === 1) {
        // The same page size for both (5), so that only the number of matches differs; both on the same data set,
        // measured in alternating rounds so that a change of the machine's load hits both alike.
        const pair: Array<[string, () => Promise<unknown>]> = [
          [`Condition?patient= with ${bigConditions} conditions`, () => check('Condition', { patient: data.big, _count: '5' }, 5)],
          ['Condition?patient= with 5 conditions', () => check('Condition', { patient: data.small, _count: '5' }, 5)],
        ];
        const rounds = 5;
        const runs = await alternating(rounds, ...pair.map(([, fn]) => () => timeEach(fn, Math.ceil(repeats / rounds))));
        pair.forEach(([name], k) => (results[`${name}@${size}`] = runs[k]!.flat()));
      }
    }
  } finally {
    raw.destroy();
  }
  const [small, large] = sizes as [number, number];
  const ratio = (name: string, label: string, sectionName: string) => {
    const a = median(results[`${name}@${small}`]!);
    const b = median(results[`${name}@${large}`]!);
    figures.push(figure(`${sectionName} ${label}: p50 at ${large} vs ${small} patients`, b, a, repeats, 'ms', `the same search at ${small} patients`, { ratio: 1.2 }));
  };
  for (const name of ['identifier', 'family', 'Condition?patient=']) ratio(name, `search by ${name}`, 'P5');
  for (const name of ['first page, no parameter', 'first page, gender=female', 'first page, name prefix matching every patient']) ratio(name, name, 'P6');
  const bigP50 = median(results[`Condition?patient= with ${bigConditions} conditions@${large}`]!);
  const smallP50 = median(results[`Condition?patient= with 5 conditions@${large}`]!);
  figures.push(
    figure(`P6 first page (_count=5), Condition?patient=X: ${bigConditions} vs 5 conditions (${large} patients)`, bigP50, smallP50, repeats, 'ms', 'a patient with 5 conditions', { ratio: 1.2 }),
  );
  return figures;
}
