// Three validators (Alice, Bob, Charlie) started by scripts/local-net.sh on loopback.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { connect, heads, localNet, tmpDir, waitFor, LOCAL_RPC_PORTS } from '../lib/node.mjs';

const netDir = tmpDir('loopx-local-net-');
const apis = {};

before(async () => {
  localNet(netDir, 'start');
  for (const [name, port] of Object.entries(LOCAL_RPC_PORTS)) apis[name] = await connect(port);
});

after(async () => {
  for (const api of Object.values(apis)) await api.disconnect().catch(() => {});
  try { localNet(netDir, 'stop'); } finally { rmSync(netDir, { recursive: true, force: true }); }
});

test('the three validators agree on a finalized head', { timeout: 180_000 }, async () => {
  // Wait until every node has finalized block 5, then compare the hash each has for the
  // lowest finalized number among them.
  await waitFor('all three finalize block 5', async () => {
    const fins = await Promise.all(Object.values(apis).map(async (api) => (await heads(api)).finalized));
    return fins.every((f) => f >= 5);
  }, { timeoutMs: 170_000 });
  const fins = await Promise.all(Object.values(apis).map(async (api) => (await heads(api)).finalized));
  const n = Math.min(...fins);
  const hashes = await Promise.all(Object.values(apis).map(async (api) => (await api.rpc.chain.getBlockHash(n)).toHex()));
  assert.equal(new Set(hashes).size, 1, `block #${n}: ${hashes.join(' ')}`);
  const peers = await Promise.all(Object.values(apis).map(async (api) => (await api.rpc.system.health()).peers.toNumber()));
  assert.deepEqual(peers, [2, 2, 2]);
});

test('each validator has authored blocks', { timeout: 180_000 }, async () => {
  const api = apis.alice;
  const authors = new Map();
  const keyToName = {
    '5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY': 'alice',
    '5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty': 'bob',
    '5FLSigC9HGRKVhB9FiEo4Y3koPsNmBmLJbpXg2mp1hXcS59Y': 'charlie',
  };
  let next = 1;
  await waitFor('every validator authors a block', async () => {
    const { best } = await heads(api);
    for (; next <= best; next++) {
      const header = await api.derive.chain.getHeader(await api.rpc.chain.getBlockHash(next));
      const who = keyToName[header.author?.toString()] ?? `unknown:${header.author}`;
      authors.set(who, (authors.get(who) ?? 0) + 1);
    }
    return ['alice', 'bob', 'charlie'].every((n) => authors.get(n) > 0);
  }, { timeoutMs: 170_000, everyMs: 2_000 });
  assert.ok(!Array.from(authors.keys()).some((k) => k.startsWith('unknown')), JSON.stringify([...authors]));
});

test('with one validator stopped, the other two keep producing blocks', { timeout: 180_000 }, async (t) => {
  await apis.charlie.disconnect();
  delete apis.charlie;
  localNet(netDir, 'stop', 'charlie');
  const before = { alice: (await heads(apis.alice)).best, bob: (await heads(apis.bob)).best };
  // Two of three authorities own about two thirds of the slots (BABE's secondary slots are dealt
  // out uniformly), so 8 blocks take about 12 slots (36 s). The allowance is 40 slots: a count
  // over a short fixed window fails by chance (3 of 10 slots happened once in CI).
  const started = Date.now();
  const grown = await waitFor('Alice and Bob each add 8 blocks', async () => {
    const a = (await heads(apis.alice)).best;
    const b = (await heads(apis.bob)).best;
    return a - before.alice >= 8 && b - before.bob >= 8 && { a, b };
  }, { timeoutMs: 120_000, everyMs: 1_000 });
  t.diagnostic(`alice #${before.alice} -> #${grown.a}, bob #${before.bob} -> #${grown.b} in ${Date.now() - started} ms`);
  // And they still agree on the chain, two blocks below the lower tip (a tip may be a short fork
  // for a slot or two, so retry until both have settled).
  await waitFor('Alice and Bob agree two blocks below their tips', async () => {
    const n = Math.min((await heads(apis.alice)).best, (await heads(apis.bob)).best) - 2;
    const [a, b] = await Promise.all([apis.alice, apis.bob].map(async (api) => (await api.rpc.chain.getBlockHash(n)).toHex()));
    return a === b;
  }, { timeoutMs: 30_000, everyMs: 1_000 });
});
