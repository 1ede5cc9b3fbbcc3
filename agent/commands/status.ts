/**
 * `capanode status [--json]`: from the running daemon over the control
 * socket; when the daemon is not running, what the journal knows, and exit 3.
 */
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { action, EXIT, ExitWith, printJson } from '../../common/cli.js';
import { isCapanodeError } from '../../common/errors.js';
import { readKeyFile } from '../../common/keyfile.js';
import { VERSION } from '../../common/version.js';
import { controlRequest } from '../control/index.js';
import { JournalReader } from '../journal/index.js';
import { renderStatus, type StatusDocument } from '../status/index.js';
import { pathsFrom, withCommonOptions, type CommonOptions } from './options.js';
import type { AgentPaths } from '../config/index.js';

function fromJournal(paths: AgentPaths): StatusDocument {
  let id = '';
  try {
    id = readKeyFile(paths.keyFile).id;
  } catch {
    // status still shows what the journal knows without the key
  }
  const base: StatusDocument = {
    source: 'journal',
    node: { id, version: VERSION, pid: null, startedAt: null, uptimeS: null },
    link: { state: 'stopped', coordinator: null, since: null, lastAckAt: null, lastAckSeq: null, lastError: null, nextRetryAt: null, rttMs: null, clockSkewMs: null },
    gpus: [],
    findings: [],
    bench: null,
    pot: null,
    journal: { headSeq: null, headHash: null, watermark: 0, backlog: 0, rejected: 0, recordsByKind: {}, error: null },
    earnings: { epoch: null, epochEstimate: null, vested: null, unvested: null, claimed: null, claimable: null, reputation: null, stake: null, penalties: [], lastReceipt: null, updatedAt: null },
    jobs: [],
  };
  if (!existsSync(paths.journalFile)) return { ...base, journal: { ...base.journal, error: `no journal at ${paths.journalFile}` } };
  const reader = JournalReader.open(paths.journalFile);
  try {
    const s = reader.stats();
    return {
      ...base,
      node: { ...base.node, id: s.nodeId },
      journal: { headSeq: s.headSeq, headHash: s.headHash, watermark: s.watermark, backlog: s.backlog, rejected: s.rejected, recordsByKind: s.recordsByKind, error: null },
    };
  } finally {
    reader.close();
  }
}

export function registerStatusCommand(program: Command): void {
  withCommonOptions(program.command('status').description('is it working, and what has it earned? (exit 3: daemon not running)').option('--json', 'print the status document as JSON')).action(
    action(async (opts: CommonOptions) => {
      const paths = pathsFrom(opts);
      let doc: StatusDocument;
      let running = true;
      try {
        doc = (await controlRequest(paths.controlSocket, 'status')) as StatusDocument;
      } catch (e) {
        if (!isCapanodeError(e, 'daemon-not-running')) throw e;
        running = false;
        doc = fromJournal(paths);
      }
      if (opts.json === true) printJson(doc);
      else process.stdout.write(renderStatus(doc));
      if (!running) throw new ExitWith(EXIT.daemonNotRunning, opts.json === true ? '' : `the daemon is not running (no control socket at ${paths.controlSocket}): start it with \`systemctl start capanode\` or \`capanode start\``);
    }),
  );
}
