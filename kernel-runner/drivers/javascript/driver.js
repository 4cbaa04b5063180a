'use strict';
/* The JavaScript language driver (protocol/include/sluice/driver.h §1), for Node.js.
 *
 * Requests arrive on fd 3 as JSON lines; events leave on fd 4 (written synchronously). Every cell runs
 * as a vm.Script in one persistent context, so variables (var, let, const, functions) survive between
 * executions. console.log goes to stdout (a pipe: synchronous on Linux, so output precedes `done`);
 * the value of the last expression is the result (util.inspect as text/plain); a returned Promise is
 * awaited. An interrupt (SIGINT) stops a running cell (breakOnSigint) with KeyboardInterrupt; between
 * cells it is ignored. Packages installed by POST .../packages (npm --prefix PACKAGES_DIR) are on the
 * require path from the start (NODE_PATH, after the node_modules chain of the cwd): Node caches only
 * successful lookups, so a require that failed before an install works after it without a restart.
 */
const fs = require('fs');
const path = require('path');
const readline = require('readline');
const util = require('util');
const vm = require('vm');
const Module = require('module');
const { createRequire } = Module;

const PACKAGES_DIR = '/home/user/.local/sluice/node'; // protocol/include/sluice/api_packages.h SL_PKG_NODE_PREFIX
const PACKAGES_MODULES = path.join(PACKAGES_DIR, 'node_modules');
if (!(process.env.NODE_PATH || '').split(path.delimiter).includes(PACKAGES_MODULES)) {
  process.env.NODE_PATH = [PACKAGES_MODULES, process.env.NODE_PATH].filter(Boolean).join(path.delimiter);
  Module._initPaths(); // re-reads NODE_PATH (read once at Node's start)
}

function send(obj) {
  fs.writeSync(4, JSON.stringify(obj) + '\n');
}

const userRequire = createRequire(path.join(process.cwd(), 'index.js'));
const globals = {
  console: new console.Console({ stdout: process.stdout, stderr: process.stderr }),
  require: userRequire, process, Buffer, URL, URLSearchParams, TextEncoder, TextDecoder,
  setTimeout, clearTimeout, setInterval, clearInterval, setImmediate, clearImmediate, queueMicrotask,
  structuredClone, AbortController, fetch: globalThis.fetch,
  module: { exports: {} }, __dirname: process.cwd(), __filename: path.join(process.cwd(), '[cell]'),
};
const context = vm.createContext(globals);
let count = 0;

process.on('SIGINT', () => {}); // idle interrupts are harmless; a running cell is stopped by breakOnSigint

function errorEvent(id, e) {
  let ename = 'Error', evalue, tb;
  if (e && typeof e === 'object' && 'message' in e) {
    ename = e.name || 'Error';
    evalue = String(e.message);
    tb = String(e.stack || `${ename}: ${evalue}`).split('\n');
  } else {
    evalue = util.inspect(e);
    tb = [`Uncaught ${evalue}`];
  }
  if (e && e.code === 'ERR_SCRIPT_EXECUTION_INTERRUPTED') {
    ename = 'KeyboardInterrupt';
    evalue = 'interrupted';
    tb = ['KeyboardInterrupt: the execution was interrupted'];
  }
  send({ type: 'error', id, ename, evalue, traceback: tb });
}

async function execute(req) {
  const id = req.id;
  count += 1;
  let status = 'ok';
  try {
    const script = new vm.Script(req.code, { filename: `<cell ${count}>` });
    let value = script.runInContext(context, { breakOnSigint: true, displayErrors: false });
    if (value && typeof value.then === 'function') value = await value;
    if (value !== undefined && !req.silent) {
      send({ type: 'result', id, data: { 'text/plain': util.inspect(value) }, metadata: {},
             is_main_result: true, execution_count: count });
    }
  } catch (e) {
    status = 'error';
    errorEvent(id, e);
  }
  send({ type: 'done', id, status, execution_count: count });
}

async function main() {
  send({ type: 'ready', language: 'javascript', version: process.version });
  const rl = readline.createInterface({ input: fs.createReadStream(null, { fd: 3 }), crlfDelay: Infinity });
  for await (const line of rl) {
    let req;
    try { req = JSON.parse(line); } catch (e) { continue; }
    if (req.type === 'execute') await execute(req);
  }
  process.exit(0);
}

main();
