// Bad input to the node's command line gets a clear message and a non-zero exit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { port, runNode, tmpDir } from '../lib/node.mjs';

test('an unknown --chain name is refused with the names it accepts', () => {
  const r = runNode(['build-spec', '--chain', 'no-such-chain']);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /unknown chain `no-such-chain`: use `dev`, `local`/);
});

test('a malformed chain-spec file is refused', () => {
  const dir = tmpDir('loopx-cli-');
  const file = join(dir, 'broken.json');
  writeFileSync(file, '{ "name": "broken", ');
  try {
    const r = runNode(['build-spec', '--chain', file]);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /invalid chain spec/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an RPC port in use stops the node with an error', { timeout: 60_000 }, async () => {
  const server = createServer().listen(port(9977), '127.0.0.1');
  await new Promise((r) => server.on('listening', r));
  try {
    const r = runNode(['--dev', '--tmp', '--rpc-port', `${port(9977)}`, '--port', `${port(30377)}`, '--no-prometheus'], { timeoutMs: 50_000 });
    assert.notEqual(r.status, 0, 'node must exit non-zero');
    assert.match(r.stderr, new RegExp(`the RPC port ${port(9977)} is already in use .*choose another with --rpc-port`));
  } finally {
    server.close();
  }
});

test('a p2p port in use stops the node with an error', { timeout: 60_000 }, async () => {
  const server = createServer().listen(port(30378), '0.0.0.0');
  await new Promise((r) => server.on('listening', r));
  try {
    const r = runNode(['--dev', '--tmp', '--rpc-port', `${port(9978)}`, '--port', `${port(30378)}`, '--no-prometheus'], { timeoutMs: 50_000 });
    assert.notEqual(r.status, 0, 'node must exit non-zero');
    assert.match(r.stderr, new RegExp(`the p2p port ${port(30378)} is already in use .*choose another with --port`));
  } finally {
    server.close();
  }
});

test('a malformed or missing --sql-dataset, or too small a --chain-index-keep-blocks, stops the node with the reason', { timeout: 60_000 }, () => {
  const base = ['--dev', '--tmp', '--rpc-port', `${port(9976)}`, '--port', `${port(30376)}`, '--no-prometheus'];
  const malformed = runNode([...base, '--sql-dataset', 'cities.csv'], { timeoutMs: 50_000 });
  assert.notEqual(malformed.status, 0);
  assert.match(malformed.stderr, /--sql-dataset cities\.csv: expected <name>:<table>=<file\.csv>/);
  const missing = runNode([...base, '--sql-dataset', 'cities:cities=/no/such/cities.csv'], { timeoutMs: 50_000 });
  assert.notEqual(missing.status, 0);
  assert.match(missing.stderr, /\/no\/such\/cities\.csv/);
  // A bound on the chain index below the minimum is refused, with the minimum.
  const tiny = runNode([...base, '--chain-index-keep-blocks', '10'], { timeoutMs: 50_000 });
  assert.notEqual(tiny.status, 0);
  assert.match(tiny.stderr, /--chain-index-keep-blocks 10: keep at least 1200 blocks/);
});

test('build-spec emits LPX properties and, with --raw, a raw genesis', () => {
  const plain = JSON.parse(runNode(['build-spec', '--chain', 'local', '--disable-default-bootnode']).stdout);
  assert.equal(plain.properties.tokenSymbol, 'LPX');
  assert.equal(plain.properties.tokenDecimals, 12);
  const raw = JSON.parse(runNode(['build-spec', '--chain', 'local', '--raw', '--disable-default-bootnode']).stdout);
  assert.ok(raw.genesis.raw.top, 'raw spec has raw storage');
});
