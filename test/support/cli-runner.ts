// Runs the `zart` CLI in this process through main(), against a test file's database, and keeps
// what it printed: the commands as a user types them, without a process per call.
import { main } from '../../src/cli/main';

export interface CliResult {
  code: number;
  out: string;
  err: string;
}

/** `zart --database-url <databaseUrl> ...args`, colourless, as when stdout is piped. */
export async function runCli(databaseUrl: string, ...args: string[]): Promise<CliResult> {
  let out = '';
  let err = '';
  const code = await main(['--database-url', databaseUrl, ...args], {
    out: (text) => void (out += text),
    err: (text) => void (err += text),
    colour: false,
  });
  return { code, out, err };
}
