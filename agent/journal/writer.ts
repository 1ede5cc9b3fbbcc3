/**
 * Pipelined commits for the journal. The main thread builds and signs each
 * record; a worker thread (writer-thread.ts) commits them, one transaction
 * each, in order. While record N waits for its fsync, N + 1 is built on N's
 * hash and signed: the hash is known before the commit, the signature is
 * what costs. Each caller still gets its record only after its own COMMIT,
 * so persist-before-release holds record by record, and the daemon's event
 * loop never waits on the disk.
 *
 * A record that was signed but not committed (the disk refused it, or one it
 * was built on) is dropped with its signature: it never left the process, so
 * the journal may sign another record for that seq.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { CapanodeError } from '../../common/errors.js';
import type { JournalHead } from './reader.js';
import { CLOSED, POSTED, type CommitOutcome, type CommitRequest, type WriterInit, type WriterReply, type WriterRequest } from './writer-protocol.js';

const BESIDE = new URL('./writer-thread.js', import.meta.url);
// From the TypeScript sources (the test runner), the thread runs the build: `npm test` builds first.
const BUILT = new URL('../../dist/agent/journal/writer-thread.js', import.meta.url);
/** How long close() waits for records in flight to commit and the thread's connection to close. */
const CLOSE_TIMEOUT_MS = 30_000;

function threadScript(): URL {
  if (existsSync(fileURLToPath(BESIDE))) return BESIDE;
  if (import.meta.url.endsWith('.ts') && existsSync(fileURLToPath(BUILT))) return BUILT;
  throw new CapanodeError('io-error', `the journal's writer thread ${fileURLToPath(BESIDE)} is missing`, {
    hint: 'Run capanode from the built package (npm run build creates dist/).',
  });
}

/**
 * A failure the thread reported: SQLite's own error where it was one, so the
 * journal maps disk conditions the same way as on its main connection.
 */
function threadError(file: string, reply: { sqlite: string | null; message: string }): Error {
  if (reply.sqlite !== null) return new Database.SqliteError(reply.message, reply.sqlite);
  return new CapanodeError('journal-io', `journal ${file}: the record was not stored: ${reply.message}`, {
    hint: 'Nothing was released. The next append starts again from the journal\'s head; run `capanode journal verify` if this repeats.',
  });
}

interface Pending {
  gen: number;
  resolve(): void;
  reject(e: Error): void;
}

export class JournalWriter {
  private thread: { worker: Worker; requests: MessagePort; replies: MessagePort; control: Int32Array } | null = null;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private gen = 0;
  /** Records of the current generation still in flight, and the last one sent. */
  private genLive = 0;
  private last: JournalHead = { seq: 0, hash: '' };
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly file: string,
    private readonly maxBytes: number | null,
  ) {}

  /** The head the next record must build on while records are in flight; null when none is (the journal's own head then). */
  tail(): JournalHead | null {
    return this.genLive > 0 ? this.last : null;
  }

  /** True while any record is in flight. */
  busy(): boolean {
    return this.pending.size > 0;
  }

  /** Resolves once nothing is in flight. */
  idle(): Promise<void> {
    if (!this.busy()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Commits a record built on tail() (or on the journal's head when tail() is null); resolves after its COMMIT. */
  commit(record: CommitRequest): Promise<void> {
    const thread = this.ensureThread();
    if (this.genLive === 0) this.gen += 1;
    const id = this.nextId++;
    const gen = this.gen;
    this.genLive += 1;
    this.last = { seq: record.seq, hash: record.hash };
    if (this.pending.size === 0) {
      thread.worker.ref();
      thread.replies.ref();
    }
    const done = new Promise<void>((resolve, reject) => this.pending.set(id, { gen, resolve, reject }));
    this.post(thread, { t: 'append', id, gen, ...record });
    return done;
  }

  /**
   * Lets records in flight commit, closes the thread's connection and waits
   * for it (synchronously: the writer lock is released after this returns).
   */
  close(): void {
    const thread = this.thread;
    if (thread === null) return;
    this.post(thread, { t: 'close' });
    const waited = Atomics.wait(thread.control, CLOSED, 0, CLOSE_TIMEOUT_MS);
    // The answers for what committed before the close, so no caller hears "not stored" for a stored record.
    for (let m = receiveMessageOnPort(thread.replies); m !== undefined; m = receiveMessageOnPort(thread.replies)) this.onReply(m.message as WriterReply);
    this.detach(thread.worker, 'the journal was closed');
    if (waited === 'timed-out') {
      void thread.worker.terminate();
      throw new CapanodeError('journal-io', `journal ${this.file}: the writer thread did not finish within ${CLOSE_TIMEOUT_MS / 1000} s`, {
        hint: 'The disk is not answering. Records not yet acknowledged to their callers were never released; check the disk (dmesg) before starting again.',
      });
    }
  }

  private post(thread: NonNullable<JournalWriter['thread']>, request: WriterRequest): void {
    thread.requests.postMessage(request);
    Atomics.add(thread.control, POSTED, 1);
    Atomics.notify(thread.control, POSTED);
  }

  private ensureThread(): NonNullable<JournalWriter['thread']> {
    if (this.thread !== null) return this.thread;
    const control = new SharedArrayBuffer(2 * Int32Array.BYTES_PER_ELEMENT);
    const requests = new MessageChannel();
    const { port1, port2 } = new MessageChannel();
    const init: WriterInit = { file: this.file, maxBytes: this.maxBytes, control, requests: requests.port2, replies: port2 };
    // A process started with --input-type (node -e) passes it on, and a worker started from a file refuses it.
    const execArgv = process.execArgv.filter((a) => !a.startsWith('--input-type'));
    const worker = new Worker(threadScript(), { workerData: init, transferList: [requests.port2, port2], execArgv, resourceLimits: { maxYoungGenerationSizeMb: 2, maxOldGenerationSizeMb: 32 } });
    worker.unref();
    port1.on('message', (reply: WriterReply) => this.onReply(reply));
    port1.unref();
    this.thread = { worker, requests: requests.port1, replies: port1, control: new Int32Array(control) };
    worker.on('error', (e) => this.detach(worker, `the journal's writer thread failed: ${e.message}`));
    worker.on('exit', (code) => this.detach(worker, `the journal's writer thread exited (code ${code})`));
    return this.thread;
  }

  private onReply(reply: WriterReply): void {
    if (reply.t === 'fatal') {
      this.failAll(threadError(this.file, reply));
      return;
    }
    this.settle(reply);
    this.settleIdle();
  }

  private settle(outcome: CommitOutcome): void {
    const p = this.pending.get(outcome.id);
    if (p === undefined) return;
    this.pending.delete(outcome.id);
    if (p.gen === this.gen) this.genLive -= 1;
    if (outcome.ok) return p.resolve();
    // What was built on this record is refused by the thread; the next record starts from the journal's head.
    if (p.gen === this.gen) this.newGeneration();
    p.reject(threadError(this.file, outcome));
  }

  /** The thread is gone: what it had not answered was not committed by it; the next record starts a new thread. */
  private detach(worker: Worker, why: string): void {
    const thread = this.thread;
    if (thread?.worker !== worker) return;
    this.thread = null;
    thread.requests.close();
    thread.replies.close();
    this.failAll(new CapanodeError('journal-io', `journal ${this.file}: ${why}; the records in flight were not released`, { hint: 'Appending again starts a new writer thread from the journal\'s head.' }));
  }

  private failAll(e: Error): void {
    const all = [...this.pending.values()];
    this.pending.clear();
    this.newGeneration();
    for (const p of all) p.reject(e);
    this.settleIdle();
  }

  private newGeneration(): void {
    this.gen += 1;
    this.genLive = 0;
  }

  private settleIdle(): void {
    if (this.pending.size > 0) return;
    this.thread?.worker.unref();
    this.thread?.replies.unref();
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}
