/**
 * SNOMED CT identifiers (SNOMED CT Technical Implementation Guide, "SCTID"): 6 to 18 digits without a leading
 * zero, whose last digit is a Verhoeff check digit and whose two digits before it are the partition identifier.
 * Concept ids (the ones a coding carries) have partition `00` (international) or `10` (extension, e.g. the UK
 * drug extension that holds dm+d). Without a terminology server this is as far as a code can be checked.
 */

const D = [
  [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
  [1, 2, 3, 4, 0, 6, 7, 8, 9, 5],
  [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
  [3, 4, 0, 1, 2, 8, 9, 5, 6, 7],
  [4, 0, 1, 2, 3, 9, 5, 6, 7, 8],
  [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
  [6, 5, 9, 8, 7, 1, 0, 4, 3, 2],
  [7, 6, 5, 9, 8, 2, 1, 0, 4, 3],
  [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
  [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
];
const P = [
  [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
  [1, 5, 7, 6, 2, 8, 3, 0, 9, 4],
  [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
  [8, 9, 1, 6, 0, 4, 3, 5, 2, 7],
  [9, 4, 5, 3, 1, 2, 6, 8, 7, 0],
  [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
  [2, 7, 9, 3, 8, 0, 6, 4, 1, 5],
  [7, 0, 4, 6, 9, 1, 3, 2, 5, 8],
];

const SCTID_RE = /^[1-9][0-9]{5,17}$/;

/** Whether `code` is a well-formed SNOMED CT concept id (syntax, partition and Verhoeff check digit). */
export function isSnomedConceptId(code: string): boolean {
  if (!SCTID_RE.test(code)) return false;
  const partition = code.slice(-3, -1);
  if (partition !== '00' && partition !== '10') return false;
  let c = 0;
  for (let i = 0; i < code.length; i++) {
    const digit = code.charCodeAt(code.length - 1 - i) - 48;
    c = D[c]![P[i % 8]![digit]!]!;
  }
  return c === 0;
}
