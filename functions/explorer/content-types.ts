/** The content types of the explorer's assets, by file extension. */
const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

export function contentTypeOf(extension: string): string {
  return TYPES[extension] ?? 'application/octet-stream';
}
