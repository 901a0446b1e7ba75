// A data node that sells garbage is caught by fair exchange, on the four-validator local network
// with every worker on. Eve's data node runs with the test-only fault injection
// `--worker-fault sell-garbage` (`LOOPX_FAULTY=data LOOPX_FAULT=sell-garbage scripts/local-net.sh
// start … data`): it offers its wallet data with an honest commitment (content hash, rows,
// schema), but delivers bytes that match none of it, sealed under the deal key it commits to.
//
// The buying validator's worker opens the payload with the key it derives (which matches Eve's
// commitment), finds it is not what was offered, and disputes with that key: the vote opens at
// once. The other validators' workers fetch the very ciphertext the buyer received from Eve's
// node, open it with the revealed key, check it against the offer and vote it invalid. The
// dispute is decided for the buyer: refunded, its deposit back, and paid Eve's bond; Eve is not
// paid and loses reputation; no validator is slashed or loses reputation for voting.
// Nothing here is played by the test: every step is the nodes' own.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LOCAL_RPC_PORTS, LOCAL_VALIDATORS, connect, localNetWithEnv, waitFor, disposeNet } from '../lib/node.mjs';

const EVE = '5HGjWAeFDfFCWPsjFQdVV2Msvz2XtMktvgocEZcCj68kUMaw';
const netDir = mkdtempSync(join(tmpdir(), 'loopx-data-disputes-'));
let api;
const seen = []; // { n, event } of every finalized block, in order
let scanned = 0;

before(async () => {
  localNetWithEnv({ LOOPX_FAULTY: 'data', LOOPX_FAULT: 'sell-garbage' }, netDir, 'start', ...LOCAL_VALIDATORS, 'data');
  api = await connect(LOCAL_RPC_PORTS.alice);
});

after(async () => {
  await api?.disconnect().catch(() => {});
  try { localNetWithEnv({}, netDir, 'stop'); } finally { disposeNet(netDir); }
});

/** Reads the events of every block finalized since the last call. */
async function sync() {
  const last = (await api.rpc.chain.getHeader(await api.rpc.chain.getFinalizedHead())).number.toNumber();
  while (scanned < last) {
    const n = scanned + 1;
    const at = await api.at(await api.rpc.chain.getBlockHash(n));
    for (const { event } of await at.query.system.events()) seen.push({ n, event });
    scanned = n;
  }
}
const of = (kind, match = () => true) => seen.filter(({ event }) => kind.is(event) && match(event.data)).map(({ n, event }) => ({ n, ...event.data }));
const reputation = async (who) => (await api.call.stakeReputationApi.reputation(who)).toNumber();

test('garbage data is disputed with the deal key, judged by the other validators and decided for the buyer', { timeout: 900_000 }, async (t) => {
  const validators = (await api.call.stakeReputationApi.currentValidators()).map((v) => v.who.toString());
  assert.equal(validators.length, 4);
  const eveReputation = await reputation(EVE);

  // The first of Eve's deals whose dispute was decided.
  const decided = await waitFor('a dispute of a deal of Eve\'s decided', async () => {
    await sync();
    for (const d of of(api.events.dataMarket.DisputeDecided)) {
      const matched = of(api.events.dataMarket.DealMatched, (m) => m.deal.eq(d.deal))[0];
      if (matched?.seller.toString() === EVE) return { ...d, matched };
    }
    return undefined;
  }, { timeoutMs: 780_000, everyMs: 3_000 });
  const deal = decided.deal.toNumber();
  const claim = decided.claim.toNumber();
  const buyer = decided.matched.buyer.toString();
  const ofDeal = (kind) => of(kind, (d) => d.deal.toNumber() === deal);
  t.diagnostic(`deal #${deal}: matched at ${decided.matched.n}, delivered at ${ofDeal(api.events.dataMarket.Delivered)[0]?.n}, `
    + `disputed at ${ofDeal(api.events.dataMarket.Disputed)[0]?.n}, decided at ${decided.n} (claim ${claim})`);

  // The buyer could open the payload (its key matches the commitment), so it disputed with the
  // key and the vote opened at once.
  const [disputed] = ofDeal(api.events.dataMarket.Disputed);
  assert.ok(disputed.claim.isSome, 'the vote opened with the dispute');
  assert.equal(ofDeal(api.events.dataMarket.DealKeyRevealed)[0].by.toString(), buyer, 'the buyer revealed the key');
  const [opened] = of(api.events.weightedVoting.ClaimOpened, (c) => c.claim.toNumber() === claim);
  assert.equal(opened.class.toString(), 'DataDispute');
  assert.equal(opened.claimant.toString(), EVE);

  // The other validators judged it: garbage, so the seller's claim is rejected.
  assert.equal(decided.outcome.toString(), 'Rejected');
  const revealed = of(api.events.weightedVoting.VoteRevealed, (v) => v.claim.toNumber() === claim);
  const voters = revealed.map((v) => v.voter.toString());
  assert.ok(voters.length >= 2, `at least two revealed votes, saw ${voters.length}`);
  assert.ok(!voters.includes(buyer), 'the buyer does not vote on its own dispute');

  // The buyer is refunded and paid the seller's bond; its deposit was not taken.
  const [refunded] = ofDeal(api.events.dataMarket.DealRefunded);
  assert.equal(refunded.reason.toString(), 'DisputeLost');
  assert.equal(refunded.buyer.toString(), buyer);
  assert.equal(refunded.refunded.toBigInt(), decided.matched.payment.toBigInt());
  assert.ok(refunded.bondToBuyer.toBigInt() > 0n, 'the seller\'s bond pays the buyer');
  assert.equal(decided.depositToSeller.toBigInt(), 0n);
  assert.equal(ofDeal(api.events.dataMarket.DealSettled).length, 0, 'Eve is not paid');
  assert.ok((await reputation(EVE)) < eveReputation, 'Eve loses reputation');

  // No honest validator lost anything for this: no slash, no reputation taken.
  const slashed = of(api.events.stakeReputation.Slashed, (s) => validators.includes(s.who.toString()));
  assert.deepEqual(slashed.map((s) => s.who.toString()), [], 'no validator slashed');
  const penalties = ['Slashed', 'ClaimRejected', 'VotedAgainstOutcome', 'MissedReveal', 'DealFailed', 'NotVoted'];
  const lost = of(api.events.stakeReputation.ReputationChanged,
    (r) => validators.includes(r.who.toString()) && penalties.includes(r.reason.toString()));
  assert.deepEqual(lost.map((r) => `${r.who}: ${r.reason}`), [], 'no validator lost reputation');
});
