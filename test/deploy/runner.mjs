// Runs one built Lambda asset in this (fresh, Node 24) process, as the Lambda runtime would: import the handler
// module once (init: configuration read from the environment), then one event per stdin line, answers on fd 3
// (stdout and stderr stay the function's own logs). Used by test/deploy/lambda-process.ts only.
import { createWriteStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';

const [, , file, exportName, functionName] = process.argv;
const out = createWriteStream(null, { fd: 3 });
const send = (message) => out.write(`${JSON.stringify(message)}\n`);
// The network path from a function back to its own API (the authorizer fetches the JWKS from the API's URL):
// requests to the API's host go to the rehearsal's local gateway instead, which runs the JWKS function.
const apiHost = process.env.REHEARSAL_API_HOST;
const gateway = process.env.REHEARSAL_GATEWAY;
if (apiHost && gateway) {
  const realFetch = globalThis.fetch;
  globalThis.fetch = (input, init) => {
    const url = new URL(typeof input === 'string' || input instanceof URL ? input : input.url);
    if (url.host !== apiHost) return realFetch(input, init);
    return realFetch(`${gateway}${url.pathname}${url.search}`, init);
  };
}
let handler;
try {
  handler = (await import(pathToFileURL(file).href))[exportName];
  if (typeof handler !== 'function') throw new Error(`${file} exports no function ${exportName}`);
  send({ ready: true, node: process.version });
} catch (error) {
  out.end(`${JSON.stringify({ ready: false, error: String(error?.stack ?? error) })}\n`, () => process.exit(1));
  await new Promise(() => {});
}
const context = (id) => ({
  functionName,
  awsRequestId: `rehearsal-${id}`,
  invokedFunctionArn: `arn:aws:lambda:${process.env.AWS_REGION}:123456789012:function:${functionName}`,
  getRemainingTimeInMillis: () => 10_000,
  callbackWaitsForEmptyEventLoop: true,
});
createInterface({ input: process.stdin }).on('line', async (line) => {
  const { id, event } = JSON.parse(line);
  try {
    send({ id, result: (await handler(event, context(id))) ?? null });
  } catch (error) {
    send({ id, error: String(error?.stack ?? error) });
  }
});
