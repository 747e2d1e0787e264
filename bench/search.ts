/**
 * P5: search latency at 1,000 and at 100,000 patients (with their conditions): by identifier (NHS number), by
 * family and `Condition?patient=`, p50 of each, and the ratio 100k/1k. Each query returns the same number of
 * results at both sizes (the generated family names are rewritten so that every family has 10 patients), so the
 * ratio shows what the TABLE size costs. The load of each data set (parallel BatchWriteItem) is timed and reported.
 */
import { createHash } from 'node:crypto';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import type { ResourceType } from '../functions/fhir/resource-types';
import { toContext, accessFromClaims } from '../functions/scopes/permissions';
import { createResourceHandler } from '../functions/resource/handler';
import { generatePatients } from '../functions/seed/demo-data';
import { bulkLoad } from '../functions/seed/loader';
import { resourceTable } from '../lib/tables';
import type { BenchDynamo } from './dynamo';
import { figure, median, timeEach, type Figure } from './measure';

const FAMILY_SIZE = 10;

function familyOf(i: number): string {
  return `Bench${String(Math.floor(i / FAMILY_SIZE)).padStart(6, '0')}`;
}

interface Dataset {
  size: number;
  loadMs: number;
  nhsNumbers: string[];
  families: string[];
  patientsWithConditions: string[];
}

async function load(dynamo: BenchDynamo, size: number, seed: number, prefixOf: (type: ResourceType) => string): Promise<Dataset> {
  const { patients, conditions } = generatePatients(size, seed);
  patients.forEach((p, i) => {
    (p as unknown as fhir.Patient).name![0]!.family = familyOf(i);
  });
  const start = performance.now();
  await bulkLoad({ documentClient: dynamo.documentClient, tableName: prefixOf, resources: [...patients, ...conditions], concurrency: 32 });
  const loadMs = performance.now() - start;
  const pick = <T>(xs: T[], k: number) => Array.from({ length: k }, (_, j) => xs[Math.floor(((j + 0.5) * xs.length) / k)]!);
  const withConditions = [...new Set(conditions.map((c) => ((c as unknown as fhir.Condition).subject.reference!.split('/')[1])!))];
  return {
    size,
    loadMs,
    nhsNumbers: pick(patients, 20).map((p) => (p as unknown as fhir.Patient).identifier![0]!.value!),
    families: pick(patients, 20).map((_, j) => familyOf(Math.floor(((j + 0.5) * size) / 20))),
    patientsWithConditions: pick(withConditions, 20),
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

export async function searchBench(quick: boolean, dynamo: BenchDynamo): Promise<Figure[]> {
  const sizes = quick ? [100, 1000] : [1000, 100_000];
  const repeats = quick ? 5 : 60;
  const context = toContext(accessFromClaims({ clientId: 'bench', scope: 'system/*.read' }, {})) as Record<string, string>;
  const results: Record<string, number[]> = {};
  const figures: Figure[] = [];
  for (const [k, size] of sizes.entries()) {
    const suffix = createHash('sha1').update(String(size)).digest('hex').slice(0, 6);
    const tableName = (type: ResourceType) => `${dynamo.prefix}${suffix}-${resourceTable(type).id}`;
    const { createTables } = await import('../local/tables');
    const { DynamoDBClient } = await import('@aws-sdk/client-dynamodb');
    const raw = new DynamoDBClient({ endpoint: dynamo.endpoint });
    await createTables(raw, [resourceTable('Patient'), resourceTable('Condition')], (spec) => `${dynamo.prefix}${suffix}-${spec.id}`);
    raw.destroy();
    const data = await load(dynamo, size, k + 1, tableName);
    figures.push(figure(`P5 load ${size} patients + conditions (BatchWriteItem, 32 in parallel)`, data.loadMs / 1000, 0, 1, 's', 'none'));
    const patients = createResourceHandler({ type: 'Patient', tableName: tableName('Patient'), documentClient: dynamo.documentClient });
    const conditions = createResourceHandler({ type: 'Condition', tableName: tableName('Condition'), documentClient: dynamo.documentClient });
    const cases: Array<[string, () => Promise<unknown>]> = [];
    let i = 0;
    const rotate = <T>(xs: T[]) => xs[i++ % xs.length]!;
    const check = async (p: Promise<{ statusCode: number; body: string }>, min: number) => {
      const res = await p;
      const total = (JSON.parse(res.body) as { total?: number }).total ?? -1;
      if (res.statusCode !== 200 || total < min) throw new Error(`search got ${res.statusCode} total ${total}`);
    };
    cases.push(['identifier', () => check(patients(event('Patient', { identifier: `https://fhir.nhs.uk/Id/nhs-number|${rotate(data.nhsNumbers)}` }, context)), 1)]);
    cases.push(['family', () => check(patients(event('Patient', { family: rotate(data.families) }, context)), FAMILY_SIZE)]);
    cases.push(['Condition?patient=', () => check(conditions(event('Condition', { patient: rotate(data.patientsWithConditions) }, context)), 1)]);
    for (const [name, fn] of cases) {
      results[`${name}@${size}`] = await timeEach(fn, repeats);
    }
  }
  for (const name of ['identifier', 'family', 'Condition?patient=']) {
    const small = median(results[`${name}@${sizes[0]}`]!);
    const large = median(results[`${name}@${sizes[1]}`]!);
    figures.push(figure(`P5 search by ${name}: p50 at ${sizes[1]} vs ${sizes[0]} patients`, large, small, repeats, 'ms', `the same search at ${sizes[0]} patients`, { ratio: 1.2 }));
  }
  return figures;
}
