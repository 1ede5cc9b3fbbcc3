/** `capanode init` and `capanode keys show`: the node's identity. */
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { action, printJson } from '../../common/cli.js';
import { CapanodeError } from '../../common/errors.js';
import { readKeyFile, writeFileAtomic, writeKeyFile } from '../../common/keyfile.js';
import { generateKeyPair } from '../../proofs/keys.js';
import { ConfigSchema } from '../config/index.js';
import { pathsFrom, withCommonOptions, type CommonOptions } from './options.js';

interface InitOptions extends CommonOptions {
  coordinator?: string;
  coordinatorKey?: string;
  force?: boolean;
}

export function registerIdentityCommands(program: Command): void {
  withCommonOptions(
    program
      .command('init')
      .description('create this node\'s key (mode 0600) and its config')
      .option('--coordinator <url>', 'coordinator WebSocket URL (ws:// or wss://)')
      .option('--coordinator-key <hex>', 'the coordinator\'s public key (64 hex), printed by `capanode-coordinator init`')
      .option('--force', 'replace an existing key and config (a new node id)')
      .option('--json', 'print JSON'),
  ).action(
    action((opts: InitOptions) => {
      const paths = pathsFrom(opts);
      const force = opts.force === true;
      // Only what the operator gave is written: defaults stay in the code, so an upgrade can improve them.
      const given = {
        ...(opts.coordinator === undefined ? {} : { coordinatorUrl: opts.coordinator }),
        ...(opts.coordinatorKey === undefined ? {} : { coordinatorKey: opts.coordinatorKey }),
      };
      const config = ConfigSchema.partial().safeParse(given);
      if (!config.success) {
        const what = config.error.issues.map((i) => `--${i.path[0] === 'coordinatorUrl' ? 'coordinator' : 'coordinator-key'}: ${i.message}`).join('; ');
        throw new CapanodeError('config-invalid', what, { hint: 'Copy both values from `capanode-coordinator init` on the coordinator.' });
      }
      if (!force && existsSync(paths.keyFile)) {
        throw new CapanodeError('io-error', `a key already exists at ${paths.keyFile} (node ${readKeyFile(paths.keyFile).id})`, {
          hint: 'This node is already initialised. Pass --force only to abandon this identity for a new one; back up the old key first.',
        });
      }
      if (!force && existsSync(paths.configFile)) {
        throw new CapanodeError('io-error', `a config already exists at ${paths.configFile}`, { hint: 'Edit it, or pass --force to replace it.' });
      }
      const key = generateKeyPair();
      writeKeyFile(paths.keyFile, key, { overwrite: force });
      writeFileAtomic(paths.configFile, `${JSON.stringify(given, null, 2)}\n`, { mode: 0o644, overwrite: force });
      if (opts.json === true) printJson({ node: key.id, keyFile: paths.keyFile, configFile: paths.configFile });
      else process.stdout.write(`node id     ${key.id}\nkey file    ${paths.keyFile} (0600: back it up, it is this node's identity)\nconfig file ${paths.configFile}\n`);
    }),
  );

  const keys = program.command('keys').description('the node\'s key');
  withCommonOptions(keys.command('show').description('print the node id (public key) and where the key is').option('--json', 'print JSON')).action(
    action((opts: CommonOptions) => {
      const paths = pathsFrom(opts);
      const key = readKeyFile(paths.keyFile);
      if (opts.json === true) printJson({ node: key.id, publicKey: key.id, keyFile: paths.keyFile });
      else process.stdout.write(`node id  ${key.id}\nkey file ${paths.keyFile}\n`);
    }),
  );
}
