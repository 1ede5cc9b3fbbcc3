import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

// Works from the sources (vitest) and from dist/: package.json is found by walking up.
function findVersion(): string {
  let dir = fileURLToPath(new URL('.', import.meta.url));
  for (let i = 0; i < 4; i++) {
    try {
      const pkg = z.object({ name: z.literal('capanode'), version: z.string() }).safeParse(JSON.parse(readFileSync(`${dir}/package.json`, 'utf8')));
      if (pkg.success) return pkg.data.version;
    } catch {
      // not here; keep walking up
    }
    dir = `${dir}/..`;
  }
  return '0.0.0';
}

export const VERSION: string = findVersion();
