/**
 * The explorer page: pick a client, get a token, see it decoded and verified, see what it may do (and confirm it
 * live), search, open resources, follow references, write. The token lives in this module's memory and in the
 * token text box only: never in localStorage, sessionStorage, a cookie or a URL.
 */
import type { Interaction } from '../../contract/routes';
import { accessOf, cellOf, COLUMNS, RESOURCE_TYPES, unreadScopes, type Column, type ResourceType } from './access';
import { fhir, getPublic, inFhirBase, requestToken, FHIR_BASE, type ApiResponse } from './api';
import { byId, h, show } from './dom';
import { refusalPanel, type CallContext } from './explain';
import { jsonView, REFERENCE, type Issue } from './json-view';
import { decodeJwt, verifyJwt, type DecodedJwt, type Verification } from './jwt';
import type { Access } from '../../functions/scopes/permissions';

interface DemoClient {
  clientId: string;
  clientSecret?: string;
  name: string;
  scope: string;
  patient?: string;
}
declare const __DEMO_CLIENTS__: DemoClient[];

interface SearchParam {
  name: string;
  type?: string;
  documentation?: string;
}

const state: {
  token: string;
  decoded?: DecodedJwt;
  access?: Access;
  verification?: Verification;
  jwks?: Promise<{ keys?: [] }>;
  searchParams: Map<string, SearchParam[]>;
  profiles: Map<string, string>;
  registered: string[];
  editing?: { type: ResourceType; id?: string };
} = { token: '', searchParams: new Map(), profiles: new Map(), registered: [] };

const isType = (t: string): t is ResourceType => (RESOURCE_TYPES as readonly string[]).includes(t);

// ---------------------------------------------------------------------------------------------------------------
// 1. Clients and scopes
// ---------------------------------------------------------------------------------------------------------------

function scopeBoxes(scopes: string[], checked: ReadonlySet<string> = new Set(scopes)) {
  state.registered = scopes;
  const boxes = scopes.map((scope, i) =>
    h('label', { class: 'scope', for: `scope-${i}` }, h('input', { type: 'checkbox', id: `scope-${i}`, value: scope, checked: checked.has(scope) }), scope),
  );
  show(byId('scope-boxes'), ...boxes);
  byId('scopes-hint').textContent = scopes.length
    ? 'The scopes this client is registered for. Untick some to ask for a narrower token.'
    : 'Unknown client: the first token is asked for every scope it is registered for; its scopes then appear here.';
}

function pickClient(client: DemoClient) {
  byId<HTMLInputElement>('client-id').value = client.clientId;
  const secret = byId<HTMLInputElement>('client-secret');
  secret.value = client.clientSecret ?? '';
  scopeBoxes(client.scope.split(' ').filter(Boolean));
  const status = byId('token-status');
  if (client.clientSecret) {
    status.textContent = `${client.name}: ready. Get a token.`;
    byId('get-token').focus();
  } else {
    status.textContent = `${client.name}: type its secret. npm start prints it in its start-up banner (or set CCRI_WRITER_CLIENT_SECRET); a deployment keeps it in Secrets Manager (output WriterSecretArn).`;
    secret.focus();
  }
}

function renderClients() {
  show(
    byId('demo-clients'),
    ...__DEMO_CLIENTS__.map((client) =>
      h('button', { type: 'button', class: 'secondary', 'data-client': client.clientId, onclick: () => pickClient(client) }, client.name),
    ),
  );
  byId('client-id').addEventListener('change', () => scopeBoxes(__DEMO_CLIENTS__.find((c) => c.clientId === byId<HTMLInputElement>('client-id').value)?.scope.split(' ') ?? []));
}

async function getToken(event: Event) {
  event.preventDefault();
  const status = byId('token-status');
  const clientId = byId<HTMLInputElement>('client-id').value.trim();
  const secret = byId<HTMLInputElement>('client-secret').value;
  if (!clientId || !secret) {
    status.textContent = 'Enter a client id and its secret, or pick a demo client.';
    return;
  }
  const picked = [...document.querySelectorAll<HTMLInputElement>('#scope-boxes input:checked')].map((i) => i.value);
  if (state.registered.length > 0 && picked.length === 0) {
    status.textContent = 'Tick at least one scope.';
    return;
  }
  const scope = picked.length === state.registered.length ? undefined : picked.join(' ');
  status.textContent = 'Asking POST /oauth2/token…';
  try {
    const answer = await requestToken(clientId, secret, scope);
    if (answer.status !== 200 || !answer.body.access_token) {
      status.textContent = `Refused (${answer.status}): ${answer.body.error ?? 'error'}${answer.body.error_description ? ` — ${answer.body.error_description}` : ''}`;
      status.className = 'status bad';
      return;
    }
    status.className = 'status ok';
    status.textContent = `Token issued for ${answer.body.scope ? `"${answer.body.scope}"` : 'no scope'}, valid ${answer.body.expires_in ?? '?'} s.`;
    if (state.registered.length === 0 && answer.body.scope) scopeBoxes(answer.body.scope.split(' ').filter(Boolean));
    byId<HTMLTextAreaElement>('token-text').value = answer.body.access_token;
    await useToken();
    byId('token-h').scrollIntoView?.({ block: 'start' });
  } catch (err) {
    status.className = 'status bad';
    status.textContent = `The token endpoint could not be reached: ${(err as Error).message}`;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// 2. The token: decoded, verified, counting down
// ---------------------------------------------------------------------------------------------------------------

let countdown: ReturnType<typeof setInterval> | undefined;

function jwks() {
  return (state.jwks ??= getPublic('.well-known/jwks.json').then((r) => {
    if (r.status !== 200) {
      state.jwks = undefined;
      throw new Error(`JWKS answered ${r.status}`);
    }
    return r.body as { keys?: [] };
  }));
}

async function useToken() {
  const token = byId<HTMLTextAreaElement>('token-text').value.trim();
  state.token = token;
  for (const id of ['token-section', 'grid-section', 'search-section']) byId(id).hidden = token === '';
  const mark = byId('signature');
  state.decoded = undefined;
  state.access = undefined;
  state.verification = undefined;
  try {
    state.decoded = decodeJwt(token);
  } catch (err) {
    mark.className = 'mark bad';
    mark.dataset.verified = 'false';
    mark.textContent = `✘ Not a JWT: ${(err as Error).message}.`;
    show(byId('jwt-header'));
    show(byId('jwt-claims'));
    show(byId('token-summary'));
    renderGrid();
    return;
  }
  const { header, claims } = state.decoded;
  byId('jwt-header').textContent = JSON.stringify(header, null, 2);
  byId('jwt-claims').textContent = JSON.stringify(claims, null, 2);
  state.access = accessOf(claims);
  renderSummary(claims);
  renderGrid();
  mark.className = 'mark';
  mark.textContent = 'Verifying the signature against the served JWKS…';
  try {
    const decoded = state.decoded;
    const verification = await verifyJwt(decoded, await jwks());
    if (state.decoded !== decoded) return;
    state.verification = verification;
    mark.dataset.verified = String(verification.verified);
    if (verification.verified) {
      mark.className = 'mark ok';
      mark.textContent = `✔ Signature verified in this browser (WebCrypto, RS256) against the API's JWKS, key ${verification.kid}.`;
    } else {
      mark.className = 'mark bad';
      mark.textContent = `✘ Signature NOT verified: ${verification.reason}. The API will refuse this token (401).`;
    }
  } catch (err) {
    mark.className = 'mark bad';
    mark.dataset.verified = 'unknown';
    mark.textContent = `✘ Could not check the signature: ${(err as Error).message}.`;
  }
}

function renderSummary(claims: Record<string, unknown>) {
  const exp = typeof claims.exp === 'number' ? claims.exp : undefined;
  const expiry = h('dd', { id: 'expiry' });
  const tick = () => {
    if (exp === undefined) return void (expiry.textContent = 'no exp claim');
    const left = exp - Math.floor(Date.now() / 1000);
    expiry.textContent =
      left > 0 ? `in ${Math.floor(left / 60)} min ${String(left % 60).padStart(2, '0')} s (${new Date(exp * 1000).toISOString()})` : `EXPIRED ${-left} s ago: get a new token`;
    expiry.className = left > 0 ? '' : 'bad';
  };
  clearInterval(countdown);
  countdown = setInterval(tick, 1000);
  tick();
  const row = (term: string, value: unknown) => [h('dt', {}, term), h('dd', {}, value === undefined ? '—' : String(value))];
  show(
    byId('token-summary'),
    ...row('client', claims.client_id ?? claims.sub),
    ...row('scope', claims.scope),
    ...row('patient', claims.patient === undefined ? 'none (not bound to a patient)' : `Patient/${claims.patient}`),
    h('dt', {}, 'expires'),
    expiry,
    ...row('issuer', claims.iss),
    ...row('audience', claims.aud),
  );
}

// ---------------------------------------------------------------------------------------------------------------
// 3. What this token may do
// ---------------------------------------------------------------------------------------------------------------

const COLUMN_NAMES = Object.keys(COLUMNS) as Column[];

function renderGrid() {
  const body = byId('grid').querySelector('tbody')!;
  const access = state.access;
  show(byId('grid-status'));
  const unread = state.decoded ? unreadScopes(state.decoded.claims.scope) : [];
  byId('grid-notes').textContent = unread.length
    ? `Scopes the SMART grammar does not read (named scopes are expanded when the token is issued; anything else grants nothing): ${unread.join(', ')}. The live calls show what the API makes of them.`
    : '';
  if (!access) return show(body);
  show(
    body,
    ...RESOURCE_TYPES.map((type) =>
      h(
        'tr',
        {},
        h('th', { scope: 'row' }, type),
        ...COLUMN_NAMES.map((column) => {
          const cell = cellOf(access, type, column);
          const text =
            cell.verdict === 'denied'
              ? '✘ no'
              : `✔ ${column === 'write' ? cell.interactions.join(', ') : 'yes'}${cell.verdict === 'compartment' ? ` (Patient/${cell.patient} only)` : ''}`;
          return h('td', { class: cell.verdict, 'data-type': type, 'data-column': column, 'data-predicted': cell.verdict, title: cell.reason }, text);
        }),
      ),
    ),
  );
}

/** The one live call that confirms a cell; none of them changes data. */
function probe(type: ResourceType, column: Column): Promise<ApiResponse> {
  if (column === 'search') return fhir(state.token, `${type}?_count=1`);
  if (column === 'read') return fhir(state.token, `${type}/explorer-probe-does-not-exist`);
  return fhir(state.token, `${type}/$validate`, { method: 'POST', body: { resourceType: type } });
}

async function confirmLive() {
  const status = byId('grid-status');
  const cells = [...document.querySelectorAll<HTMLTableCellElement>('#grid td[data-type]')];
  if (!state.token || cells.length === 0) return;
  status.textContent = `Calling the API ${cells.length} times…`;
  let mismatches = 0;
  let done = 0;
  const queue = [...cells];
  const worker = async () => {
    for (let cell = queue.shift(); cell; cell = queue.shift()) {
      const type = cell.dataset.type as ResourceType;
      const column = cell.dataset.column as Column;
      let live: string;
      let label: string;
      try {
        const r = await probe(type, column);
        const refusedByToken = r.status === 401 || (r.status === 403 && r.headers.has('WWW-Authenticate'));
        live = refusedByToken ? 'denied' : 'allowed';
        label = `live: ${r.status}${refusedByToken ? ' refused' : r.status === 403 ? ' (compartment check)' : ' passed the scope check'}`;
      } catch (err) {
        live = 'error';
        label = `live: failed (${(err as Error).message})`;
      }
      const predicted = cell.dataset.predicted === 'denied' ? 'denied' : 'allowed';
      cell.dataset.live = live;
      cell.querySelector('.live')?.remove();
      cell.append(h('span', { class: 'live' }, label));
      cell.classList.toggle('mismatch', live !== predicted);
      if (live !== predicted) mismatches++;
      done++;
    }
  };
  await Promise.all(Array.from({ length: 6 }, worker));
  status.textContent = mismatches
    ? `${done} live calls: ${mismatches} differ from the rules (outlined): the server runs with other settings (e.g. STRICT_PATIENT_SCOPES) or scopes this page cannot read.`
    : `${done} live calls: every cell confirmed by the API.`;
  status.dataset.mismatches = String(mismatches);
}

// ---------------------------------------------------------------------------------------------------------------
// 4. Search, from the CapabilityStatement
// ---------------------------------------------------------------------------------------------------------------

async function loadCapabilities() {
  const r = await getPublic('metadata', FHIR_BASE);
  const resources = ((r.body as { rest?: Array<{ resource?: Array<{ type: string; searchParam?: SearchParam[]; profile?: { reference?: string } }> }> })?.rest?.[0]?.resource ?? []).filter((res) => isType(res.type));
  for (const res of resources) {
    state.searchParams.set(res.type, res.searchParam ?? []);
    if (res.profile?.reference) state.profiles.set(res.type, res.profile.reference);
  }
  const select = byId<HTMLSelectElement>('search-type');
  show(select, ...resources.map((res) => h('option', { value: res.type }, res.type)));
  select.addEventListener('change', renderSearchParams);
  renderSearchParams();
}

function renderSearchParams() {
  const type = byId<HTMLSelectElement>('search-type').value;
  const params = state.searchParams.get(type) ?? [];
  show(
    byId('search-params'),
    ...params.map((p) =>
      h(
        'div',
        { class: 'field' },
        h('label', { for: `sp-${p.name}` }, p.name, h('span', { class: 'hint' }, ` (${p.type ?? 'string'})`)),
        h('input', { id: `sp-${p.name}`, 'data-param': p.name, autocomplete: 'off', 'aria-describedby': `sp-${p.name}-doc` }),
        h('span', { id: `sp-${p.name}-doc`, class: 'hint' }, p.documentation ?? ''),
      ),
    ),
  );
}

function search(event: Event) {
  event.preventDefault();
  const type = byId<HTMLSelectElement>('search-type').value;
  const query = new URLSearchParams();
  for (const input of document.querySelectorAll<HTMLInputElement>('#search-params input')) {
    if (input.value.trim()) query.append(input.dataset.param!, input.value.trim());
  }
  query.set('_count', byId<HTMLSelectElement>('search-count').value);
  void showBundle(new URL(`${type}?${query}`, FHIR_BASE), type as ResourceType);
}

function summarize(resource: Record<string, unknown>): string {
  const name = (resource.name as Array<{ family?: string; given?: string[]; text?: string }> | string | undefined) ?? undefined;
  if (typeof name === 'string') return name;
  if (Array.isArray(name) && name[0]) return name[0].text ?? [name[0].given?.join(' '), name[0].family].filter(Boolean).join(' ');
  const concept = (resource.code ?? resource.vaccineCode ?? resource.medicationCodeableConcept ?? resource.type) as
    | { text?: string; coding?: Array<{ display?: string }> }
    | Array<{ text?: string; coding?: Array<{ display?: string }> }>
    | undefined;
  const c = Array.isArray(concept) ? concept[0] : concept;
  return c?.text ?? c?.coding?.[0]?.display ?? String(resource.status ?? '');
}

/**
 * Calls the API. A request that fails outright (the network, a link outside the API) shows its error in the panel
 * that made it, if that request is still the panel's last one; the caller gets undefined.
 */
async function call(target: string | URL, panel: { into: HTMLElement; current: () => boolean }, init?: { method?: string; body?: unknown }): Promise<ApiResponse | undefined> {
  try {
    return await fhir(state.token, target, init);
  } catch (err) {
    if (panel.current()) alertIn(panel.into, (err as Error).message);
    return undefined;
  }
}

function alertIn(container: HTMLElement, message: string) {
  show(container, h('p', { class: 'refusal', role: 'alert' }, message));
}

function contextFor(type: ResourceType | undefined, interaction: Interaction): CallContext {
  return { type, interaction, access: state.access, signatureBad: state.verification ? !state.verification.verified : undefined };
}

/**
 * Each panel shows the answer to the LAST request made into it: a turn is taken when a request starts, and an answer
 * that arrives after a newer request into the same panel is dropped (a slow page of results must not replace the
 * search clicked after it).
 */
function turns(): () => () => boolean {
  let latest = 0;
  return () => {
    const mine = ++latest;
    return () => mine === latest;
  };
}
const resultsTurn = turns();
const resourceTurn = turns();
const editorTurn = turns();

async function showBundle(url: URL, type: ResourceType | undefined) {
  const results = byId('results');
  const current = resultsTurn();
  show(results, h('p', { class: 'status' }, `GET ${url.pathname}${url.search}…`));
  const r = await call(url, { into: results, current });
  if (!r || !current()) return;
  if (r.status !== 200) return show(results, refusalPanel(r, contextFor(type, 'search-type')));
  const bundle = r.body as { total?: number; entry?: Array<{ resource?: Record<string, unknown>; fullUrl?: string; search?: { mode?: string } }>; link?: Array<{ relation: string; url: string }> };
  const entries = bundle.entry ?? [];
  const links = (bundle.link ?? []).filter((l) => ['first', 'previous', 'next', 'last'].includes(l.relation));
  show(
    results,
    h('p', { id: 'bundle-total' }, `Bundle: ${bundle.total ?? '?'} match${bundle.total === 1 ? '' : 'es'}, ${entries.length} on this page. `, h('code', {}, `GET ${url.pathname}${url.search}`)),
    entries.length > 0 &&
      h(
        'div',
        { class: 'scroll' },
        h(
          'table',
          { id: 'bundle' },
          h('caption', { class: 'visually-hidden' }, 'Search results'),
          h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Resource'), h('th', { scope: 'col' }, 'Summary'), h('th', { scope: 'col' }, 'Mode'))),
          h(
            'tbody',
            {},
            ...entries.map((e) => {
              const res = e.resource ?? {};
              const ref = `${String(res.resourceType)}/${String(res.id)}`;
              return h(
                'tr',
                {},
                h('td', {}, h('button', { type: 'button', class: 'link', 'data-open': ref, onclick: () => openResource(ref) }, ref)),
                h('td', {}, summarize(res)),
                h('td', {}, e.search?.mode ?? ''),
              );
            }),
          ),
        ),
      ),
    links.length > 0 &&
      h(
        'nav',
        { 'aria-label': 'Pages of results', class: 'buttons' },
        ...links.map((l) => {
          const next = new URL(l.url, FHIR_BASE);
          return h('button', { type: 'button', class: 'secondary', 'data-page': l.relation, disabled: !inFhirBase(next), onclick: () => showBundle(next, type) }, l.relation);
        }),
      ),
  );
}

// ---------------------------------------------------------------------------------------------------------------
// 5. A resource: JSON, history, profile, references
// ---------------------------------------------------------------------------------------------------------------

function parseRef(ref: string): { type: ResourceType; id: string; vid?: string } | undefined {
  const m = REFERENCE.exec(ref);
  return m && isType(m[1]!) ? { type: m[1] as ResourceType, id: m[2]!, vid: m[3] } : undefined;
}

async function openResource(ref: string) {
  const current = resourceTurn();
  const section = byId('resource-section');
  const body = byId('resource-body');
  section.hidden = false;
  byId('resource-title').textContent = ref;
  const parsed = parseRef(ref);
  show(byId('resource-actions'));
  if (!parsed) return show(body, h('p', { class: 'refusal', role: 'alert' }, `${ref} is not a reference to a type this API serves.`));
  show(body, h('p', { class: 'status' }, `GET ${ref}…`));
  section.scrollIntoView?.({ block: 'start' });
  const ctx = contextFor(parsed.type, parsed.vid ? 'vread' : 'read');
  const r = await call(ref, { into: body, current });
  if (!r || !current()) return;
  if (r.status !== 200) return show(body, refusalPanel(r, ctx));
  const resource = r.body as { resourceType: string; id: string; meta?: { versionId?: string; lastUpdated?: string; profile?: string[] } };
  const profile = resource.meta?.profile?.[0] ?? state.profiles.get(parsed.type);
  show(
    byId('resource-actions'),
    h('button', { type: 'button', class: 'secondary', id: 'show-history', onclick: () => showHistory(parsed.type, parsed.id) }, 'History'),
    h('button', { type: 'button', class: 'secondary', id: 'edit-resource', onclick: () => edit(parsed.type, resource, parsed.id) }, 'Edit'),
  );
  show(
    body,
    h(
      'dl',
      { class: 'summary' },
      h('dt', {}, 'version'),
      h('dd', {}, `${resource.meta?.versionId ?? '?'}${resource.meta?.lastUpdated ? `, ${resource.meta.lastUpdated}` : ''}`),
      h('dt', {}, 'profile'),
      h('dd', { id: 'resource-profile' }, profile ? h('a', { href: profile, rel: 'noopener noreferrer external', target: '_blank' }, profile) : 'none claimed'),
    ),
    jsonView(resource, { openReference: (next) => void openResource(next) }),
  );
}

async function showHistory(type: ResourceType, id: string) {
  const body = byId('resource-body');
  const ctx = contextFor(type, 'history-instance');
  const current = resourceTurn();
  const r = await call(`${type}/${id}/_history`, { into: body, current });
  if (!r || !current()) return;
  if (r.status !== 200) return show(body, refusalPanel(r, ctx));
  const versions = ((r.body as { entry?: Array<{ resource?: { meta?: { versionId?: string; lastUpdated?: string } }; request?: { method?: string } }> }).entry ?? []);
  show(
    body,
    h('h3', {}, `History of ${type}/${id}: ${versions.length} version${versions.length === 1 ? '' : 's'}`),
    h(
      'ul',
      { id: 'history' },
      ...versions.map((v) => {
        const vid = v.resource?.meta?.versionId;
        return h('li', {}, vid ? h('button', { type: 'button', class: 'link', onclick: () => openResource(`${type}/${id}/_history/${vid}`) }, `version ${vid}`) : 'deleted', ` ${v.resource?.meta?.lastUpdated ?? ''} ${v.request?.method ?? ''}`);
      }),
    ),
  );
}

// ---------------------------------------------------------------------------------------------------------------
// 6. Writing: from a Care Connect example, issues shown on the fields they name
// ---------------------------------------------------------------------------------------------------------------

function edit(type: ResourceType, resource: object, id?: string) {
  state.editing = { type, id };
  byId('editor-section').hidden = false;
  byId('editor-title').textContent = id ? `Edit ${type}/${id} (PUT)` : `New ${type} (POST)`;
  byId('editor-save').textContent = id ? `Update ${type}/${id}` : `Create ${type}`;
  byId<HTMLTextAreaElement>('editor-text').value = JSON.stringify(resource, null, 2);
  show(byId('editor-result'));
  byId('editor-text').focus();
}

async function newFromExample() {
  const type = byId<HTMLSelectElement>('search-type').value as ResourceType;
  const ctx = contextFor(type, 'search-type');
  const current = resultsTurn();
  const r = await call(`${type}?_count=1`, { into: byId('results'), current });
  if (!r || !current()) return;
  if (r.status !== 200) return show(byId('results'), refusalPanel(r, ctx));
  const example = (r.body as { entry?: Array<{ resource?: Record<string, unknown> }> }).entry?.[0]?.resource;
  if (!example) return alertIn(byId('results'), `No ${type} to start from: search found none.`);
  const { id: _id, meta, ...rest } = example as { id?: string; meta?: { profile?: string[] } };
  edit(type, { ...rest, ...(meta?.profile ? { meta: { profile: meta.profile } } : {}) });
}

async function write(validateOnly: boolean) {
  const editing = state.editing;
  const result = byId('editor-result');
  if (!editing) return;
  let resource: unknown;
  try {
    resource = JSON.parse(byId<HTMLTextAreaElement>('editor-text').value);
  } catch (err) {
    return show(result, h('p', { class: 'refusal', role: 'alert' }, `Not JSON: ${(err as Error).message}`));
  }
  const path = validateOnly ? (editing.id ? `${editing.type}/${editing.id}/$validate` : `${editing.type}/$validate`) : editing.id ? `${editing.type}/${editing.id}` : editing.type;
  const method = validateOnly || !editing.id ? 'POST' : 'PUT';
  const ctx = contextFor(editing.type, validateOnly ? 'validate' : editing.id ? 'update' : 'create');
  const current = editorTurn();
  const r = await call(path, { into: result, current }, { method, body: resource });
  if (!r || !current()) return;
  if (r.status === 401 || r.status === 403) return show(result, refusalPanel(r, ctx));
  const outcome = r.body as { resourceType?: string; issue?: Issue[]; id?: string };
  const issues = outcome?.resourceType === 'OperationOutcome' ? (outcome.issue ?? []) : [];
  const errors = issues.filter((i) => i.severity === 'error' || i.severity === 'fatal');
  if (r.status >= 400 || errors.length > 0) {
    return show(
      result,
      h('p', { class: 'refusal', role: 'alert', id: 'write-status', 'data-status': String(r.status) }, `${r.status} ${r.statusText}: ${errors.length} error${errors.length === 1 ? '' : 's'}, shown on the fields they name.`),
      h('ul', { class: 'issues' }, ...issues.map((i) => h('li', {}, `${i.severity}: `, h('code', {}, (i.expression ?? i.location ?? []).join(', ')), ` — ${i.diagnostics ?? i.code ?? ''}`))),
      jsonView(resource, { issues }),
    );
  }
  if (validateOnly) {
    return show(result, h('p', { class: 'mark ok', id: 'write-status', 'data-status': String(r.status) }, `${r.status}: valid against the Care Connect profile${issues.length ? ` (${issues.length} note${issues.length === 1 ? '' : 's'})` : ''}.`));
  }
  const saved = r.body as { resourceType?: string; id?: string };
  const ref = saved?.id ? `${editing.type}/${saved.id}` : (r.headers.get('Location') ?? '').replace(/^.*\/STU3\//, '').replace(/\/_history\/.*$/, '');
  show(result, h('p', { class: 'mark ok', id: 'write-status', 'data-status': String(r.status) }, `${r.status} ${r.statusText}: saved as ${ref}.`));
  if (ref) void openResource(ref);
}

// ---------------------------------------------------------------------------------------------------------------

function start() {
  renderClients();
  byId('token-form').addEventListener('submit', (e) => void getToken(e));
  byId('token-text').addEventListener('input', () => void useToken());
  byId('confirm').addEventListener('click', () => void confirmLive());
  byId('search-form').addEventListener('submit', search);
  byId('new-from-example').addEventListener('click', () => void newFromExample());
  byId('editor-validate').addEventListener('click', () => void write(true));
  byId('editor-save').addEventListener('click', () => void write(false));
  loadCapabilities().catch((err: unknown) => alertIn(byId('results'), `The CapabilityStatement could not be loaded: ${(err as Error).message}`));
  document.body.dataset.ready = 'true';
}

start();
