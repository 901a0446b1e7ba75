// The LoopX cycle told as a story (run by scripts/demo.sh). The steps are e2e/lib/cycle.mjs,
// the same the full-cycle test asserts on; this file only narrates what they return.
import { BOUNTY, Cycle, ROUND_LENGTH, ROUNDS, SQL, UNITS } from '../lib/cycle.mjs';

const tty = process.stdout.isTTY;
const paint = (code) => (s) => (tty ? `\x1b[${code}m${s}\x1b[0m` : s);
const bold = paint('1');
const dim = paint('2');
const green = paint('32');
const red = paint('31');
const cyan = paint('36');
const lpx = (plancks) => `${(Number(plancks) / Number(UNITS)).toLocaleString('en', { maximumFractionDigits: 4 })} LPX`;
const auc = (ppm) => (ppm === undefined ? '—' : (ppm / 1e6).toFixed(3));
const Name = (n) => n[0].toUpperCase() + n.slice(1);
const say = (text = '') => console.log(text);
const chapter = (n, title) => say(`\n${bold(cyan(`${n} ${title}`))}\n`);

// A progress bar while a step waits for the chain (one line, redrawn; plain lines without a TTY).
let lastLabel = '';
let lastPrinted = -1;
function onWait(label, done, total, finished) {
  const width = 30;
  const filled = Math.round((width * done) / Math.max(total, 1));
  const bar = `[${'█'.repeat(filled)}${'░'.repeat(width - filled)}]`;
  if (tty) {
    process.stdout.write(`\r  ${bar} ${label} ${dim(`${done}/${total} blocks`)}\x1b[K`);
    if (finished) process.stdout.write(`\r  ${green('✔')} ${label}\x1b[K\n`);
  } else if (finished) {
    say(`  ✔ ${label}`);
  } else if (label !== lastLabel || done >= lastPrinted + 10) {
    say(`  … ${label} (${done}/${total} blocks)`);
    lastPrinted = done;
  }
  if (label !== lastLabel) { lastLabel = label; lastPrinted = done; }
}

const faulty = process.env.DEMO_HONEST !== '1';
const cycle = new Cycle({ netDir: process.env.LOOPX_NET_DIR, faulty, onWait });

async function main() {
  say(bold('LoopX: a blockchain whose validators earn their place by doing machine learning.'));
  say(`Validators are elected by stake × reputation. They buy data from users, train a shared model by
gossip, prove every update on chain and check each other's proofs with weighted commit–reveal
votes. Cheats are slashed, honest work is paid. Everything below happens between real nodes on
this machine; nobody plays a validator's part by hand.`);

  chapter('①', 'The network');
  say(`Starting four validators (Alice, Bob, Charlie, Dave) and Eve's data node${faulty ? `. Charlie runs with a test-only
fault injection: he will claim scores his models do not reach` : ''}.`);
  await cycle.start();
  const net = await cycle.network();
  for (const v of net.validators) {
    say(`  ${Name(v.name).padEnd(8)} stake ${lpx(v.stake).padStart(14)}   reputation ${(v.reputation / 1e6).toFixed(2)}   election weight ${v.weight}`);
  }
  say(`  Alice is connected to ${net.peers} peers. Total issuance: ${lpx(net.issuance)}.`);

  chapter('②', 'A builder deploys a model');
  const deployed = await cycle.deployTask();
  say(`Ferdie wants a fraud detector for wallet transactions. He deploys learning task #${deployed.task}: a
tensor-train classifier (241 parameters instead of 561 dense, sent as int8), scored by AUC on a
held-out evaluation set every validator holds, ${ROUNDS} rounds of ${ROUND_LENGTH} blocks, a bounty of ${lpx(BOUNTY)} held in escrow.`);

  chapter('③', 'The data market');
  say(`Eve's node sells its shard of wallet transactions, and a local model it trains on that shard
once Ferdie's task is on chain. It registered an encryption key and posted offers; each
validator's worker bids for data and models it does not have yet.`);
  const { data, model } = await cycle.dataDeal();
  say(`  Deal #${data.deal}: ${Name(data.buyer)} bought ${data.rows.toLocaleString('en')} rows (${data.bytes.toLocaleString('en')} bytes of CSV) for ${lpx(data.price)}.
  Offered at block #${data.offered}, matched #${data.blocks.matched}. Eve's node sealed the rows to ${Name(data.buyer)}'s key (X25519 +
  ChaCha20-Poly1305) and served them over the node's own deals protocol (#${data.blocks.delivered}); ${Name(data.buyer)}'s worker
  opened them, checked them against the offer's commitment and confirmed (#${data.blocks.settled}).
  Eve received ${lpx(data.toSeller)}; the protocol kept ${lpx(data.protocolFee)}. The bought rows join ${Name(data.buyer)}'s training data.
  Deal #${model.deal}: ${Name(model.buyer)} bought Eve's local model (${model.bytes.toLocaleString('en')} bytes of int8 tensor-train cores,
  trained on her ${model.rows.toLocaleString('en')} rows) for ${lpx(model.price)}; checked as a model of the task, it joins ${Name(model.buyer)}'s next merge.`);

  chapter('④', 'Gossip learning, proved and voted on');
  say(`Each round every validator merges the models it fetched from its peers, trains on its own data,
scores the result and claims it on chain. The others fetch the claimed model by hash, score it
themselves and vote: commit a hidden verdict, then reveal it. Weighted by stake × reputation,
the votes accept or reject the claim.`);
  for (let round = 0; round < ROUNDS; round++) {
    const r = await cycle.round(round);
    say(`  Round ${round}:`);
    for (const c of r.claims) {
      const verdict = c.outcome === 'Accepted' ? green('accepted') : red(c.outcome.toLowerCase());
      say(`    ${Name(c.trainer).padEnd(8)} claimed AUC ${auc(c.claimed)}, voters measured ${auc(c.verified)}: ${verdict}${c.slashed.length ? red('  → slashed') : ''}`);
    }
    for (const v of r.versions) say(`    ${green('▲')} version ${v.version} of the model: AUC ${auc(v.metric)}`);
  }
  const e = await cycle.reevaluate('alice');
  say(`  Checked again outside the workers (loopx-node evaluate-model on Alice's copy of version ${e.version}):
  AUC ${auc(e.metricPpm)} on the ${e.rows.toLocaleString('en')} held-out rows, ${e.metricPpm === e.onChain ? green('as the chain recorded') : red(`the chain recorded ${auc(e.onChain)}`)}.`);
  const paid = cycle.bountyPaid();
  say(`  Bounty paid to the trainers: ${Object.entries(paid).map(([n, a]) => `${Name(n)} ${lpx(a)}`).join(', ') || 'nothing yet'}.`);

  if (faulty) {
    chapter('⑤', 'A cheat is caught');
    const c = await cycle.cheat('charlie');
    say(`  Charlie's forged claims were rejected; he was slashed ${c.slashes.length} time(s).`);
    for (const r of c.reputation.filter((x) => x.new < x.old)) {
      say(`  Reputation ${(r.old / 1e6).toFixed(3)} → ${(r.new / 1e6).toFixed(3)} (${r.reason}, block #${r.n})`);
    }
    say(`  His honest votes on the others' claims earned a little back; in all ${(c.reputationBefore / 1e6).toFixed(3)} → ${(c.reputationNow / 1e6).toFixed(3)}.`);
    say(`  His election weight fell from ${c.weightBefore} to ${c.weightAfter} at the next election (block #${c.electedAt}):
  fewer blocks, less say in votes.`);
  }

  chapter(faulty ? '⑥' : '⑤', 'Clients ask questions');
  const q = await cycle.queries();
  say(`  Ferdie paid ${lpx(q.fee)} for an SQL aggregation over the demo data every validator holds:
    ${dim(SQL)}
  Every validator ran it in its embedded SQLite, committed, then revealed. ${q.sql.answerers.length} agreeing answers:`);
  for (const line of q.sql.result.trimEnd().split('\n')) say(`      ${line.split('\t').map((c) => c.padEnd(20)).join('')}`);
  say(`  And ${lpx(q.fee)} for a fraud score of two transactions from version ${q.version} of Ferdie's model:`);
  for (const line of q.inference.result.trimEnd().split('\n')) say(`      ${line}`);
  say(`  Each answerer was paid ${lpx(q.sql.paid[0].amount)} a query; the protocol kept ${lpx(q.sql.protocolFee)}.
  SQL whose value would differ between nodes cannot get honest answerers slashed: \`SELECT random()\` was
  refused when posted (computeMarket.NonDeterministicSql); a quoted "random"() and an endless loop were
  answered by all ${q.endless.answerers.length} engines alike: ${JSON.stringify(q.hidden.result.trim())} and ${JSON.stringify(q.endless.result.trim())}.`);

  chapter(faulty ? '⑦' : '⑥', 'Rewards at era end');
  const r = await cycle.rewards();
  say(`  ${r.eras} eras have ended. Each minted new tokens into the reward pot (${lpx(r.minted)} in all) and collected
  fees (${lpx(r.fees)}), then split it over block production, learning, verification, answers,
  data sales and building by the points each account earned. Ferdie paid everyone out:`);
  for (const p of r.payouts) say(`    ${Name(p.name).padEnd(8)} ${lpx(p.paid).padStart(16)} for ${p.eras} era(s)`);
  const i = await cycle.issuance(r.lastBlock);
  const ok = i.end === i.start + i.minted - i.burned;
  say(`  Total issuance ${lpx(i.start)} → ${lpx(i.end)}: minted ${lpx(i.minted)}, burned ${lpx(i.burned)}; ${ok ? green('conserved to the last unit') : red('NOT conserved')}.`);
  say(`\n${bold('That is the whole cycle.')} docs/operators-guide.md tells how to run each part yourself (scripts/local-net.sh,
polkadot.js Apps on ws://127.0.0.1:9944) and where each idea comes from.`);
  if (!ok) process.exitCode = 1;
}

try {
  await main();
} catch (e) {
  say(`\n${red('The demo stopped:')} ${e.message}`);
  process.exitCode = 1;
} finally {
  await cycle.stop().catch(() => {});
  process.exit();
}
