// The four-validator network of the stake × reputation tests (local preset: stakes
// 1 : 2 : 5 : 2, equal reputation), its validators' accounts and the readings those tests share.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { Keyring } from '@polkadot/keyring';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { ADDR as ALL_ADDR, VALIDATORS } from './cycle.mjs';
import { LOCAL_RPC_PORTS, connect, localNet, localNetWithEnv, submitAndWatch, tmpDir, waitFor } from './node.mjs';

/** The genesis validators' accounts (the other dev accounts are in cycle.mjs's ADDR). */
export const ADDR = Object.fromEntries(VALIDATORS.map((name) => [name, ALL_ADDR[name]]));

/** { address: { weight, finality } } from a runtime-API validator list. */
export const byAccount = (list) => Object.fromEntries(list.map((v) => [v.who.toString(),
  { weight: v.weight.toNumber(), finality: v.finalityWeight.toNumber() }]));

/** Starts the network in a directory of its own; `stop()` stops it and removes the directory. */
export async function startStakeNet(prefix) {
  await cryptoWaitReady();
  const netDir = tmpDir(prefix);
  const keyring = new Keyring({ type: 'sr25519' });
  const alice = keyring.addFromUri('//Alice');
  // The local preset has no sudo: these tests set scenarios up as root on a test spec with one.
  localNetWithEnv({ LOOPX_NO_WORKERS: '1', LOOPX_TEST_SUDO: '1' }, netDir, 'start');
  const api = await connect(LOCAL_RPC_PORTS.alice);
  const net = {
    api, keyring, alice, netDir,
    session: async () => (await api.query.session.currentIndex()).toNumber(),
    waitForSession: (n, timeoutMs = 200_000) =>
      waitFor(`session ${n}`, async () => (await net.session()) >= n, { timeoutMs, everyMs: 1_000 }),
    /** { address: weight } of BABE's current (or next) authorities, via each validator's session keys. */
    async babeWeights(next = false) {
      const authorities = next ? await api.query.babe.nextAuthorities() : await api.query.babe.authorities();
      const out = {};
      for (const who of Object.values(ADDR)) {
        const keys = (await api.query.session.nextKeys(who)).unwrap();
        const entry = authorities.find(([key]) => key.eq(keys.babe));
        if (entry) out[who] = entry[1].toNumber();
      }
      return out;
    },
    /** Root (Alice is sudo) dispatches `call`; asserts it succeeded; returns the events. */
    async sudo(call) {
      const { dispatchError, events } = await submitAndWatch(api.tx.sudo.sudo(call), alice);
      assert.equal(dispatchError, undefined);
      const sudid = events.find(({ event }) => api.events.sudo.Sudid.is(event));
      assert.ok(sudid?.event.data.sudoResult.isOk, 'the root call succeeded');
      return events;
    },
    async stop() {
      await api.disconnect().catch(() => {});
      try { localNet(netDir, 'stop'); } finally { rmSync(netDir, { recursive: true, force: true }); }
    },
  };
  return net;
}
