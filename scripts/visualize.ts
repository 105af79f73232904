// `npm run visualize`: regenerate visualizations/ from machines/*.machine.ts.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeVisualizations } from '../src/visualize/index.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const written = await writeVisualizations(root, join(root, 'visualizations'));
console.log(`visualizations/: ${written.join(', ')}`);
