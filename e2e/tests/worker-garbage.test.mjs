// A peer that sends garbage on the models protocol: the dev chain's Alice (workers on) and a
// second node, Bob, that runs with the test-only fault injection `--worker-fault
// garbage-requests` and sends Alice a malformed models request at every block. Alice answers
// each with a reputation cost, counts it, goes on producing and finalizing blocks, and at last
// bans Bob (the connection drops).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { heads, rpcCall, runNode, startDevNode, tmpDir, waitFor } from '../lib/node.mjs';

const ALICE = { rpcPort: 9958, p2pPort: 30358, promPort: 9668 };
const BOB = { rpcPort: 9959, p2pPort: 30359, promPort: 9669 };
const ALICE_NODE_KEY = '0000000000000000000000000000000000000000000000000000000000000001';
const keyDir = tmpDir('loopx-garbage-');
let alice;
let bob;
let bobPeerId;

/** The value of the Prometheus sample `name` on Alice's node (0 when absent). */
async function aliceMetric(name) {
  const text = await (await fetch(`http://127.0.0.1:${ALICE.promPort}/metrics`)).text();
  return Number(text.match(new RegExp(`^(?:substrate_)?${name}(?:\\{[^}]*\\})? ([0-9.e+-]+)$`, 'm'))?.[1] ?? 0);
}

before(async () => {
  const keyFile = join(keyDir, 'alice.key');
  writeFileSync(keyFile, ALICE_NODE_KEY);
  const alicePeerId = runNode(['key', 'inspect-node-key', '--file', keyFile]).stdout.trim();
  alice = await startDevNode({ ...ALICE, workers: true, args: ['--dev', '--node-key', ALICE_NODE_KEY] });
  bob = await startDevNode({
    ...BOB,
    workers: true,
    args: ['--chain', 'dev', '--bob', '--validator', '--unsafe-force-node-key-generation', '--allow-private-ip', '--worker-fault', 'garbage-requests',
      '--bootnodes', `/ip4/127.0.0.1/tcp/${ALICE.p2pPort}/p2p/${alicePeerId}`],
  });
  bobPeerId = await rpcCall(BOB.rpcPort, 'system_localPeerId');
});

after(async () => {
  await bob?.stop().catch(() => {});
  await alice?.stop().catch(() => {});
  rmSync(keyDir, { recursive: true, force: true });
});

/** The last `n` lines of a node's log, for a failure message. */
const tail = (node, n = 60) => node.log().split('\n').slice(-n).join('\n');

test('Alice counts the garbage, keeps finalizing and bans the sender', { timeout: 420_000 }, async () => {
  try {
    await waitFor('Bob connected to Alice', async () =>
      (await rpcCall(ALICE.rpcPort, 'system_peers')).some((p) => p.peerId === bobPeerId), { timeoutMs: 60_000, everyMs: 1_000 });
    await waitFor('malformed requests counted', async () => (await aliceMetric('loopx_worker_malformed_messages')) >= 3,
      { timeoutMs: 120_000, everyMs: 2_000 });
    assert.match(alice.log(), /malformed models request from/);

    // Repeated reputation costs get Bob banned: Alice drops him.
    await waitFor('Alice dropping Bob', async () =>
      !(await rpcCall(ALICE.rpcPort, 'system_peers')).some((p) => p.peerId === bobPeerId), { timeoutMs: 150_000, everyMs: 500 });

    assert.match(alice.log(), /LoopX models: malformed message\. Banned, disconnecting/);
    // Through all of it Alice produces and finalizes blocks.
    const before = await heads(alice.api);
    await waitFor('Alice finalizing 3 more blocks', async () => (await heads(alice.api)).finalized >= before.finalized + 3,
      { timeoutMs: 60_000, everyMs: 1_000 });
  } catch (e) {
    e.message += `\n--- Alice's log (end) ---\n${tail(alice)}\n--- Bob's log (end) ---\n${tail(bob)}`;
    throw e;
  }
});
