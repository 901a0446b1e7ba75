// Runs the end-to-end test files several at a time, each in its own `node --test` process and
// process group, with its own port offset (LOOPX_PORT_OFFSET, read by lib/node.mjs and
// scripts/local-net.sh), so that files that mostly wait for blocks wait together.
//
//   node run.mjs [file...]        every tests/*.test.mjs, or the named files
//
// LOOPX_E2E_JOBS: files at once (default 4). LOOPX_E2E_FILE_TIMEOUT: seconds one file may take
// before its whole process group is killed (default 1,800). LOOPX_TEST_TIMES: a `file<TAB>seconds`
// file to append each file's duration to. Files start longest first (DEFAULT_ORDER, then the
// times in that file or `<it>.last`, scripts/test.sh's copy of the previous run), so that the
// longest file does not start last. A file's output is
// printed whole when it ends, and kept in $LOOPX_E2E_LOGS (default a temporary directory), with
// the node logs of a file that failed in `<file>-nodes/`.
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const JOBS = Math.max(1, Number(process.env.LOOPX_E2E_JOBS ?? 4));
const FILE_TIMEOUT_S = Number(process.env.LOOPX_E2E_FILE_TIMEOUT ?? 1_800);
const TIMES = process.env.LOOPX_TEST_TIMES;
const LOGS = process.env.LOOPX_E2E_LOGS ?? mkdtempSync(join(tmpdir(), 'loopx-e2e-logs-'));
// Port offsets of the concurrent slots. lib/node.mjs's ports span 9615–9978 and 30333–30378:
// a step of 400 keeps every slot's RPC and Prometheus ranges apart, and four slots keep p2p
// ports below the kernel's ephemeral range (32768 on).
const OFFSET_STEP = 400;

// Longest first (measured on the 2-core machine, 2026-12-03).
const DEFAULT_ORDER = ['full-cycle', 'stake-reputation', 'fault-tolerance', 'stake-changes', 'worker-learning', 'partition', 'equivocation',
  'worker-disputes', 'runtime-upgrade', 'governance', 'chain-queries', 'data-disputes', 'builder-market', 'voting-rewards', 'local-net', 'worker-garbage', 'worker-deals',
  'compute-market', 'worker-queries', 'data-market', 'cli-subcommands', 'dev-chain', 'cli'];

const files = (process.argv.slice(2).length > 0 ? process.argv.slice(2)
  : readdirSync(join(HERE, 'tests')).filter((f) => f.endsWith('.test.mjs')).sort().map((f) => join('tests', f)))
  .map((f) => relative(HERE, join(process.cwd(), f)) || f);
const nameOf = (file) => basename(file).replace(/\.test\.mjs$/, '');

function knownTimes() {
  const times = {};
  for (const path of TIMES ? [`${TIMES}.last`, TIMES] : []) {
    if (!existsSync(path)) continue;
    for (const line of readFileSync(path, 'utf8').split('\n')) {
      const [file, seconds] = line.split('\t');
      if (file && Number.isFinite(Number(seconds))) times[nameOf(file)] = Number(seconds);
    }
  }
  return times;
}
const earlier = knownTimes();
const rank = (f) => {
  const i = DEFAULT_ORDER.indexOf(nameOf(f));
  return i < 0 ? DEFAULT_ORDER.length : i;
};
// The hand-kept order first (a file that failed early has a short time that says nothing of its
// real length), then files it does not name, longest first by the earlier run.
const queue = [...files].sort((a, b) => rank(a) - rank(b) || (earlier[nameOf(b)] ?? -1) - (earlier[nameOf(a)] ?? -1));
if (TIMES) {
  // This run's times replace the e2e lines of an earlier run; other lines (the Rust tests) stay.
  const kept = existsSync(TIMES) ? readFileSync(TIMES, 'utf8').split('\n').filter((l) => l && !l.startsWith('e2e/')) : [];
  writeFileSync(TIMES, kept.map((l) => `${l}\n`).join(''));
}
mkdirSync(LOGS, { recursive: true });

const nodeLogs = (file) => join(LOGS, `${nameOf(file)}-nodes`);

/** Runs one file in slot `slot`; resolves with its counts, duration and whether it passed. */
function runFile(file, slot) {
  return new Promise((resolve) => {
    const started = Date.now();
    let output = '';
    const child = spawn(process.execPath, ['--test', '--test-reporter=spec', file], {
      cwd: HERE,
      // LOOPX_E2E_NODE_LOGS: where the file's local networks leave their node logs (lib/node.mjs
      // disposeNet); kept only if the file fails.
      env: { ...process.env, LOOPX_PORT_OFFSET: `${slot * OFFSET_STEP}`, FORCE_COLOR: '0', LOOPX_E2E_NODE_LOGS: nodeLogs(file) },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // its own process group: nodes it leaves behind die with it
    });
    child.stdout.on('data', (d) => { output += d; });
    child.stderr.on('data', (d) => { output += d; });
    const killGroup = (signal) => { try { process.kill(-child.pid, signal); } catch { /* gone */ } };
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup('SIGTERM');
      setTimeout(() => killGroup('SIGKILL'), 15_000).unref();
    }, FILE_TIMEOUT_S * 1_000);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      // Whatever the file started and did not stop (a node of a crashed test) goes now.
      killGroup('SIGKILL');
      const seconds = (Date.now() - started) / 1_000;
      const count = (label) => Number(output.match(new RegExp(`^ℹ ${label} (\\d+)$`, 'm'))?.[1] ?? 0);
      let [pass, fail] = [count('pass'), count('fail')];
      const ok = code === 0 && !timedOut && fail === 0;
      if (!ok && fail === 0) fail = 1; // crashed or hung before it could count
      if (timedOut) output += `\n[e2e] ${file}: killed after ${FILE_TIMEOUT_S} s\n`;
      else if (code !== 0) output += `\n[e2e] ${file}: exited with ${code ?? signal}\n`;
      writeFileSync(join(LOGS, `${nameOf(file)}.log`), output);
      if (ok) rmSync(nodeLogs(file), { recursive: true, force: true });
      else if (existsSync(nodeLogs(file))) output += `[e2e] ${file}: node logs kept in ${nodeLogs(file)}\n`;
      resolve({ file, seconds, pass, fail, ok, timedOut, output });
    });
  });
}

const results = [];
const freeSlots = Array.from({ length: JOBS }, (_, i) => i);
const began = Date.now();
await new Promise((done) => {
  let running = 0;
  const next = () => {
    if (queue.length === 0 && running === 0) return done();
    while (running < JOBS && queue.length > 0) {
      const file = queue.shift();
      const slot = freeSlots.shift();
      running += 1;
      console.log(`[e2e] start ${file} (slot ${slot}, ports +${slot * OFFSET_STEP})`);
      runFile(file, slot).then((r) => {
        running -= 1;
        freeSlots.push(slot);
        freeSlots.sort((a, b) => a - b);
        results.push(r);
        console.log(`\n===== ${r.file}: ${r.ok ? 'ok' : 'FAILED'} in ${r.seconds.toFixed(0)} s (${r.pass} passed, ${r.fail} failed) =====`);
        process.stdout.write(r.output.endsWith('\n') ? r.output : `${r.output}\n`);
        if (TIMES) appendFileSync(TIMES, `e2e/${r.file}\t${r.seconds.toFixed(1)}\n`);
        next();
      });
    }
  };
  next();
});

const wall = (Date.now() - began) / 1_000;
console.log(`\n[e2e] ${results.length} files in ${(wall / 60).toFixed(1)} min, ${JOBS} at a time (logs in ${LOGS}):`);
for (const r of [...results].sort((a, b) => b.seconds - a.seconds)) {
  console.log(`  ${r.ok ? 'ok    ' : 'FAILED'} ${r.seconds.toFixed(0).padStart(6)} s  ${r.file}${r.timedOut ? ' (timed out)' : ''}`);
}
const passed = results.reduce((s, r) => s + r.pass, 0);
const failed = results.reduce((s, r) => s + r.fail, 0);
console.log(`e2e: ${passed} passed, ${failed} failed`);
process.exit(results.every((r) => r.ok) ? 0 : 1);
