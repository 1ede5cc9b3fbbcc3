/**
 * The journal's commit thread (writer.ts starts it). It owns a second
 * connection to journal.db, with WAL and synchronous=FULL set and read back
 * like the main one (both are per connection), and does one thing: commits
 * the records the main thread built and signed, one IMMEDIATE transaction
 * each, in the order they were sent, and says so after each COMMIT.
 *
 * Records come in generations: the main thread starts one whenever nothing
 * is in flight, building on the head it read from the journal. The first
 * record of a generation reads the head inside its transaction; every record
 * must continue the head exactly (seq + 1 and prev), so a record built on a
 * head that is not the journal's is refused, never stored. After a failure
 * (full disk, I/O error) the rest of that generation is refused unwritten:
 * each was built on the one that failed. Nothing here ever signs.
 */
import { receiveMessageOnPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { limitSize, openDatabase } from './sqlite.js';
import { CLOSED, POSTED, STATE_SELECT, type AppendRequest, type CommitOutcome, type StateRow, type WriterInit, type WriterReply, type WriterRequest } from './writer-protocol.js';

function threadInit(): WriterInit {
  const data = workerData as WriterInit | null;
  if (data === null) throw new Error('writer-thread.js runs only as the journal\'s worker thread');
  return data;
}

const init = threadInit();
const control = new Int32Array(init.control);

function failure(e: unknown): { sqlite: string | null; message: string } {
  return { sqlite: e instanceof Database.SqliteError ? e.code : null, message: e instanceof Error ? e.message : String(e) };
}

function signalClosed(): void {
  Atomics.store(control, CLOSED, 1);
  Atomics.notify(control, CLOSED);
}

/**
 * The next request, waiting for one as long as it takes. The thread never
 * returns to its event loop while it runs: a request is taken from the port
 * synchronously, and a sleep is an Atomics.wait on the count of requests the
 * main thread posted, so between two commits there is no event loop turn.
 */
function nextRequest(taken: number): WriterRequest {
  for (;;) {
    const m = receiveMessageOnPort(init.requests);
    if (m !== undefined) return m.message as WriterRequest;
    Atomics.wait(control, POSTED, taken);
  }
}

function closePorts(): void {
  init.requests.close();
  init.replies.close();
}

function run(): void {
  const send = (reply: WriterReply): void => {
    init.replies.postMessage(reply);
  };
  let db: Database.Database;
  try {
    db = openDatabase(init.file, { readonly: false, check: false });
    if (init.maxBytes !== null) limitSize(db, init.maxBytes);
  } catch (e) {
    send({ t: 'fatal', ...failure(e) });
    signalClosed();
    closePorts();
    return;
  }
  const stateStmt = db.prepare<[], StateRow>(STATE_SELECT);
  const insert = db.prepare<[number, string, number, string, string, string]>('INSERT INTO records (seq, kind, time, hash, sig, canonical) VALUES (?, ?, ?, ?, ?, ?)');
  let gen = -1;
  let failedGen = -1;
  let failedWith: { sqlite: string | null; message: string } = { sqlite: null, message: '' };
  let head = { seq: 0, hash: '' };
  const insertRecord = (r: AppendRequest): void => {
    if (r.seq !== head.seq + 1 || r.prev !== head.hash) {
      throw new Error(`record seq ${r.seq} does not continue the journal's head (seq ${head.seq}); it was not stored`);
    }
    insert.run(r.seq, r.kind, r.time, r.hash, r.sig, r.canonical);
  };
  // The first record of a generation reads the head in its own transaction. Within a generation this
  // thread is the only writer (the main connection writes records only when nothing is in flight), so
  // the head is the one it stored last, and each record is a single-statement transaction: the
  // records_append_only trigger still refuses any seq but head + 1 inside it.
  const firstOfGeneration = db.transaction((r: AppendRequest) => {
    const s = stateStmt.get();
    head = { seq: s?.head_seq ?? -1, hash: s?.head_hash ?? '' };
    insertRecord(r);
  });
  const commit = (r: AppendRequest): void => {
    if (r.gen === gen) return insertRecord(r);
    firstOfGeneration.immediate(r);
    gen = r.gen;
  };

  const store = (r: AppendRequest): CommitOutcome => {
    if (r.gen === failedGen) return { t: 'outcome', id: r.id, ok: false, cancelled: true, sqlite: failedWith.sqlite, message: `a record it was built on could not be stored: ${failedWith.message}` };
    try {
      commit(r);
      head = { seq: r.seq, hash: r.hash };
      return { t: 'outcome', id: r.id, ok: true };
    } catch (e) {
      failedGen = r.gen;
      failedWith = failure(e);
      // The next generation reads the head again, inside its own transaction.
      gen = -1;
      return { t: 'outcome', id: r.id, ok: false, cancelled: false, ...failedWith };
    }
  };

  for (let taken = 1; ; taken++) {
    const m = nextRequest(taken - 1);
    if (m.t === 'close') break;
    // Answered after each COMMIT, not per batch: the main thread signs the next record as soon as a slot frees.
    send(store(m));
  }
  db.close();
  signalClosed();
  closePorts();
}

run();
