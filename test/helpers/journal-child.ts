/**
 * A separate process that writes a journal, for the crash and lock tests.
 * It runs the built code in dist/ (npm test builds it first). It warms up
 * (imports, the SQLite addon, one signature), prints "ready", and touches the
 * journal only after the parent sends "go", so the parent can start the next
 * child while it checks the last one's journal.
 *
 * Modes:
 *   append: open the journal and append forever, four appends in flight, printing "seq SEQ HASH" after each commit.
 *   hold:   open the journal, print "held PID", append one record, close when stdin ends.
 * Failures print "error {code, message}" and exit 3.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

const dist = (path: string): string => new URL(`../../dist/${path}`, import.meta.url).href;
const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

const SCRIPT = `
import { writeSync } from 'node:fs';
import Database from 'better-sqlite3';
const { openJournal } = await import(${JSON.stringify(dist('agent/journal/index.js'))});
const { keyPairFromSeed, sign } = await import(${JSON.stringify(dist('proofs/keys.js'))});
const [mode, file, seedHex] = process.argv.slice(1);
const key = keyPairFromSeed(new Uint8Array(Buffer.from(seedHex, 'hex')));
new Database(':memory:').close();
sign(new Uint8Array(8), key);
const out = (line) => writeSync(1, line + '\\n');
const body = (i) => ({ from: i, to: i + 1, beacon: null, gpus: [], host: { uptimeS: i, load1Milli: 250 } });
let input = '';
process.stdin.setEncoding('utf8');
out('ready');
await new Promise((resolve) => process.stdin.on('data', (d) => { input += d; if (input.includes('go')) resolve(); }));
let journal;
try {
  journal = openJournal({ file, key });
} catch (e) {
  out('error ' + JSON.stringify({ code: e.code ?? null, message: String(e.message) }));
  process.exit(3);
}
if (mode === 'append') {
  // Four appends in flight, so a kill lands while records are signed but not yet committed.
  const inFlight = new Set();
  for (let i = 0; ; ) {
    while (inFlight.size < 4) {
      const p = journal.append('uptime', body(i++)).then((r) => {
        out('seq ' + r.seq + ' ' + r.hash);
        inFlight.delete(p);
      });
      inFlight.add(p);
    }
    await Promise.race(inFlight);
  }
} else {
  out('held ' + process.pid);
  const r = await journal.append('uptime', body(0));
  out('seq ' + r.seq + ' ' + r.hash);
  process.stdin.on('end', () => { journal.close(); process.exit(0); });
}
`;

export class JournalChild {
  readonly process: ChildProcessWithoutNullStreams;
  readonly lines: string[] = [];
  private buffer = '';
  private waiters: { test: (line: string) => boolean; resolve: (line: string) => void; reject: (e: Error) => void }[] = [];
  readonly exited: Promise<number | null>;

  constructor(mode: 'append' | 'hold', file: string, seedHex: string) {
    this.process = spawn(process.execPath, ['--input-type=module', '-e', SCRIPT, mode, file, seedHex], { cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    this.process.stdout.setEncoding('utf8').on('data', (d: string) => {
      this.buffer += d;
      let nl: number;
      while ((nl = this.buffer.indexOf('\n')) >= 0) {
        const line = this.buffer.slice(0, nl);
        this.buffer = this.buffer.slice(nl + 1);
        this.lines.push(line);
        this.waiters = this.waiters.filter((w) => {
          if (!w.test(line)) return true;
          w.resolve(line);
          return false;
        });
      }
    });
    let stderr = '';
    this.process.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    this.exited = once(this.process, 'close').then(([code]) => {
      for (const w of this.waiters) w.reject(new Error(`journal child exited (${String(code)}) before the expected line; stderr: ${stderr}`));
      this.waiters = [];
      return code as number | null;
    });
  }

  /** Resolves with the first line (already printed or still to come) that passes test. */
  waitFor(test: (line: string) => boolean): Promise<string> {
    const seen = this.lines.find(test);
    if (seen !== undefined) return Promise.resolve(seen);
    if (this.process.exitCode !== null || this.process.signalCode !== null) return Promise.reject(new Error('journal child already exited'));
    return new Promise((resolve, reject) => this.waiters.push({ test, resolve, reject }));
  }

  go(): void {
    this.process.stdin.write('go\n');
  }

  /** Closes stdin: a holding child closes its journal and exits. */
  finish(): void {
    this.process.stdin.end();
  }

  async kill(): Promise<void> {
    this.process.kill('SIGKILL');
    await this.exited;
  }

  /** The "seq SEQ HASH" lines printed so far: every one was committed before it was printed. */
  committed(): { seq: number; hash: string }[] {
    return this.lines.filter((l) => l.startsWith('seq ')).map((l) => {
      const [, seq, hash] = l.split(' ');
      return { seq: Number(seq), hash: hash ?? '' };
    });
  }
}
