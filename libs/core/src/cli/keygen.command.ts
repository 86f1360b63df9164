import { generateSigningKey } from '../transport/signing/index.js';
import { parseCommandArgs, runCommand } from './cli-database.js';

const USAGE = `Usage: chronicle keygen [--json]

Makes an ed25519 key pair for signed messages (transport.signing): give the
private key to one app (CHRONICLE_SIGNING_KEY, kept secret like a password)
and its public key to every app that should trust it (CHRONICLE_TRUSTED_KEYS,
under the app's name). To rotate, trust the new public key beside the old
one everywhere, then move the app to the new private key, then drop the old
public key.

  --json   print { privateKey, publicKey } as JSON`;

/** `chronicle keygen`: a new key pair, base64url of the raw 32 bytes each. */
export function run(args: string[]): Promise<number> {
  return runCommand(USAGE, () => {
    const { values } = parseCommandArgs(args, {
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    });
    if (values.help) {
      console.log(USAGE);
      return Promise.resolve(0);
    }
    const pair = generateSigningKey();
    console.log(
      values.json
        ? JSON.stringify(pair, null, 2)
        : `CHRONICLE_SIGNING_KEY=${pair.privateKey}\npublic key: ${pair.publicKey}`,
    );
    return Promise.resolve(0);
  });
}
