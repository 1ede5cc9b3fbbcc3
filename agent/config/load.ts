/**
 * config file + environment (+ flags) -> one validated Config. Every problem
 * is reported at once, each naming the key and where it came from, so an
 * operator fixes a config in one pass.
 */
import { readFileSync } from 'node:fs';
import { CapanodeError } from '../../common/errors.js';
import { ConfigSchema, CONFIG_KEYS, envName, type Config } from './schema.js';

export interface LoadConfigOptions {
  file: string;
  env?: NodeJS.ProcessEnv;
  /** Values from command-line flags: highest precedence. */
  overrides?: Partial<Config>;
  /** A missing file is an error unless allowed (init writes it; devnet runs without one). */
  allowMissing?: boolean;
}

function levenshtein(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = row[0] ?? 0;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = row[j] ?? 0;
      row[j] = Math.min(up + 1, (row[j - 1] ?? 0) + 1, diag + (a[i - 1]?.toLowerCase() === b[j - 1]?.toLowerCase() ? 0 : 1));
      diag = up;
    }
  }
  return row[b.length] ?? 0;
}

function suggest(key: string): string {
  let best: string | undefined;
  let bestD = Infinity;
  for (const k of CONFIG_KEYS) {
    const d = levenshtein(key, k);
    if (d < bestD) {
      bestD = d;
      best = k;
    }
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(key.length / 4)) ? ` (did you mean "${best}"?)` : '';
}

/** Parses one environment value by the type its key expects. */
function parseEnvValue(key: keyof Config, text: string): unknown {
  const probe = ConfigSchema.shape[key].safeParse(undefined);
  const def: unknown = probe.success ? probe.data : undefined;
  if (text === 'null') return null;
  if (typeof def === 'number' || /Ms$|Days$/.test(key)) return /^-?\d+$/.test(text) ? Number(text) : text;
  if (typeof def === 'boolean') return text === 'true' ? true : text === 'false' ? false : text;
  if (Array.isArray(def)) return text === '' ? [] : text.split(',').map((s) => s.trim());
  return text;
}

export function loadConfig(options: LoadConfigOptions): Config {
  const env = options.env ?? process.env;
  const problems: string[] = [];
  let fromFile: Record<string, unknown> = {};
  let text: string | undefined;
  try {
    text = readFileSync(options.file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' || options.allowMissing !== true) {
      throw new CapanodeError('config-invalid', `cannot read config ${options.file}: ${code === 'ENOENT' ? 'no such file' : String(code)}`, {
        hint: code === 'ENOENT' ? 'Run `capanode init --coordinator URL --coordinator-key HEX` to create it, or pass --config FILE.' : 'Check the file\'s owner and permissions.',
      });
    }
  }
  if (text !== undefined) {
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (e) {
      throw new CapanodeError('config-invalid', `config ${options.file} is not valid JSON: ${(e as Error).message}`, { hint: 'Fix the syntax (a trailing comma or a missing quote is the usual cause).' });
    }
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      throw new CapanodeError('config-invalid', `config ${options.file} must hold one JSON object`, { hint: 'Example: {"coordinatorUrl":"wss://coordinator.example:7400","coordinatorKey":"<64 hex>"}' });
    }
    fromFile = raw as Record<string, unknown>;
    for (const key of Object.keys(fromFile)) {
      if (!(CONFIG_KEYS as string[]).includes(key)) problems.push(`${options.file}: unknown key "${key}"${suggest(key)}`);
    }
  }
  const merged: Record<string, unknown> = {};
  const origin: Record<string, string> = {};
  for (const key of CONFIG_KEYS) {
    if (key in fromFile) {
      merged[key] = fromFile[key];
      origin[key] = `${options.file}: key "${key}"`;
    }
    const name = envName(key);
    const v = env[name];
    if (v !== undefined) {
      merged[key] = parseEnvValue(key, v);
      origin[key] = `environment ${name}`;
    }
    if (options.overrides !== undefined && key in options.overrides) {
      merged[key] = options.overrides[key];
      origin[key] = `option for "${key}"`;
    }
  }
  for (const name of Object.keys(env)) {
    // CAPANODE_INSTALL_* belong to install.sh; the rest of the namespace is ours, so a typo is caught.
    if (name.startsWith('CAPANODE_') && !name.startsWith('CAPANODE_INSTALL_') && !['CAPANODE_DATA_DIR', 'CAPANODE_CONFIG', 'CAPANODE_LOG_LEVEL', 'CAPANODE_DEBUG', 'CAPANODE_LIBCUDA'].includes(name) && !CONFIG_KEYS.some((k) => envName(k) === name)) {
      problems.push(`environment ${name}: not a capanode setting`);
    }
  }
  const parsed = ConfigSchema.safeParse(merged);
  if (!parsed.success || problems.length > 0) {
    for (const issue of parsed.error?.issues ?? []) {
      const key = String(issue.path[0] ?? '');
      const where = origin[key] ?? `key "${key}"`;
      const sub = issue.path.length > 1 ? `[${issue.path.slice(1).join('.')}]` : '';
      problems.push(`${where}${sub}: ${issue.message}`);
    }
    throw new CapanodeError('config-invalid', `invalid configuration:\n  ${problems.join('\n  ')}`, {
      hint: 'Fix the keys named above; docs/OPERATIONS.md lists every setting and its default.',
      details: { problems },
    });
  }
  return parsed.data;
}
