// Four validators (Alice, Bob, Charlie, Dave) started by scripts/local-net.sh on loopback.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';

import { connect, heads, localNet, tmpDir, waitFor, LOCAL_RPC_PORTS, LOCAL_VALIDATORS, disposeNet } from '../lib/node.mjs';

const netDir = tmpDir('loopx-local-net-');
const apis = {};

before(async () => {
  localNet(netDir, 'start');
  for (const name of LOCAL_VALIDATORS) apis[name] = await connect(LOCAL_RPC_PORTS[name]);
});

after(async () => {
  for (const api of Object.values(apis)) await api.disconnect().catch(() => {});
  try { localNet(netDir, 'stop'); } finally { disposeNet(netDir); }
});

test('the four validators agree on a finalized head', { timeout: 180_000 }, async () => {
  // Wait until every node has finalized block 5, then compare the hash each has for the
  // lowest finalized number among them.
  await waitFor('all four finalize block 5', async () => {
    const fins = await Promise.all(Object.values(apis).map(async (api) => (await heads(api)).finalized));
    return fins.every((f) => f >= 5);
  }, { timeoutMs: 170_000 });
  const fins = await Promise.all(Object.values(apis).map(async (api) => (await heads(api)).finalized));
  const n = Math.min(...fins);
  const hashes = await Promise.all(Object.values(apis).map(async (api) => (await api.rpc.chain.getBlockHash(n)).toHex()));
  assert.equal(new Set(hashes).size, 1, `block #${n}: ${hashes.join(' ')}`);
  const peers = await Promise.all(Object.values(apis).map(async (api) => (await api.rpc.system.health()).peers.toNumber()));
  assert.deepEqual(peers, [3, 3, 3, 3]);
});

test('the local chain is governed by referenda: no sudo key, a technical committee, the tracks', async () => {
  const api = apis.alice;
  assert.ok((await api.query.sudo.key()).isNone, 'the local preset has no sudo key');
  assert.equal((await api.query.technicalCommittee.members()).length, 3);
  const tracks = api.consts.referenda.tracks.map(([id, info]) => [id.toNumber(), info.name.toString().replace(/\0+$/, '')]); // names are NUL-padded to 25 bytes
  assert.deepEqual(tracks, [[0, 'root'], [1, 'whitelisted_caller'], [2, 'parameter_admin'], [3, 'slash_canceller'], [4, 'treasurer']]);
});

test('each validator has authored blocks', { timeout: 180_000 }, async () => {
  const api = apis.alice;
  const authors = new Map();
  const keyToName = {
    '5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY': 'alice',
    '5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty': 'bob',
    '5FLSigC9HGRKVhB9FiEo4Y3koPsNmBmLJbpXg2mp1hXcS59Y': 'charlie',
    '5DAAnrj7VHTznn2AWBemMuyBwZWs6FNFjdyVXUeYum3PTXFy': 'dave',
  };
  let next = 1;
  await waitFor('every validator authors a block', async () => {
    const { best } = await heads(api);
    for (; next <= best; next++) {
      const header = await api.derive.chain.getHeader(await api.rpc.chain.getBlockHash(next));
      const who = keyToName[header.author?.toString()] ?? `unknown:${header.author}`;
      authors.set(who, (authors.get(who) ?? 0) + 1);
    }
    return LOCAL_VALIDATORS.every((n) => authors.get(n) > 0);
  }, { timeoutMs: 170_000, everyMs: 2_000 });
  assert.ok(!Array.from(authors.keys()).some((k) => k.startsWith('unknown')), JSON.stringify([...authors]));
});

test('with one validator stopped, the other three keep producing and finalizing blocks', { timeout: 180_000 }, async (t) => {
  await apis.charlie.disconnect();
  delete apis.charlie;
  localNet(netDir, 'stop', 'charlie');
  const others = ['alice', 'bob', 'dave'];
  const before = Object.fromEntries(await Promise.all(others.map(async (n) => [n, await heads(apis[n])])));
  // Three of four authorities own about three quarters of the slots (BABE's secondary slots
  // are dealt out uniformly), so 8 blocks take about 11 slots (33 s). The allowance is 40 slots:
  // a count over a short fixed window fails by chance. Charlie's capped finality weight is
  // 30 %, so the other 70 % (more than 2/3) keep finalizing.
  const started = Date.now();
  const grown = await waitFor('the others each add 8 blocks and finalize 4 more', async () => {
    const now = Object.fromEntries(await Promise.all(others.map(async (n) => [n, await heads(apis[n])])));
    return others.every((n) => now[n].best - before[n].best >= 8 && now[n].finalized - before[n].finalized >= 4) && now;
  }, { timeoutMs: 120_000, everyMs: 1_000 });
  t.diagnostic(others.map((n) => `${n} #${before[n].best}/${before[n].finalized} -> #${grown[n].best}/${grown[n].finalized}`).join(', ')
    + ` (best/finalized) in ${Date.now() - started} ms`);
  // And they agree on the finalized chain.
  const n = Math.min(...others.map((o) => grown[o].finalized));
  const hashes = await Promise.all(others.map(async (o) => (await apis[o].rpc.chain.getBlockHash(n)).toHex()));
  assert.equal(new Set(hashes).size, 1, `finalized #${n}: ${hashes.join(' ')}`);
});
