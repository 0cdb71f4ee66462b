// canReach decides whether the embedded cluster must move out of a folder the server's OS user
// cannot enter (root running a project in /root or a `mktemp -d` folder).
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { canReach, type ServerAccount } from '../../../src/embedded/server-account';

// An account that owns nothing here and is in none of its groups: only the "other" bits apply.
const stranger: ServerAccount = { uid: 4242, gid: 4242, groups: [4242], switched: true };
let root: string;

beforeEach(() => {
  root = mkdtempSync(path.join(tmpdir(), 'zart-reach-'));
});

afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

test('a folder below a 0700 folder is out of reach of another account', () => {
  chmodSync(root, 0o700);
  expect(canReach(path.join(root, 'app', '.zart', 'postgres'), stranger)).toBe(false);
});

test('search permission for others (0711 or 0755) on every parent folder is enough', () => {
  chmodSync(root, 0o711);
  mkdirSync(path.join(root, 'app'), { mode: 0o755 });
  chmodSync(path.join(root, 'app'), 0o755);
  expect(canReach(path.join(root, 'app', '.zart', 'postgres'), stranger)).toBe(true);
});

test('one closed folder anywhere above the target is enough to be out of reach', () => {
  chmodSync(root, 0o755);
  mkdirSync(path.join(root, 'closed'));
  chmodSync(path.join(root, 'closed'), 0o700);
  expect(canReach(path.join(root, 'closed', 'open', 'postgres'), stranger)).toBe(false);
});

test('the current account, which PostgreSQL runs as when not root, reaches everything it can create', () => {
  chmodSync(root, 0o700);
  expect(canReach(path.join(root, 'postgres'), { ...stranger, switched: false })).toBe(true);
});
