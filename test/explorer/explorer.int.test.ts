/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * The web explorer end to end in a real browser (Debian's headless Chromium via playwright-core) against the real
 * local API on a free port: every demo client's flow (token, signature verified in the browser, the grid of what the
 * token may do, confirmed by live calls), a 403 explained, a tampered token marked as not verified and refused,
 * search and paging, references, history, a writer's 422 shown on the fields it names, phone width, keyboard,
 * labels, and the token kept out of every storage. Nothing here is skipped: without Chromium the run fails.
 *
 * CCRI_EXPLORER_SCREENSHOTS=1 also writes the screenshots of docs/explorer.md into docs/images/.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DEMO_CLINICAL_ACCESS_CLIENT,
  DEMO_LIMITED_ACCESS_CLIENT,
  DEMO_PATIENT_ACCESS_CLIENT,
  DEMO_PATIENT_CLIENT,
  type DemoClient,
} from '../../functions/oauth/demo-clients';
import { startTestApi, type TestApi } from '../support/local-api';
import { testWriter, type Credentials } from '../support/tokens';
import { CHROMIUM, launchBrowser, type TestBrowser } from './browser';

/** How long a poll waits for the page: its requests share two cores with the whole integration suite. */
const POLL = { timeout: 10_000 };

const SHOTS = process.env.CCRI_EXPLORER_SCREENSHOTS === '1' ? resolve(import.meta.dirname, '../../docs/images') : undefined;

let api: TestApi;
let browser: TestBrowser;
let writer: Credentials;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`No Chromium at ${CHROMIUM}: apt-get install -y chromium (as .ci/run does), or set CHROMIUM_PATH.`);
  writer = testWriter('explorer-test-writer');
  [api, browser] = await Promise.all([startTestApi(), launchBrowser()]);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await api?.close();
});

async function open(options: { phone?: boolean } = {}) {
  const { page, errors, context } = await browser.page(options);
  await page.goto(`${api.baseUrl}/`);
  await page.waitForSelector('body[data-ready="true"]');
  await page.waitForSelector('#search-type option', { state: 'attached' });
  return { page, errors, close: () => context.close() };
}

/** Writes docs/images/<name>.png (only with CCRI_EXPLORER_SCREENSHOTS=1): one section of the page, or the viewport. */
async function shot(page: Page, name: string | undefined, section?: string) {
  if (!SHOTS || !name) return;
  mkdirSync(SHOTS, { recursive: true });
  const path = `${SHOTS}/${name}.png`;
  if (section) await page.locator(section).screenshot({ path });
  else await page.screenshot({ path });
}

/** Clicks a demo client (typing the secret when the page has none, as for the writer) and gets its token. */
async function tokenFor(page: Page, clientId: string, secret?: string) {
  await page.click(`button[data-client="${clientId}"]`);
  if (secret) await page.fill('#client-secret', secret);
  await page.click('#get-token');
  await page.waitForSelector('#signature[data-verified]');
}

/** The grid as { Type: { read, search, write } } of predicted verdicts. */
async function grid(page: Page): Promise<Record<string, Record<string, string>>> {
  return page.$$eval('#grid td[data-type]', (cells) => {
    const out: Record<string, Record<string, string>> = {};
    for (const c of cells as HTMLElement[]) (out[c.dataset.type!] ??= {})[c.dataset.column!] = c.dataset.predicted!;
    return out;
  });
}

async function confirmLive(page: Page): Promise<string> {
  await page.click('#confirm');
  await page.waitForSelector('#grid-status[data-mismatches]', { timeout: 60_000 });
  return (await page.getAttribute('#grid-status', 'data-mismatches'))!;
}

describe('the explorer page', () => {
  it('is served at the API root with a strict Content-Security-Policy and no inline script or style', async () => {
    const res = await fetch(`${api.baseUrl}/`);
    expect(res.status).toBe(200);
    const csp = res.headers.get('content-security-policy')!;
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval|https?:/);
    const html = await res.text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/\sstyle=|<style|\son[a-z]+=/);
    const js = await fetch(`${api.baseUrl}/explorer/app.js`);
    expect(js.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(js.headers.get('content-security-policy')).toBe(csp);
    const body = await js.text();
    expect(body).not.toMatch(/localStorage|sessionStorage|document\.cookie|innerHTML|eval\(/);
  });
});

interface ClientCase {
  client: DemoClient | (() => Credentials & { scope: string });
  /** Expected predicted verdicts for some cells. */
  expect: Record<string, Partial<Record<'read' | 'search' | 'write', 'allowed' | 'compartment' | 'denied'>>>;
  patient?: string;
  /** Screenshots: [name, section selector]. */
  shots?: Array<[string, string | undefined]>;
}

const CLIENT_CASES: Array<[string, ClientCase]> = [
  ['Patient Access', { client: DEMO_PATIENT_ACCESS_CLIENT, expect: { Patient: { read: 'allowed', search: 'allowed', write: 'denied' }, Condition: { read: 'denied', search: 'denied' }, Organization: { read: 'allowed' } } }],
  [
    'Patient, Condition & Medication Access',
    { client: DEMO_CLINICAL_ACCESS_CLIENT, shots: [['explorer-client', '#main > section:first-of-type'], ['explorer-token', '#token-section'], ['explorer-grid', '#grid-section']], expect: { Condition: { read: 'allowed', search: 'allowed', write: 'denied' }, MedicationRequest: { read: 'allowed' }, Procedure: { read: 'denied' }, AllergyIntolerance: { search: 'denied' } } },
  ],
  ['Limited Access', { client: DEMO_LIMITED_ACCESS_CLIENT, expect: { Patient: { read: 'denied', search: 'denied' }, Organization: { read: 'allowed', search: 'allowed', write: 'denied' }, Medication: { search: 'allowed' } } }],
  [
    'Patient 1 app (patient-bound)',
    { client: DEMO_PATIENT_CLIENT, patient: 'Patient/1', shots: [['explorer-grid-patient-bound', '#grid-section']], expect: { Condition: { read: 'compartment', search: 'compartment', write: 'denied' }, Organization: { read: 'allowed' } } },
  ],
  ['Writer', { client: () => ({ ...writer, scope: 'system/*.read system/*.write' }), expect: { Patient: { read: 'allowed', write: 'allowed' }, Observation: { search: 'allowed', write: 'allowed' } } }],
];

describe('each demo client, one click away', () => {
  it.each(CLIENT_CASES)('%s: token decoded and verified in the browser; the grid by the server rules, confirmed live', async (_name, c) => {
    const { page, errors, close } = await open();
    const creds = typeof c.client === 'function' ? c.client() : c.client;
    await tokenFor(page, creds.clientId, typeof c.client === 'function' ? creds.clientSecret : undefined);
    expect(await page.getAttribute('#signature', 'data-verified')).toBe('true');
    expect(await page.textContent('#signature')).toContain('Signature verified');
    // Scope checkboxes come from the registered scopes, all asked for.
    const boxes = await page.$$eval('#scope-boxes input', (els) => (els as HTMLInputElement[]).map((e) => [e.value, e.checked]));
    expect(boxes.map(([v]) => v).sort()).toEqual(creds.scope.split(' ').sort());
    const claims = JSON.parse((await page.textContent('#jwt-claims'))!);
    expect(claims).toMatchObject({ client_id: creds.clientId, scope: creds.scope });
    expect(await page.textContent('#token-summary')).toContain(c.patient ?? 'not bound to a patient');
    expect(await page.textContent('#expiry')).toMatch(/^in (59|60) min/);
    const predicted = await grid(page);
    expect(Object.keys(predicted)).toHaveLength(14);
    for (const [type, cells] of Object.entries(c.expect)) expect(predicted[type], type).toMatchObject(cells);
    expect(await confirmLive(page)).toBe('0');
    for (const [name, section] of c.shots ?? []) await shot(page, name, section);
    expect(errors).toEqual([]);
    await close();
  }, 120_000);

  it('narrows the token to the ticked scopes', async () => {
    const { page, close } = await open();
    await page.click(`button[data-client="${DEMO_CLINICAL_ACCESS_CLIENT.clientId}"]`);
    for (const box of await page.$$('#scope-boxes input')) if ((await box.getAttribute('value')) !== 'user/Condition.read') await box.uncheck();
    await page.click('#get-token');
    await page.waitForSelector('#signature[data-verified="true"]');
    expect(JSON.parse((await page.textContent('#jwt-claims'))!).scope).toBe('user/Condition.read');
    expect((await grid(page)).Condition).toMatchObject({ read: 'allowed', search: 'allowed' });
    expect((await grid(page)).Patient).toMatchObject({ read: 'denied' });
    await close();
  }, 60_000);

  it('takes any client id and secret, and shows the token endpoint refusal in its own words', async () => {
    const { page, close } = await open();
    await page.fill('#client-id', DEMO_LIMITED_ACCESS_CLIENT.clientId);
    await page.fill('#client-secret', 'not-the-secret');
    await page.click('#get-token');
    await expect.poll(() => page.textContent('#token-status'), POLL).toContain('invalid_client');
    await page.fill('#client-secret', DEMO_LIMITED_ACCESS_CLIENT.clientSecret);
    await page.click('#get-token');
    await page.waitForSelector('#signature[data-verified="true"]');
    // An unknown client's registered scopes come from its first token.
    expect(await page.$$eval('#scope-boxes input', (els) => (els as HTMLInputElement[]).map((e) => e.value))).toEqual(['profile']);
    await close();
  }, 60_000);
});

describe('refusals in plain words', () => {
  it('a 403 shows the OperationOutcome, the WWW-Authenticate header and which scope is missing', async () => {
    const { page, close } = await open();
    await tokenFor(page, DEMO_PATIENT_ACCESS_CLIENT.clientId);
    await page.selectOption('#search-type', 'Condition');
    await page.click('#search-go');
    const panel = page.locator('.refusal[data-status="403"]');
    await panel.waitFor();
    const text = (await panel.textContent())!;
    expect(text).toContain('This token has no scope for Condition that lets it search');
    expect(text).toContain('user/Condition.read');
    expect(text).toContain('error="insufficient_scope"');
    expect(text).toContain('the token is valid, but its scopes do not allow this call');
    // The gateway's own 403 names API Gateway's resource path (the types share `{type}`); the line above names the type.
    expect(text).toContain('Insufficient scope: the access token does not grant GET /STU3/{type}');
    await shot(page, 'explorer-403', '#search-section');
    await close();
  }, 60_000);

  it('a tampered token is marked as not verified, and the API refuses it with 401', async () => {
    const { page, errors, close } = await open();
    await tokenFor(page, DEMO_LIMITED_ACCESS_CLIENT.clientId);
    const token = await page.inputValue('#token-text');
    const [header, claims, signature] = token.split('.') as [string, string, string];
    const forged = { ...JSON.parse(Buffer.from(claims, 'base64url').toString()), scope: 'system/*.read system/*.write' };
    await page.fill('#token-text', `${header}.${Buffer.from(JSON.stringify(forged)).toString('base64url')}.${signature}`);
    await page.waitForSelector('#signature[data-verified="false"]');
    expect(await page.textContent('#signature')).toContain('Signature NOT verified');
    // The page still reads what the forged claims would allow, and the API says no.
    expect((await grid(page)).Patient).toMatchObject({ write: 'allowed' });
    await page.selectOption('#search-type', 'Patient');
    await page.click('#search-go');
    const panel = page.locator('.refusal[data-status="401"]');
    await panel.waitFor();
    expect(await panel.textContent()).toContain('its signature does not verify, which this page found too');
    expect(await panel.textContent()).toContain('error="invalid_token"');
    expect(await confirmLive(page)).not.toBe('0');
    await shot(page, 'explorer-tampered', '#token-section');
    expect(errors).toEqual([]);
    await close();
  }, 90_000);
});

describe('browsing', () => {
  it('searches with the CapabilityStatement parameters, pages, opens a resource, follows a reference, shows history', async () => {
    const { page, close } = await open();
    await tokenFor(page, DEMO_CLINICAL_ACCESS_CLIENT.clientId);
    await page.selectOption('#search-type', 'Condition');
    expect(await page.$$eval('#search-params input', (els) => els.map((e) => (e as HTMLInputElement).dataset.param))).toEqual(
      expect.arrayContaining(['_id', 'patient', 'clinical-status']),
    );
    await page.selectOption('#search-count', '5');
    await page.click('#search-go');
    await page.waitForSelector('#bundle');
    const first = await page.$$eval('#bundle [data-open]', (els) => els.map((e) => e.textContent));
    expect(first).toHaveLength(5);
    await page.click('button[data-page="next"]');
    await expect.poll(() => page.textContent('#bundle-total'), POLL).toContain('_cursor=');
    expect(await page.$$eval('#bundle [data-open]', (els) => els.map((e) => e.textContent))).not.toEqual(first);
    await page.fill('#sp-patient', '1');
    await page.click('#search-go');
    await expect.poll(() => page.textContent('#bundle-total'), POLL).toContain('patient=1');
    await shot(page, 'explorer-search', '#search-section');
    await page.click('#bundle [data-open]');
    await page.waitForSelector('#resource-body pre.json');
    expect(await page.textContent('#resource-title')).toMatch(/^Condition\//);
    expect(await page.textContent('#resource-profile')).toContain('CareConnect-Condition-1');
    await page.click('#resource-body button[data-reference="Patient/1"]');
    await expect.poll(() => page.textContent('#resource-title'), POLL).toBe('Patient/1');
    await page.waitForSelector('#resource-body pre.json');
    await shot(page, 'explorer-resource', '#resource-section');
    await page.click('#show-history');
    await page.waitForSelector('#history li');
    await close();
  }, 90_000);

  it('shows the answer to the last search made: a slower page of results that arrives after it is dropped', async () => {
    const { page, errors, close } = await open();
    await tokenFor(page, DEMO_CLINICAL_ACCESS_CLIENT.clientId);
    await page.selectOption('#search-type', 'Condition');
    await page.selectOption('#search-count', '5');
    await page.click('#search-go');
    await page.waitForSelector('#bundle');
    // The next page is held back until the search clicked after it has been answered and shown.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let slowAnswered!: () => void;
    const slowDone = new Promise<void>((resolve) => (slowAnswered = resolve));
    await page.route(/_cursor=/, async (route) => {
      await held;
      await route.continue();
      slowAnswered();
    });
    await page.click('button[data-page="next"]');
    await page.fill('#sp-patient', '1');
    await page.click('#search-go');
    await expect.poll(() => page.textContent('#bundle-total'), POLL).toContain('patient=1');
    release();
    await slowDone;
    await page.waitForTimeout(200); // the late answer has had its chance to render
    expect(await page.textContent('#bundle-total')).toContain('patient=1');
    expect(errors).toEqual([]);
    await close();
  }, 90_000);

  it('shows a request that fails outright in the panel that made it, and keeps the other panels as they were', async () => {
    const { page, close } = await open();
    await tokenFor(page, DEMO_CLINICAL_ACCESS_CLIENT.clientId);
    await page.selectOption('#search-type', 'Condition');
    await page.click('#search-go');
    await page.waitForSelector('#bundle');
    await page.route(/\/STU3\/Condition\/[^/?]+$/, (route) => route.abort('connectionreset'));
    await page.click('#bundle [data-open]');
    await page.waitForSelector('#resource-body [role="alert"]');
    expect(await page.$('#results #bundle')).not.toBeNull();
    expect(await page.$('#results [role="alert"]')).toBeNull();
    await close();
  }, 60_000);

  it('keeps the token out of every storage and sends it only to this API', async () => {
    const { page, close } = await open();
    const sentTo = new Set<string>();
    page.on('request', (r) => {
      if (r.headers().authorization) sentTo.add(new URL(r.url()).origin);
    });
    await tokenFor(page, DEMO_CLINICAL_ACCESS_CLIENT.clientId);
    await page.click('#search-go');
    await page.waitForSelector('#bundle');
    const stored = await page.evaluate(() => ({ local: localStorage.length, session: sessionStorage.length, cookie: document.cookie, url: location.href }));
    expect(stored).toEqual({ local: 0, session: 0, cookie: '', url: `${api.baseUrl}/` });
    expect([...sentTo]).toEqual([api.baseUrl]);
    await close();
  }, 60_000);
});

describe('writing', () => {
  it('a writer creates from a Care Connect example and sees the 422 issues on the fields they name', async () => {
    const { page, errors, close } = await open();
    await tokenFor(page, writer.clientId, writer.clientSecret);
    await page.selectOption('#search-type', 'Patient');
    await page.click('#new-from-example');
    await page.waitForSelector('#editor-section:not([hidden])');
    const example = JSON.parse(await page.inputValue('#editor-text'));
    expect(example).toMatchObject({ resourceType: 'Patient' });
    expect(example.id).toBeUndefined();
    await page.fill('#editor-text', JSON.stringify({ ...example, gender: 'robot' }, null, 2));
    await page.click('#editor-save');
    await page.waitForSelector('#write-status[data-status="422"]');
    const marked = await page.$$eval('#editor-result .json .issue', (els) => els.map((e) => (e as HTMLElement).dataset.expression));
    expect(marked).toContain('Patient.gender');
    expect(await page.textContent('#editor-result')).toContain("Patient.gender 'robot' is not in the value set");
    await shot(page, 'explorer-422', '#editor-section');
    await page.fill('#editor-text', JSON.stringify(example, null, 2));
    await page.click('#editor-validate');
    await page.waitForSelector('#write-status[data-status="200"]');
    await page.click('#editor-save');
    await page.waitForSelector('#write-status[data-status="201"]');
    await expect.poll(() => page.textContent('#resource-title'), POLL).toMatch(/^Patient\/[A-Za-z0-9\-.]+$/);
    expect(errors).toEqual([]);
    await close();
  }, 90_000);

  it('a writer edits the open resource: a 422 on the field, then the update saved as a new version (a U+FFFD in it kept)', async () => {
    const { page, errors, close } = await open();
    await tokenFor(page, writer.clientId, writer.clientSecret);
    await page.selectOption('#search-type', 'Organization');
    await page.click('#search-go');
    await page.click('#bundle [data-open]');
    await page.waitForSelector('#edit-resource');
    const ref = (await page.textContent('#resource-title'))!;
    await page.click('#edit-resource');
    const resource = JSON.parse(await page.inputValue('#editor-text'));
    await page.fill('#editor-text', JSON.stringify({ ...resource, telecom: [{ system: 'fax-machine', value: '0113' }] }, null, 2));
    await page.click('#editor-save');
    await page.waitForSelector('#write-status[data-status="422"]');
    expect(await page.$$eval('#editor-result .json .issue', (els) => els.map((e) => (e as HTMLElement).dataset.expression))).toContain('Organization.telecom[0].system');
    const version = (await page.textContent('#resource-body dl dd'))!;
    // U+FFFD typed in the editor: the explorer sends it escaped, as the API takes it (it refuses it raw).
    await page.fill('#editor-text', JSON.stringify({ ...resource, name: `${resource.name} (renamed \uFFFD)` }, null, 2));
    await page.click('#editor-save');
    await page.waitForSelector('#write-status[data-status="200"]');
    await expect.poll(() => page.textContent('#resource-body'), POLL).toContain('(renamed \uFFFD)');
    expect(await page.textContent('#resource-title')).toBe(ref);
    expect(await page.textContent('#resource-body dl dd')).not.toBe(version);
    expect(errors).toEqual([]);
    await close();
  }, 90_000);

  it('a reader who tries to write gets the 403 explained', async () => {
    const { page, close } = await open();
    await tokenFor(page, DEMO_CLINICAL_ACCESS_CLIENT.clientId);
    await page.selectOption('#search-type', 'Condition');
    await page.click('#new-from-example');
    await page.waitForSelector('#editor-section:not([hidden])');
    await page.click('#editor-save');
    const panel = page.locator('#editor-result .refusal[data-status="403"]');
    await panel.waitFor();
    expect(await panel.textContent()).toContain('This token has no scope for Condition that lets it create');
    await close();
  }, 60_000);
});

/** Text whose contrast with its background is under WCAG AA (4.5:1, or 3:1 for large text), worked out in the page. */
function lowContrastText(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const rgb = (c: string) => (c.match(/[\d.]+/g) ?? []).map(Number);
    const lum = ([r, g, b]: number[]) => {
      const f = (v: number) => ((v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
      return 0.2126 * f(r!) + 0.7152 * f(g!) + 0.0722 * f(b!);
    };
    const background = (el: Element | null): number[] => {
      for (; el; el = el.parentElement) {
        const c = rgb(getComputedStyle(el).backgroundColor);
        if (c.length === 3 || (c.length === 4 && c[3]! > 0)) return c.slice(0, 3);
      }
      return [255, 255, 255];
    };
    const failures: string[] = [];
    for (const el of document.querySelectorAll<HTMLElement>('body *')) {
      const own = [...el.childNodes].some((n) => n.nodeType === Node.TEXT_NODE && n.textContent!.trim() !== '');
      if (!own || el.offsetParent === null || (el as HTMLButtonElement).disabled || el.closest('.visually-hidden, .skip')) continue;
      const style = getComputedStyle(el);
      const [l1, l2] = [lum(rgb(style.color)), lum(background(el))].sort((a, b) => b - a) as [number, number];
      const ratio = (l1 + 0.05) / (l2 + 0.05);
      const size = parseFloat(style.fontSize);
      const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
      if (ratio < (large ? 3 : 4.5)) failures.push(`${el.tagName.toLowerCase()}#${el.id}.${el.className} ${ratio.toFixed(2)}: ${el.textContent!.trim().slice(0, 40)}`);
    }
    return failures;
  });
}

describe('accessible and usable on a phone', () => {
  it('keeps every text at WCAG AA contrast, with a token, the grid confirmed, results and a refusal on screen', async () => {
    const { page, close } = await open();
    await tokenFor(page, DEMO_PATIENT_ACCESS_CLIENT.clientId);
    await confirmLive(page);
    await page.click('#search-go');
    await page.waitForSelector('#bundle');
    await page.click('#bundle [data-open]');
    await page.waitForSelector('#resource-body pre.json');
    await page.selectOption('#search-type', 'Condition');
    await page.click('#search-go');
    await page.waitForSelector('.refusal[data-status="403"]');
    expect(await lowContrastText(page)).toEqual([]);
    // The check itself finds faint text.
    await page.evaluate(() => {
      const faint = Object.assign(document.createElement('p'), { textContent: 'faint text' });
      faint.style.color = '#bbbbbb';
      document.querySelector('main')!.append(faint);
    });
    expect(await lowContrastText(page)).toEqual([expect.stringContaining('faint text')]);
    await close();
  }, 90_000);

  it('labels every control, works from the keyboard, and fits a 390 px wide screen', async () => {
    const { page, errors, close } = await open({ phone: true });
    const unlabelled = await page.$$eval('input, select, textarea', (els) =>
      (els as Array<HTMLInputElement>).filter((e) => e.labels === null || e.labels.length === 0).map((e) => e.id),
    );
    expect(unlabelled).toEqual([]);
    // Keyboard only: focus the first demo client, Enter, then Enter on "Get a token" (focused by the page).
    await page.focus(`button[data-client="${DEMO_PATIENT_ACCESS_CLIENT.clientId}"]`);
    await page.keyboard.press('Enter');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('get-token');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#signature[data-verified="true"]');
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await shot(page, 'explorer-phone', '#grid-section');
    expect(errors).toEqual([]);
    await close();
  }, 60_000);
});
