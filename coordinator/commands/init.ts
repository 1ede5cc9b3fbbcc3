/** `capanode-coordinator init`: the coordinator's key (0600), and the public key agents pin. */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { action, printJson } from '../../common/cli.js';
import { CapanodeError } from '../../common/errors.js';
import { readKeyFile, writeKeyFile } from '../../common/keyfile.js';
import { generateKeyPair } from '../../proofs/keys.js';
import { defaultKeyFile } from '../paths.js';

interface InitOptions {
  key?: string;
  force?: boolean;
  json?: boolean;
}

export function registerInitCommand(program: Command): void {
  program
    .command('init')
    .description('create the coordinator\'s key (mode 0600) and print its public key for agents\' config')
    .option('--key <file>', `key file to create (default ${defaultKeyFile()})`)
    .option('--force', 'replace an existing key (every agent must then pin the new public key)')
    .option('--json', 'print JSON')
    .action(
      action((opts: InitOptions) => {
        const file = resolve(opts.key ?? defaultKeyFile());
        const force = opts.force === true;
        if (!force && existsSync(file)) {
          throw new CapanodeError('io-error', `a key already exists at ${file} (coordinator ${readKeyFile(file).id})`, {
            hint: 'This coordinator is already initialised. Pass --force only to start a new identity: every agent must then pin the new key.',
          });
        }
        const key = generateKeyPair();
        writeKeyFile(file, key, { overwrite: force });
        if (opts.json === true) {
          printJson({ coordinator: key.id, publicKey: key.id, keyFile: file });
        } else {
          process.stdout.write(
            `coordinator key ${key.id}\nkey file        ${file} (0600: back it up, agents pin this identity)\n\non each agent:   capanode init --coordinator ws://HOST:PORT --coordinator-key ${key.id}\n`,
          );
        }
      }),
    );
}
