// The standard Substrate subcommands on a real dev database: export/import/check blocks, revert,
// purge, chain-info, key generate/insert.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { NODE_BIN, connect, heads, port, runNode, sleep, tmpDir, waitFor } from '../lib/node.mjs';

const dir = tmpDir('loopx-subcommands-');
const base = join(dir, 'node');
const dev = ['--chain', 'dev', '--base-path', base];

before(async () => {
  // Produce a few finalized blocks in a persistent database, then stop the node.
  const proc = spawn(NODE_BIN, [...dev, '--alice', '--unsafe-force-node-key-generation', '--rpc-port', `${port(9962)}`, '--port', `${port(30362)}`,
    '--no-prometheus', '--no-mdns'], { stdio: 'ignore' });
  const exited = new Promise((r) => proc.on('exit', r));
  const api = await connect(port(9962));
  await waitFor('finalized block 4', async () => (await heads(api)).finalized >= 4, { timeoutMs: 90_000 });
  await api.disconnect();
  proc.kill('SIGINT');
  await Promise.race([exited, sleep(20_000)]);
});

after(() => rmSync(dir, { recursive: true, force: true }));

test('export-blocks, import-blocks and check-block round-trip the chain', { timeout: 120_000 }, () => {
  const file = join(dir, 'blocks.json');
  const exp = runNode(['export-blocks', ...dev, '--from', '1', '--to', '4', file]);
  assert.equal(exp.status, 0, exp.stderr);
  assert.ok(statSync(file).size > 0);
  const other = ['--chain', 'dev', '--base-path', join(dir, 'imported')];
  const imp = runNode(['import-blocks', ...other, file], { timeoutMs: 100_000 });
  assert.equal(imp.status, 0, imp.stderr);
  assert.match(imp.stderr, /Imported 4 blocks|#4/);
  const check = runNode(['check-block', ...dev, '3']);
  assert.equal(check.status, 0, check.stderr);
  const info = runNode(['chain-info', ...dev]);
  assert.equal(info.status, 0, info.stderr);
  assert.match(info.stdout, /best_number/);
});

test('revert and purge-chain', () => {
  const revert = runNode(['revert', ...dev, '1']);
  assert.equal(revert.status, 0, revert.stderr);
  const purge = runNode(['purge-chain', ...dev, '-y']);
  assert.equal(purge.status, 0, purge.stderr);
  assert.ok(!existsSync(join(base, 'chains', 'loopx_dev', 'paritydb')), 'database removed');
});

test('key generate and key insert', () => {
  const gen = runNode(['key', 'generate', '--scheme', 'sr25519', '--output-type', 'json']);
  assert.equal(gen.status, 0, gen.stderr);
  const key = JSON.parse(gen.stdout);
  assert.equal(key.secretPhrase.split(' ').length, 12);
  const ks = join(dir, 'keys');
  const ins = runNode(['key', 'insert', '--chain', 'dev', '--base-path', ks, '--scheme', 'sr25519',
    '--suri', key.secretPhrase, '--key-type', 'babe']);
  assert.equal(ins.status, 0, ins.stderr);
  const store = join(ks, 'chains', 'loopx_dev', 'keystore');
  const files = readdirSync(store);
  assert.equal(files.length, 1);
  assert.ok(files[0].startsWith('62616265'), 'a babe key file'); // hex("babe")
});

test('benchmark explains how to get a benchmarking build', () => {
  const r = runNode(['benchmark', 'pallet']);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /--features runtime-benchmarks/);
});
