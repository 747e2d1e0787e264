/**
 * What only writes, transactions, PATCH and history run: one chunk that the FHIR function imports on the first such
 * request (handler.ts), so that what Lambda loads at init is what a JSON read or search needs (P1 in
 * docs/benchmarks.md). The profile validator is a chunk of its own (config.ts), which a write then loads too.
 */
export { processBundle } from '../fhir/bundle';
export { historyBundle, historyPage, visibleTypes } from '../fhir/history';
export { parsePatchBody } from '../fhir/patch';
export { FhirService } from '../fhir/service';
