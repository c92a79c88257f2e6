import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';

/**
 * Builds the web app and measures the JavaScript a first visit to the Studio
 * route downloads before it renders: the entry chunk, the Studio page chunk
 * and every chunk they import statically, each gzipped at level 9.
 * Writes the result into docs/benchmarks.md and exits 1 above the target.
 */

const ROOT_DIR = path.resolve(__dirname, '..');
const DIST_DIR = path.join(ROOT_DIR, 'web', 'dist');
const MANIFEST_FILE = path.join(DIST_DIR, '.vite', 'manifest.json');
const REPORT_FILE = path.join(ROOT_DIR, 'docs', 'benchmarks.md');
const BEGIN_MARKER = '<!-- bundle-size:begin -->';
const END_MARKER = '<!-- bundle-size:end -->';
const STUDIO_PAGE = 'src/pages/StudioPage.vue';
const TARGET_BYTES = 120_000;

interface ManifestChunk {
  file: string;
  isEntry?: boolean;
  imports?: string[];
}

type Manifest = Record<string, ManifestChunk>;

/** Collects the chunk and its static imports, depth first, without repeats. */
function staticClosure(manifest: Manifest, key: string, seen = new Set<string>()): Set<string> {
  if (seen.has(key)) return seen;
  seen.add(key);

  for (const imported of manifest[key]?.imports ?? []) staticClosure(manifest, imported, seen);
  return seen;
}

function main(): void {
  if (!process.argv.includes('--no-build')) execFileSync('npm', ['run', 'build:web'], { cwd: ROOT_DIR, stdio: 'inherit' });

  const manifest = JSON.parse(fs.readFileSync(MANIFEST_FILE, 'utf8')) as Manifest;
  const entry = Object.keys(manifest).find((key) => manifest[key]!.isEntry);
  if (!entry) throw new Error(`no entry chunk in ${MANIFEST_FILE}`);
  if (!manifest[STUDIO_PAGE]) throw new Error(`no chunk for ${STUDIO_PAGE} in ${MANIFEST_FILE}`);

  const keys = staticClosure(manifest, STUDIO_PAGE, staticClosure(manifest, entry));
  const files = [...keys].map((key) => manifest[key]!.file).filter((file) => file.endsWith('.js'));
  const rows = files.map((file) => {
    const bytes = fs.readFileSync(path.join(DIST_DIR, file));
    return { file, raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
  });
  const totalGzip = rows.reduce((sum, row) => sum + row.gzip, 0);
  const totalRaw = rows.reduce((sum, row) => sum + row.raw, 0);
  const withinTarget = totalGzip <= TARGET_BYTES;

  const kilobytes = (bytes: number): string => (bytes / 1000).toFixed(1);
  const table = [
    `Measured ${new Date().toISOString().slice(0, 10)} by \`npm run bench:bundle\` on Node ${process.version}, ${os.cpus().length} cores.`,
    '',
    '| chunk | raw (kB) | gzip (kB) |',
    '| --- | --- | --- |',
    ...rows.map((row) => `| \`${row.file.replace(/-[\w-]{8}\.js$/, '.js')}\` | ${kilobytes(row.raw)} | ${kilobytes(row.gzip)} |`),
    `| **total** | ${kilobytes(totalRaw)} | **${kilobytes(totalGzip)}** (target ≤ ${kilobytes(TARGET_BYTES)}) |`,
  ].join('\n');
  console.log(table);

  const report = fs.readFileSync(REPORT_FILE, 'utf8');
  const begin = report.indexOf(BEGIN_MARKER);
  const end = report.indexOf(END_MARKER);
  if (begin === -1 || end === -1) throw new Error(`${REPORT_FILE} has no ${BEGIN_MARKER} … ${END_MARKER} section`);
  fs.writeFileSync(REPORT_FILE, `${report.slice(0, begin + BEGIN_MARKER.length)}\n${table}\n${report.slice(end)}`);

  if (!withinTarget) {
    console.error(`Studio initial JavaScript is ${kilobytes(totalGzip)} kB gzip, above the ${kilobytes(TARGET_BYTES)} kB target`);
    process.exitCode = 1;
  }
}

main();
