// Stake × reputation on the four-validator network (local preset: stakes 1 : 2 : 5 : 2, equal
// reputation), read-only: the runtime's elected weights, BABE's authority weights and GRANDPA's
// voter weights, primary-slot shares over 300 blocks and finality across session changes. What
// changes the weights (governance, slashes, a validator joining) is in stake-changes.test.mjs,
// on a network of its own, so that the two files run at the same time.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { heads, waitFor } from '../lib/node.mjs';
import { ADDR, byAccount, startStakeNet } from '../lib/stake.mjs';

let net;
let api;
const session = () => net.session();
const waitForSession = (n, timeoutMs) => net.waitForSession(n, timeoutMs);
const babeWeights = (next) => net.babeWeights(next);

before(async () => {
  net = await startStakeNet('loopx-stake-net-');
  api = net.api;
});

after(async () => { await net?.stop(); });

test('elected weights follow stake 1 : 2 : 5 : 2 and are BABE\'s; GRANDPA\'s are capped', { timeout: 240_000 }, async () => {
  await waitForSession(1);
  const current = byAccount(await api.call.stakeReputationApi.currentValidators());
  assert.deepEqual(Object.fromEntries(Object.entries(current).map(([k, v]) => [k, v.weight])), {
    [ADDR.alice]: 100_000_000, [ADDR.bob]: 200_000_000, [ADDR.charlie]: 500_000_000, [ADDR.dave]: 200_000_000,
  });
  // No validator may hold more than 30 % of the finality weight: Charlie is cut to 30 % and the
  // others keep their proportions (14 : 28 : 28), so any three of the four hold more than 2/3.
  const near = (a, b) => Math.abs(a - b) <= 2;
  const finality = { [ADDR.alice]: 140_000_000, [ADDR.bob]: 280_000_000, [ADDR.charlie]: 300_000_000, [ADDR.dave]: 280_000_000 };
  for (const [who, v] of Object.entries(current)) assert.ok(near(v.finality, finality[who]), `${who}: finality ${v.finality}`);
  assert.deepEqual(await babeWeights(), Object.fromEntries(Object.entries(current).map(([k, v]) => [k, v.weight])));
  const grandpa = (await api.call.grandpaApi.grandpaAuthorities()).map(([, w]) => w.toNumber()).sort((a, b) => a - b);
  const expected = Object.values(finality).sort((a, b) => a - b);
  assert.ok(grandpa.length === 4 && grandpa.every((w, i) => near(w, expected[i])), `GRANDPA weights ${grandpa}`);
  // The reputation everyone starts with is neutral.
  assert.equal((await api.call.stakeReputationApi.reputation(ADDR.bob)).toNumber(), 500_000);
});

/**
 * BABE primary-slot leader election weighted by stake × reputation. With c = 1/4 a validator of
 * weight share θ wins a slot's primary lottery with p(θ) = 1 − (1 − c)^θ; among primary blocks its
 * expected share is p(θ)/Σp (10.3 %, 20.4 %, 48.9 %, 20.4 % for 1 : 2 : 5 : 2 — not exactly θ because
 * the lottery is concave). Over n primary blocks the observed share has standard deviation
 * √(e(1−e)/n); the test allows 4σ plus 0.02 for forks and the approximation, so an honest chain
 * fails it roughly once in 5,000 runs while equal weights (a quarter each) fail it with n ≳ 90.
 * The same window covers five session changes, through which GRANDPA must keep finalizing.
 */
test('over 300 blocks primary slots follow the weights, and GRANDPA finalizes across 5 sessions', { timeout: 1_200_000 }, async (t) => {
  const C = 0.25;
  const startBlock = (await heads(api)).best;
  const startSession = await session();
  const keyToAccount = {};
  for (const who of Object.values(ADDR)) {
    keyToAccount[(await api.query.session.nextKeys(who)).unwrap().babe.toHex()] = who;
  }
  const observed = Object.fromEntries(Object.values(ADDR).map((a) => [a, 0]));
  const expected = Object.fromEntries(Object.values(ADDR).map((a) => [a, 0]));
  let primaries = 0;
  let next = startBlock + 1;
  const end = startBlock + 300;

  // Who authored each finalized primary block, and with which weights its epoch's lottery ran.
  // Blocks are read as they finalize: nodes keep the state of the last 256 blocks only.
  async function readFinalizedUpTo(finalized) {
    for (; next <= Math.min(finalized, end); next++) {
      const hash = await api.rpc.chain.getBlockHash(next);
      const header = await api.rpc.chain.getHeader(hash);
      const log = header.digest.logs.find((l) => l.isPreRuntime && l.asPreRuntime[0].toString() === 'BABE');
      const digest = api.registry.createType('RawBabePreDigest', log.asPreRuntime[1]);
      if (!digest.isPrimary) continue;
      const authorities = await (await api.at(header.parentHash)).query.babe.authorities();
      const total = authorities.reduce((a, [, w]) => a + w.toNumber(), 0);
      const p = authorities.map(([, w]) => 1 - (1 - C) ** (w.toNumber() / total));
      const sumP = p.reduce((a, b) => a + b, 0);
      authorities.forEach(([key], i) => { expected[keyToAccount[key.toHex()]] += p[i] / sumP; });
      observed[keyToAccount[authorities[digest.asPrimary.authorityIndex.toNumber()][0].toHex()]] += 1;
      primaries += 1;
    }
  }

  let lastFinalized = (await heads(api)).finalized;
  await waitFor('300 more finalized blocks and 5 session changes', async () => {
    const { best, finalized } = await heads(api);
    assert.ok(finalized >= lastFinalized, 'finality never goes back');
    lastFinalized = finalized;
    await readFinalizedUpTo(finalized);
    return next > end && (await session()) >= startSession + 5 && best - finalized <= 5;
  }, { timeoutMs: 1_150_000, everyMs: 5_000 });

  assert.ok(primaries >= 40, `only ${primaries} primary blocks in 300`);
  for (const who of Object.values(ADDR)) {
    const e = expected[who] / primaries;
    const o = observed[who] / primaries;
    const tolerance = 4 * Math.sqrt((e * (1 - e)) / primaries) + 0.02;
    t.diagnostic(`${who}: ${observed[who]} of ${primaries} primary blocks = ${(100 * o).toFixed(1)} %, expected ${(100 * e).toFixed(1)} % ± ${(100 * tolerance).toFixed(1)}`);
    assert.ok(Math.abs(o - e) <= tolerance,
      `${who}: observed ${(100 * o).toFixed(1)} % of ${primaries} primary blocks, expected ${(100 * e).toFixed(1)} % ± ${(100 * tolerance).toFixed(1)}`);
  }
  assert.ok((await api.query.grandpa.currentSetId()).toNumber() >= 1);
});
