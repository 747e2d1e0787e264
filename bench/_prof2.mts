import { BatchWriteCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { benchDynamo } from './dynamo';
import { FHIR_TABLE } from '../contract/tables';
const d = await benchDynamo();
const T = d.tableName(FHIR_TABLE);
const db = d.documentClient;
const big = { pk: 'Patient/x', sk: 'v', resource: 'x'.repeat(1200) };
const small = (i: number) => ({ pk: `Patient/_i/name/${i % 8}`, sk: `v${Math.random()}#id`, t: 1, v: 1 });
async function time(label: string, f: () => Promise<unknown>, n = 300) {
  for (let i = 0; i < 30; i++) await f();
  const ts: number[] = [];
  for (let i = 0; i < n; i++) { const t0 = performance.now(); await f(); ts.push(performance.now() - t0); }
  ts.sort((a, b) => a - b);
  console.log(label, ts[n >> 1].toFixed(2));
}
let k = 0;
for (let round = 0; round < 2; round++) {
await time('put 1.2KB', () => db.send(new PutCommand({ TableName: T, Item: { ...big, pk: `Patient/${k++}` }, ConditionExpression: 'attribute_not_exists(pk)' })));
await time('batch 12 small', () => db.send(new BatchWriteCommand({ RequestItems: { [T]: Array.from({ length: 12 }, (_, i) => ({ PutRequest: { Item: small(i) } })) } })));
await time('batch 6 small', () => db.send(new BatchWriteCommand({ RequestItems: { [T]: Array.from({ length: 6 }, (_, i) => ({ PutRequest: { Item: small(i) } })) } })));
await time('12 parallel puts', () => Promise.all(Array.from({ length: 12 }, (_, i) => db.send(new PutCommand({ TableName: T, Item: small(i) })))));
await time('batch 12 small + put parallel', () => Promise.all([db.send(new BatchWriteCommand({ RequestItems: { [T]: Array.from({ length: 12 }, (_, i) => ({ PutRequest: { Item: small(i) } })) } })), db.send(new PutCommand({ TableName: T, Item: { ...big, pk: `Patient/${k++}` }, ConditionExpression: 'attribute_not_exists(pk)' }))]));
await time('batch 13 incl big', () => db.send(new BatchWriteCommand({ RequestItems: { [T]: [...Array.from({ length: 12 }, (_, i) => ({ PutRequest: { Item: small(i) } })), { PutRequest: { Item: { ...big, pk: `Patient/${k++}` } } }] } })));
}
await d.stop();
process.exit(0);
