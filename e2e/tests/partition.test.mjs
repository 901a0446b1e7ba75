// A 2–2 network partition of the four validators, each in a network namespace of its own
// (e2e/lib/netns.sh: one bridge joins them; the partition moves Charlie's and Dave's ports to a
// second bridge). Every worker is on. Finality weights are 14 : 28 : 30 : 28 %, so neither half
// holds the 2/3 GRANDPA needs: both halves go on authoring blocks but finalize none, and no two
// nodes finalize conflicting blocks. Ferdie posts a query to Alice's half during the split.
// After healing there is one chain, finality resumes, and the query is posted, answered and
// paid exactly once. Needs root (ip netns); it creates and removes everything it uses.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Keyring } from '@polkadot/keyring';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { u8aToString } from '@polkadot/util';
import { ADDR, QUERY_FEE, VALIDATORS, nameOf } from '../lib/cycle.mjs';
import { NODE_BIN, REPO_ROOT, connect, heads, runNode, sendChecked, sleep, waitFor } from '../lib/node.mjs';

const NETNS = join(REPO_ROOT, 'e2e', 'lib', 'netns.sh');
const TAG = `p${(process.pid % 10_000).toString(36)}`;
const ALICE_NODE_KEY = '0000000000000000000000000000000000000000000000000000000000000001';
const SIDES = { a: ['alice', 'bob'], b: ['charlie', 'dave'] };
const SQL = 'SELECT pattern, COUNT(*) AS n FROM transactions GROUP BY pattern ORDER BY pattern';
const dir = mkdtempSync(join(tmpdir(), 'loopx-partition-'));
const procs = {};
const logs = {};
const apis = {};
let ferdie;

function netns(...args) {
  const r = spawnSync(NETNS, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`netns.sh ${args.join(' ')} failed: ${r.stderr}`);
}

before(async () => {
  await cryptoWaitReady();
  ferdie = new Keyring({ type: 'sr25519' }).addFromUri('//Ferdie');
  netns('down', TAG);
  netns('up', TAG, '4');
  const keyFile = join(dir, 'alice.key');
  writeFileSync(keyFile, ALICE_NODE_KEY);
  const alicePeerId = runNode(['key', 'inspect-node-key', '--file', keyFile]).stdout.trim();
  VALIDATORS.forEach((name, i) => {
    const args = ['netns', 'exec', `lx${TAG}n${i}`, NODE_BIN, '--chain', 'local', `--${name}`, '--name', name,
      '--base-path', join(dir, name), '--listen-addr', `/ip4/10.248.0.${i + 1}/tcp/30333`,
      '--rpc-port', '9944', '--rpc-external', '--rpc-cors', 'all', '--rpc-max-connections', '1000',
      '--no-prometheus', '--no-mdns', '--allow-private-ip', '--unsafe-force-node-key-generation',
      ...(i === 0 ? ['--node-key', ALICE_NODE_KEY] : ['--bootnodes', `/ip4/10.248.0.1/tcp/30333/p2p/${alicePeerId}`])];
    const proc = spawn('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    logs[name] = '';
    proc.stderr.on('data', (d) => { logs[name] = (logs[name] + d).slice(-2_000_000); });
    procs[name] = proc;
  });
  for (const [i, name] of VALIDATORS.entries()) apis[name] = await connect(9944, { host: `10.249.${i}.2`, timeoutMs: 90_000 });
});

after(async () => {
  for (const api of Object.values(apis)) await api.disconnect().catch(() => {});
  for (const proc of Object.values(procs)) proc.kill('SIGTERM');
  await sleep(3_000);
  for (const proc of Object.values(procs)) if (proc.exitCode === null) proc.kill('SIGKILL');
  if (process.env.LOOPX_KEEP_NET === '1') {
    for (const [name, log] of Object.entries(logs)) writeFileSync(join(dir, `${name}.log`), log);
    console.log(`logs kept in ${dir}`);
  }
  try { netns('down', TAG); } finally {
    if (process.env.LOOPX_KEEP_NET !== '1') rmSync(dir, { recursive: true, force: true });
  }
});

const allHeads = async () => Object.fromEntries(await Promise.all(VALIDATORS.map(async (n) => [n, await heads(apis[n])])));
const tail = (name, n = 40) => logs[name].split('\n').slice(-n).join('\n');

/** No two nodes finalized different blocks: each node's finalized block is on every node's
 * chain that finalized as far. */
async function assertNoConflictingFinality(h) {
  for (const x of VALIDATORS) {
    const mine = (await apis[x].rpc.chain.getFinalizedHead()).toHex();
    for (const y of VALIDATORS) {
      if (h[y].finalized < h[x].finalized) continue;
      const theirs = (await apis[y].rpc.chain.getBlockHash(h[x].finalized)).toHex();
      assert.equal(theirs, mine, `${x} finalized #${h[x].finalized} ${mine}, ${y} has ${theirs} there`);
    }
  }
}

test('four validators in their own network namespaces finalize together', { timeout: 240_000 }, async () => {
  try {
    await waitFor('every node finalizing block 3 with three peers', async () => {
      const h = await allHeads();
      const peers = await Promise.all(VALIDATORS.map(async (n) => (await apis[n].rpc.system.health()).peers.toNumber()));
      return VALIDATORS.every((n) => h[n].finalized >= 3) && peers.every((p) => p === 3);
    }, { timeoutMs: 200_000, everyMs: 1_000 });
  } catch (e) {
    e.message += `\n--- alice's log (end) ---\n${tail('alice')}\n--- dave's log (end) ---\n${tail('dave')}`;
    throw e;
  }
  await assertNoConflictingFinality(await allHeads());
});

let posted;
test('a 2–2 partition: both halves author blocks, neither finalizes, no conflicting finality', { timeout: 300_000 }, async (t) => {
  const at = await allHeads();
  netns('split', TAG, '2', '3');
  const splitAt = Date.now();
  // Ferdie's query goes to Alice's half; the deadline leaves room for the split and the heal.
  const deadline = at.alice.best + 200;
  const { blockHash } = await sendChecked(apis.alice, apis.alice.tx.computeMarket.postQuery({ Aggregation: { sql: SQL, dataset: 'wallet-demo' } },
    QUERY_FEE, 4, { minStake: 0, minReputation: 0 }, deadline), ferdie);
  posted = blockHash.toHex();
  // Votes under way at the split may still complete a round; after that nothing finalizes.
  await sleep(20_000);
  const settled = await allHeads();
  await sleep(45_000);
  const later = await allHeads();
  t.diagnostic(`at the split ${JSON.stringify(at)}; +20 s ${JSON.stringify(settled)}; +65 s ${JSON.stringify(later)}`);
  for (const n of VALIDATORS) {
    assert.equal(later[n].finalized, settled[n].finalized, `${n} finalized nothing in 45 s of the split`);
  }
  for (const [side, names] of Object.entries(SIDES)) {
    const grown = Math.max(...names.map((n) => later[n].best - at[n].best));
    t.diagnostic(`side ${side} (${names}): ${grown} blocks authored during the split`);
    assert.ok(grown >= 3, `side ${side} goes on authoring blocks (${grown})`);
  }
  // The halves' best blocks differ: they are two forks.
  const [a, b] = await Promise.all([apis.alice, apis.charlie].map(async (api) => (await api.rpc.chain.getBlockHash()).toHex()));
  assert.notEqual(a, b);
  await assertNoConflictingFinality(later);
  t.diagnostic(`split for ${Date.now() - splitAt} ms`);
});

test('healed: one chain, finality resumes, and Ferdie\'s query is posted, answered and paid once', { timeout: 600_000 }, async (t) => {
  assert.ok(posted, 'the query was posted during the split');
  const before = await allHeads();
  const healedAt = Date.now();
  netns('heal', TAG);
  const tip = Math.max(...VALIDATORS.map((n) => before[n].best));
  const resumed = await waitFor(`every node finalizing past #${tip}`, async () => {
    const h = await allHeads();
    return VALIDATORS.every((n) => h[n].finalized > tip) && h;
  }, { timeoutMs: 180_000, everyMs: 1_000 });
  t.diagnostic(`finality resumed past #${tip} on all four ${Date.now() - healedAt} ms after the heal: ${JSON.stringify(resumed)}`);
  await assertNoConflictingFinality(resumed);

  // The query, read from Alice's finalized chain: exactly one, answered by all four once each.
  const api = apis.alice;
  const view = await waitFor('Ferdie\'s query answered and finalized', async () => {
    const at = await api.at(await api.rpc.chain.getFinalizedHead());
    const mine = await at.call.computeMarketApi.queriesOf(ADDR.ferdie);
    return mine.length === 1 && mine[0].status.isAnswered && mine;
  }, { timeoutMs: 360_000, everyMs: 3_000 });
  const query = view[0].id.toNumber();
  const finalized = (await heads(api)).finalized;
  const events = [];
  for (let n = Math.max(1, before.alice.finalized - 5); n <= finalized; n++) {
    const at = await api.at(await api.rpc.chain.getBlockHash(n));
    for (const { event } of await at.query.system.events()) {
      if (event.section === 'computeMarket' && event.data.query !== undefined) events.push(event);
    }
  }
  const of = (method) => events.filter((e) => e.method === method && e.data.query.toNumber() === query).map((e) => e.data);
  const who = (list) => list.map((d) => nameOf(d.who ?? d.client)).sort();
  const postedEvents = events.filter((e) => e.method === 'QueryPosted' && e.data.client.toString() === ADDR.ferdie);
  assert.equal(postedEvents.length, 1, 'posted once on the one chain');
  assert.deepEqual(who(of('AnswerCommitted')), [...VALIDATORS].sort(), 'each committed once');
  assert.deepEqual(who(of('AnswerRevealed')), [...VALIDATORS].sort(), 'each revealed once');
  assert.deepEqual(who(of('AnswerPaid')), [...VALIDATORS].sort(), 'each paid once');
  assert.equal(of('QueryAnswered').length, 1);
  const result = u8aToString(of('QueryAnswered')[0].result);
  assert.match(result, /^pattern\tn\n/);
  t.diagnostic(`query #${query} answered by ${view[0].answerers.map(nameOf)}`);
});
