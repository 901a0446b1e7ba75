// The whole LoopX cycle on the four-validator local network plus a data node, step by step,
// with nothing played by hand except the users: Ferdie (a builder) deploys a fraud-detection
// task, Eve's data node sells data to the validators' workers, the workers train by gossip and
// prove and vote on each other's updates (and merge the local model they bought), Charlie (fault injection `forge-claims`, a test
// facility) is caught and slashed, Ferdie (now a client too) asks an SQL aggregation and an
// inference query, and the eras' rewards are paid out. Each step waits for the chain and returns what it
// saw. The full-cycle test asserts on it; `scripts/demo.sh` tells it as a story.
import { Keyring } from '@polkadot/keyring';
import { cryptoWaitReady } from '@polkadot/util-crypto';
import { u8aToString } from '@polkadot/util';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { LOCAL_RPC_PORTS, LOCAL_VALIDATORS, connect, localNetWithEnv, runNode, sendChecked, sleep } from './node.mjs';

export const UNITS = 10n ** 12n;
export const ADDR = {
  alice: '5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY',
  bob: '5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty',
  charlie: '5FLSigC9HGRKVhB9FiEo4Y3koPsNmBmLJbpXg2mp1hXcS59Y',
  dave: '5DAAnrj7VHTznn2AWBemMuyBwZWs6FNFjdyVXUeYum3PTXFy',
  eve: '5HGjWAeFDfFCWPsjFQdVV2Msvz2XtMktvgocEZcCj68kUMaw',
  ferdie: '5CiPPseXPECbkjWCa6MnjNokrgYjMqmKndv2rSnekmSK2DjL',
};
export const VALIDATORS = LOCAL_VALIDATORS;
export const nameOf = (address) => Object.keys(ADDR).find((k) => ADDR[k] === address.toString()) ?? address.toString();
// The commitment to the demo evaluation set every worker holds (worker/src/demo_data.rs).
export const DEMO_EVAL_SET = '0x6d18d19c272ef83b4fffbe60d7f614bfaf8bed09c582087be55aa0fad0fae5da';
export const ROUND_LENGTH = 60;
export const ROUNDS = 2;
export const BOUNTY = 600n * UNITS;
export const QUERY_FEE = 3n * UNITS;
export const SQL = 'SELECT fraud, COUNT(*) AS n, AVG(amount) AS avg_amount FROM transactions GROUP BY fraud ORDER BY fraud';
/** A statement that never ends: every node stops it at the engine's step limit. */
export const ENDLESS_SQL = 'WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT COUNT(*) FROM n';
// Two transactions in the inference input format (16 wallet features a line,
// worker/src/inference.rs): an ordinary one and one far from the usual.
export const INFERENCE_INPUT = `${Array(16).fill('0').join(',')}\n${[4, 6, 0, 0, 3, 1, 1, 0.9, 5, 5, 5, 0.5, 0.5, 0.1, 3, 3].join(',')}`;
const ANYONE = { minStake: 0, minReputation: 0 };

/**
 * The fraud-detection task of the demo: the TT classifier of the throughput report (241
 * parameters, int8 on the wire) scored by AUC on the demo evaluation set, ROUNDS rounds of
 * ROUND_LENGTH blocks for a BOUNTY, open to every validator, to be done by block `deadline`.
 */
export function fraudTaskSpec(deadline) {
  return {
    architecture: { Classifier: { layers: [
      { outModes: [4, 4], inModes: [4, 4], rank: 3 },
      { outModes: [4, 4], inModes: [4, 4], rank: 3 },
      { outModes: [1], inModes: [16], rank: 1 },
    ] } },
    precision: 'Int8',
    metric: 'Auc',
    target: 990_000,
    evalSet: DEMO_EVAL_SET,
    hyper: { learningRatePpm: 100_000, batchSize: 64, localSteps: 60, seed: 7 },
    roundLength: ROUND_LENGTH,
    bounty: BOUNTY,
    trainers: ANYONE,
    maxRounds: ROUNDS,
    deadline,
  };
}

export class Cycle {
  /**
   * `netDir`: the local network's state directory; `faulty`: make Charlie forge his claims;
   * `dataNode`: start Eve's data node too; `onWait(label, done, total)`: called while a step
   * waits (for progress bars).
   */
  constructor({ netDir, faulty = true, dataNode = true, onWait = () => {} }) {
    Object.assign(this, { netDir, faulty, dataNode, onWait });
    this.events = []; // { n, section, method, data, phase } of every finalized block, in order
    this.scanned = 0; // the last block whose events are in `events`
  }

  /** Starts the four validators and Eve's data node, connects and funds nothing: genesis did. */
  async start() {
    await cryptoWaitReady();
    const keyring = new Keyring({ type: 'sr25519' });
    this.ferdie = keyring.addFromUri('//Ferdie');
    const env = this.faulty ? { LOOPX_FAULTY: 'charlie', LOOPX_FAULT: 'forge-claims' } : {};
    localNetWithEnv(env, this.netDir, 'start', ...VALIDATORS, ...(this.dataNode ? ['data'] : []));
    this.api = await connect(LOCAL_RPC_PORTS.alice);
  }

  async stop() {
    await this.api?.disconnect().catch(() => {});
    localNetWithEnv({}, this.netDir, 'stop');
  }

  async best() { return (await this.api.rpc.chain.getHeader()).number.toNumber(); }

  async finalized() {
    return (await this.api.rpc.chain.getHeader(await this.api.rpc.chain.getFinalizedHead())).number.toNumber();
  }

  /** Reads the events of every block finalized since the last call. */
  async sync() {
    const last = await this.finalized();
    while (this.scanned < last) {
      const n = this.scanned + 1;
      const at = await this.api.at(await this.api.rpc.chain.getBlockHash(n));
      for (const { event, phase } of await at.query.system.events()) {
        this.events.push({ n, section: event.section, method: event.method, data: event.data, phase });
      }
      this.scanned = n;
    }
  }

  /** The data of the finalized events `section.method` for which `match(data)` holds. */
  of(name, match = () => true) {
    const [section, method] = name.split('.');
    return this.events.filter((e) => e.section === section && e.method === method && match(e.data, e));
  }

  /**
   * Syncs until `check()` returns something truthy; reports progress as blocks passed of
   * `blocks` expected. Throws after `timeoutBlocks` blocks (a stalled cycle fails, it does not hang).
   */
  async until(label, check, { blocks = 20, timeoutBlocks = blocks * 4 + 40 } = {}) {
    const from = await this.best();
    for (;;) {
      await this.sync();
      const found = await check();
      if (found) { this.onWait(label, blocks, blocks, true); return found; }
      const passed = (await this.best()) - from;
      if (passed > timeoutBlocks) throw new Error(`${label}: not seen within ${timeoutBlocks} blocks`);
      this.onWait(label, Math.min(passed, blocks), blocks, false);
      await sleep(1_000);
    }
  }

  /** ① The network: who validates with what stake, reputation and weight; the issuance. */
  async network() {
    await this.until('the network finalizing its first blocks', async () => (await this.finalized()) >= 2, { blocks: 3 });
    const api = this.api;
    const validators = [];
    for (const v of await api.call.stakeReputationApi.currentValidators()) {
      const who = v.who.toString();
      validators.push({
        name: nameOf(who), who, weight: v.weight.toNumber(),
        stake: (await api.query.stakeReputation.ledgers(who)).unwrap().active.toBigInt(),
        reputation: (await api.call.stakeReputationApi.reputation(who)).toNumber(),
      });
    }
    const peers = (await api.rpc.system.peers()).length;
    this.initialWeights = Object.fromEntries(validators.map((v) => [v.name, v.weight]));
    this.initialReputations = Object.fromEntries(validators.map((v) => [v.name, v.reputation]));
    const genesis = await api.at(await api.rpc.chain.getBlockHash(0));
    return { validators, peers, issuance: (await genesis.query.balances.totalIssuance()).toBigInt() };
  }

  /** ② Ferdie deploys a fraud-detection task with a bounty, scored on the demo evaluation set. */
  async deployTask() {
    const api = this.api;
    const spec = fraudTaskSpec((await this.best()) + 1_000);
    const { events, blockHash } = await sendChecked(api, api.tx.builderMarket.deployModel(spec), this.ferdie);
    const deployed = events.find(({ event }) => api.events.builderMarket.TaskDeployed.is(event)).event.data;
    this.task = deployed.task.toNumber();
    this.deployedAt = (await api.rpc.chain.getHeader(blockHash)).number.toNumber();
    this.roundEnd0 = deployed.roundEnd.toNumber();
    return { task: this.task, bounty: deployed.bounty.toBigInt(), deposit: deployed.deposit.toBigInt(), roundEnd: deployed.roundEnd.toNumber() };
  }

  /**
   * ③ Eve's data node sells to the validators: its shard of the data (`wallet-tx`) and, once
   * the task is on chain, a local model it trained on that shard (`wallet-model`): offer, bid,
   * sealed delivery, payment. Returns the first settled deal of each kind.
   */
  async dataDeal() {
    const kinds = new Map(); // deal → its goods, read in the state of the block that matched it
    const goodsOf = async (deal) => {
      if (!kinds.has(deal)) {
        const matched = this.of('dataMarket.DealMatched', (d) => d.deal.toNumber() === deal)[0];
        const atMatch = await this.api.at(await this.api.rpc.chain.getBlockHash(matched.n));
        kinds.set(deal, (await atMatch.query.dataMarket.deals(deal)).unwrap().goods);
      }
      return kinds.get(deal);
    };
    const firstOf = async (kind) => {
      for (const e of this.of('dataMarket.DealSettled', (d) => d.seller.toString() === ADDR.eve)) {
        if ((await goodsOf(e.data.deal.toNumber())).kind.toString() === kind) return e;
      }
      return undefined;
    };
    const describe = async (settled) => {
      const deal = settled.data.deal.toNumber();
      const at = (name) => this.of(name, (d) => d.deal.toNumber() === deal)[0];
      const matched = at('dataMarket.DealMatched');
      const goods = await goodsOf(deal);
      return {
        deal,
        kind: goods.kind.toString(),
        tag: u8aToString(this.of('dataMarket.OrderPosted', (d) => d.owner.toString() === ADDR.eve && d.side.toString() === 'Offer'
          && d.order.eq(matched.data.offer))[0]?.data.tag ?? new Uint8Array()),
        buyer: nameOf(matched.data.buyer),
        price: matched.data.price.toBigInt(),
        toSeller: settled.data.toSeller.toBigInt(),
        protocolFee: settled.data.protocolFee.toBigInt(),
        rows: goods.commitment.samples.toNumber(),
        // (`size` of a polkadot.js struct is its number of fields: read the field from JSON.)
        bytes: Number(goods.commitment.toJSON().size),
        schema: goods.commitment.schema.toHex(),
        blocks: { matched: matched.n, delivered: at('dataMarket.Delivered').n, settled: settled.n },
      };
    };
    const data = await this.until('a data deal of Eve\'s settled', () => firstOf('RawData'), { blocks: 30 });
    const model = await this.until('a local-model deal of Eve\'s settled', () => firstOf('LocalModel'), { blocks: 40 });
    return {
      data: { ...await describe(data), offered: this.of('dataMarket.OrderPosted', (d) => d.owner.toString() === ADDR.eve)[0].n },
      model: await describe(model),
      disputes: this.of('dataMarket.Disputed').length,
      deals: this.of('dataMarket.DealSettled', (d) => d.seller.toString() === ADDR.eve).length,
    };
  }

  /** ④ Round `round`: every validator's claim, the verdicts, the versions it made. */
  async round(round) {
    const task = this.task;
    const ofTask = (name, match = () => true) => this.of(name, (d, e) => d.task.toNumber() === task && match(d, e));
    const claimsOf = () => ofTask('builderMarket.UpdateSubmitted', (d) => d.round.toNumber() === round);
    const started = round === 0 ? { roundEnd: this.roundEnd0 }
      : (await this.until(`round ${round} starting`, () => ofTask('builderMarket.RoundStarted', (d) => d.round.toNumber() === round)[0],
        { blocks: Math.max(this.deployedAt + ROUND_LENGTH * round - (await this.best()), 1) })).data;
    const roundEnd = Number(started.roundEnd);
    // Every validator claims once a round; a worker whose model did not train may skip one.
    await this.until(`round ${round}: the validators training and claiming`,
      async () => claimsOf().length >= VALIDATORS.length || (this.scanned > roundEnd && claimsOf().length > 0),
      { blocks: Math.max(roundEnd - (await this.best()), 1) });
    const claims = claimsOf();
    const decided = await this.until(`round ${round}: the validators verifying and voting`, () => {
      const d = claims.map((c) => ofTask('builderMarket.UpdateDecided', (x) => x.claim.eq(c.data.claim))[0]);
      return d.every(Boolean) && d;
    }, { blocks: 45 });
    const result = claims.map((c, i) => ({
      trainer: nameOf(c.data.trainer),
      claim: c.data.claim.toNumber(),
      // Sealed when claimed; revealed by the trainer once the votes were committed.
      claimed: this.of('weightedVoting.ClaimedScoreRevealed', (d) => d.claim.eq(c.data.claim)).map((e) => e.data.score.toNumber())[0],
      outcome: decided[i].data.outcome.toString(),
      verified: decided[i].data.verified.isSome ? decided[i].data.verified.unwrap().toNumber() : undefined,
      decidedAt: decided[i].n,
      slashed: this.of('weightedVoting.ClaimantSlashed', (d) => d.claim.eq(c.data.claim)).map((e) => e.data.fraction.toNumber()),
    }));
    const versions = ofTask('builderMarket.VersionAccepted').filter((v) => decided.some((d) => d.n === v.n))
      .map((v) => ({ version: v.data.version.toNumber(), metric: v.data.metric.toNumber(), contributors: v.data.contributors.toNumber() }));
    return { round, roundEnd, claims: result, versions };
  }

  /**
   * The latest accepted version re-evaluated by the test itself: its payload taken from a
   * validator's model store (`<base>/chains/<id>/loopx-models`) and scored on the demo
   * evaluation set by `loopx-node evaluate-model`, outside every worker.
   */
  async reevaluate(holder = 'alice') {
    const versions = await this.api.call.builderMarketApi.versions(this.task);
    const [version, hash, metric] = versions[versions.length - 1];
    const spec = (await this.api.query.builderMarket.tasks(this.task)).unwrap().spec;
    const chains = join(this.netDir, holder, 'chains');
    const file = readdirSync(chains).map((id) => join(chains, id, 'loopx-models', `${hash.toHex().slice(2)}.payload`)).find(existsSync);
    if (!file) throw new Error(`${holder} holds no payload of version ${version.toNumber()} (${hash.toHex()})`);
    const r = runNode(['evaluate-model', '--spec', spec.toHex(), '--payload', file]);
    if (r.status !== 0) throw new Error(`evaluate-model failed: ${r.stderr}`);
    return { version: version.toNumber(), chainHash: hash.toHex(), onChain: metric.toNumber(), file, ...JSON.parse(r.stdout) };
  }

  /** The bounty paid to each trainer so far (rounds are paid once their claims are decided). */
  bountyPaid() {
    const paid = {};
    for (const e of this.of('builderMarket.TrainerPaid', (d) => d.task.toNumber() === this.task)) {
      const name = nameOf(e.data.trainer);
      paid[name] = (paid[name] ?? 0n) + e.data.amount.toBigInt();
    }
    return paid;
  }

  /** What became of a cheat: reputation changes, slashes, and its weight at each election. */
  async cheat(name = 'charlie') {
    const who = ADDR[name];
    const slashes = this.of('stakeReputation.Slashed', (d) => d.who.toString() === who);
    const reputation = this.of('stakeReputation.ReputationChanged', (d) => d.who.toString() === who)
      // (By position: polkadot.js gives event data no getter named `new`.)
      .map(({ n, data: [, old, now, reason] }) => ({ n, old: old.toNumber(), new: now.toNumber(), reason: reason.toString() }));
    const firstSlash = slashes[0]?.n;
    // The first election after the first slash.
    const weightIn = (e) => e.data.validators.find((v) => v.who.toString() === who)?.weight.toNumber();
    const electedAfter = await this.until(`the first election after ${name}'s slash`,
      () => this.of('stakeReputation.ValidatorsElected', (d, e) => firstSlash !== undefined && e.n > firstSlash)[0], { blocks: 20 });
    const before = this.of('stakeReputation.ValidatorsElected', (d, e) => e.n <= firstSlash).pop();
    return {
      slashes: slashes.map((e) => ({ n: e.n, own: e.data.own?.toBigInt() })),
      // Every change (his honest votes on the others' claims earn a little back), the
      // reputation he started with and the one he has now.
      reputation,
      reputationBefore: this.initialReputations?.[name],
      reputationNow: (await this.api.call.stakeReputationApi.reputation(who)).toNumber(),
      weightBefore: before ? weightIn(before) : this.initialWeights?.[name],
      weightAfter: weightIn(electedAfter),
      electedAt: electedAfter.n,
    };
  }

  /** ⑤ Ferdie's SQL aggregation and inference queries, answered by every validator. */
  async queries() {
    const api = this.api;
    const versions = await api.call.builderMarketApi.versions(this.task);
    const version = versions[versions.length - 1][0].toNumber();
    await this.until(`the four validators serving version ${version}`, async () => {
      for (const name of VALIDATORS) {
        const c = await api.call.computeMarketApi.capabilities(ADDR[name]);
        if (c.isNone || !c.unwrap().models.some(([t, v]) => t.toNumber() === this.task && v.toNumber() === version)) return false;
      }
      return true;
    }, { blocks: 10 });
    const deadline = (await this.best()) + 60;
    const post = async (kind) => {
      const { events } = await sendChecked(api, api.tx.computeMarket.postQuery(kind, QUERY_FEE, VALIDATORS.length, ANYONE, deadline), this.ferdie);
      return events.find(({ event }) => api.events.computeMarket.QueryPosted.is(event)).event.data.query.toNumber();
    };
    // The attack that slashed every honest answerer before: SQL whose value differs per node.
    // It is refused with a named error (a failed call changes nothing but the fee).
    await sendChecked(api, api.tx.computeMarket.postQuery({ Aggregation: { sql: 'SELECT random() AS r', dataset: 'wallet-demo' } },
      QUERY_FEE, VALIDATORS.length, ANYONE, deadline), this.ferdie, { expectError: 'computeMarket.NonDeterministicSql' });
    const sql = await post({ Aggregation: { sql: SQL, dataset: 'wallet-demo' } });
    const inference = await post({ Inference: { model: this.task, version, input: INFERENCE_INPUT } });
    // Past the shape check (a quoted function name, an endless loop), the engine is the
    // authority: every node gives the same error answer, counted in steps, not seconds.
    const hidden = await post({ Aggregation: { sql: 'SELECT "random"() AS r', dataset: 'wallet-demo' } });
    const clock = await post({ Aggregation: { sql: 'SELECT "datetime"(\'now\') AS t', dataset: 'wallet-demo' } });
    const endless = await post({ Aggregation: { sql: ENDLESS_SQL, dataset: 'wallet-demo' } });
    const answered = async (query) => {
      const e = await this.until(`query #${query} answered`, () => this.of('computeMarket.QueryAnswered', (d) => d.query.toNumber() === query)[0], { blocks: 25 });
      return {
        query,
        result: u8aToString(e.data.result),
        answerers: e.data.answerers.map(nameOf),
        paid: this.of('computeMarket.AnswerPaid', (d) => d.query.toNumber() === query).map((p) => ({ who: nameOf(p.data.who), amount: p.data.amount.toBigInt() })),
        protocolFee: this.of('computeMarket.ProtocolFeePaid', (d) => d.query.toNumber() === query).reduce((s, p) => s + p.data.amount.toBigInt(), 0n),
      };
    };
    const answers = { sql: await answered(sql), inference: await answered(inference), hidden: await answered(hidden), clock: await answered(clock), endless: await answered(endless) };
    const claims = this.of('weightedVoting.ClaimOpened', (d) => d.class.isQueryResult).length;
    return { fee: QUERY_FEE, version, ...answers, queryClaims: claims };
  }

  /**
   * ⑥ Waits for the next era end, then Ferdie pays out everything the validators, Eve (data
   * sales) and Ferdie (building) have earned (`rewards.payoutFor`, anyone may call it). Returns the eras' summaries and payouts.
   */
  async rewards() {
    const api = this.api;
    const from = this.scanned;
    const ended = await this.until('the era ending', () => this.of('rewards.EraEnded', (d, e) => e.n > from)[0], { blocks: 20 });
    const payouts = [];
    for (const name of [...VALIDATORS, 'eve', 'ferdie']) {
      const pending = (await api.call.rewardsApi.pendingRewards(ADDR[name])).filter(([, amount]) => amount.toBigInt() > 0n);
      if (pending.length === 0) continue;
      const calls = pending.map(([era]) => api.tx.rewards.payoutFor(era, ADDR[name]));
      const { events, blockHash } = await sendChecked(api, api.tx.utility.batchAll(calls), this.ferdie);
      const paid = events.filter(({ event }) => api.events.rewards.Rewarded.is(event)).map(({ event }) => event.data.amount.toBigInt());
      payouts.push({
        name,
        eras: pending.length,
        pending: pending.reduce((s, [, a]) => s + a.toBigInt(), 0n),
        paid: paid.reduce((s, a) => s + a, 0n),
        block: (await api.rpc.chain.getHeader(blockHash)).number.toNumber(),
      });
    }
    const eras = this.of('rewards.EraEnded');
    return {
      era: ended.data.era.toNumber(),
      eras: eras.length,
      minted: eras.reduce((s, e) => s + e.data.summary.minted.toBigInt(), 0n),
      fees: eras.reduce((s, e) => s + e.data.summary.fees.toBigInt(), 0n),
      payouts,
      lastBlock: Math.max(...payouts.map((p) => p.block)),
    };
  }

  /**
   * Total issuance from genesis to block `n` against what was minted (era emissions) and
   * burned (burns and dust) in between, from the events of every block.
   */
  async issuance(n) {
    await this.until(`block ${n} finalized`, async () => this.scanned >= n, { blocks: 3 });
    const upTo = (e) => e.n <= n;
    const sum = (name, field) => this.of(name).filter(upTo).reduce((s, e) => s + e.data[field].toBigInt(), 0n);
    const minted = this.of('rewards.EraEnded').filter(upTo).reduce((s, e) => s + e.data.summary.minted.toBigInt(), 0n);
    const burned = sum('balances.Burned', 'amount') + sum('balances.DustLost', 'amount');
    const at = async (k) => (await (await this.api.at(await this.api.rpc.chain.getBlockHash(k))).query.balances.totalIssuance()).toBigInt();
    return { block: n, start: await at(0), end: await at(n), minted, burned };
  }
}
