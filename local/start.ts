/**
 * `npm start`: the whole API on http://127.0.0.1:3000 (HOST and PORT override), on the embedded DynamoDB Local
 * engine (or AWS_ENDPOINT_URL_DYNAMODB / DYNAMODB_ENDPOINT), with the demo clients and data. CCRI_DATA_DIR keeps the
 * data and the signing key across restarts. Ctrl-C stops everything, the DynamoDB child included. Logs are laid out
 * in aligned columns for people (local/console-log.ts); CCRI_LOG_FORMAT=json keeps the raw JSON lines.
 */
import { DynamoDbLocalError } from './dynamodb-local';
import { startLocalApi } from './app';
import { formatAccessLine, installPrettyConsole } from './console-log';
import { DEFAULT_ADMIN_CLIENT_ID } from '../functions/admin/seed';

// Aligned, readable lines on the console; CCRI_LOG_FORMAT=json keeps the functions' raw JSON (as on AWS).
const pretty = process.env.CCRI_LOG_FORMAT !== 'json';
if (pretty) installPrettyConsole();

const host = process.env.HOST ?? '127.0.0.1';
const port = Number(process.env.PORT ?? 3000);
const dataDir = process.env.CCRI_DATA_DIR || undefined;

const started = Date.now();
try {
  const api = await startLocalApi({
    host,
    port,
    dataDir,
    log: (line) => console.log(line),
    onListening: (url) => console.log(`Listening on ${url}; loading the demo data (until then requests get 503 + Retry-After)...`),
    accessLog:
      process.env.CCRI_ACCESS_LOG === '0'
        ? undefined
        : (e) => console.log(pretty ? formatAccessLine(e) : `${e.method} ${e.path} -> ${e.status} (${e.ms} ms)`),
  });
  console.log(
    [
      '',
      `CCRI Security Scopes: the FHIR STU3 API is up at ${api.fhirBase} (started in ${Date.now() - started} ms)`,
      `  web explorer     ${api.baseUrl}/`,
      `  token endpoint   POST ${api.tokenUrl}`,
      `  JWKS             GET  ${api.baseUrl}/.well-known/jwks.json`,
      `  capabilities     GET  ${api.fhirBase}/metadata`,
      `  SMART discovery  GET  ${api.fhirBase}/.well-known/smart-configuration`,
      `  DynamoDB         ${api.endpoint}${dataDir ? ` (data kept in ${dataDir})` : ' (in memory)'}`,
      `  admin CLI        CCRI_API_URL=${api.baseUrl} CCRI_ADMIN_CLIENT_ID=${process.env.CCRI_ADMIN_CLIENT_ID || DEFAULT_ADMIN_CLIENT_ID} CCRI_ADMIN_CLIENT_SECRET=<its secret, below> npm run admin -- clients list`,
      '',
      ...api.seedLines,
      '',
      'Try it (Patient Access demo client):',
      `  TOKEN=$(curl -s -X POST ${api.tokenUrl} \\`,
      `    -u 'a24a4d9f-c264-4af7-a8e5-248c24a6b707:MMpAOGBljYcEzBfn7q9-xgJqBlmR0BSiEyCrCjNNOUpR78kZtzqgKKU_4FgGRFNWbtc6jPIErLwoYwRgnlvijA' \\`,
      `    -d grant_type=client_credentials | node -pe 'JSON.parse(require("fs").readFileSync(0)).access_token')`,
      `  curl -s ${api.fhirBase}/Patient/1 -H "Authorization: Bearer $TOKEN"`,
      `  curl -s '${api.fhirBase}/Condition?patient=1' -H "Authorization: Bearer $TOKEN"   # 403: no Condition scope`,
      '',
      'Ctrl-C stops the API and the embedded DynamoDB.',
    ].join('\n'),
  );
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping...`);
    await api.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
} catch (err) {
  if (err instanceof DynamoDbLocalError) console.error(`\n${err.message}\n`);
  else if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') console.error(`\nPort ${port} on ${host} is in use: set PORT to another one.\n`);
  else console.error(err);
  process.exit(1);
}
