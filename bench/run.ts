import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { BENCH_DIR } from './child';
import { formatTable, runBench } from './suite';

/**
 * `npm run bench` (about 2-4 minutes): every benchmark, the table on stdout, the figures in
 * bench/results.json. `npm run bench -- --smoke`: tiny sizes in seconds (the unit test runs it);
 * a smoke run does not overwrite results.json.
 */
const smoke = process.argv.includes('--smoke');
const results = await runBench(smoke ? 'smoke' : 'full', (line) => console.error(`[bench] ${line}`));
console.log(formatTable(results));
if (!smoke) {
  const out = resolve(BENCH_DIR, 'results.json');
  await writeFile(out, `${JSON.stringify(results, null, 2)}\n`);
  console.error(`[bench] wrote ${out}`);
}
