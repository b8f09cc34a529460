// The reference JSONata (npm jsonata, pinned in package.json) with Step Functions' additions, for the
// differential test. One process evaluates every case:
//   node jsonata_reference.js CASES.json    -> a JSON array of answers on stdout
//   node jsonata_reference.js --serve       -> one case per stdin line, one answer per stdout line
// A case is {"expression", "bindings", "nowMs"}; an answer is {"json": JSON.stringify(result)},
// {"undefined": true}, {"function": true} or {"error": code, "message": ...}.
"use strict";

const crypto = require("crypto");
const fs = require("fs");
const readline = require("readline");
const jsonata = require("jsonata");

// $now() and $millis() read `new Date()` at the start of each evaluation: answer with the case's clock.
const RealDate = Date;
let fixedMs = null;
class CaseDate extends RealDate {
  constructor(...args) {
    if (args.length === 0 && fixedMs !== null) super(fixedMs);
    else super(...args);
  }
  static now() {
    return fixedMs === null ? RealDate.now() : fixedMs;
  }
}
global.Date = CaseDate;

function fail(message) {
  throw { code: "States.QueryEvaluationError", message };
}

const HASHES = { MD5: "md5", "SHA-1": "sha1", "SHA-256": "sha256", "SHA-384": "sha384", "SHA-512": "sha512" };

// Step Functions' functions (AWS docs, "Transforming data with JSONata in Step Functions").
const STEP_FUNCTIONS = {
  parse: [(text) => (text === undefined ? undefined : JSON.parse(text)), "<s-:x>"],
  partition: [
    (array, size) => {
      const items = Array.isArray(array) ? array : [array];
      if (!Number.isInteger(size) || size < 1) fail("$partition: the chunk size must be a positive integer");
      const chunks = [];
      for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
      return chunks;
    },
    "<an:a>",
  ],
  range: [
    (first, last, step) => {
      if (![first, last, step].every(Number.isInteger) || step === 0) fail("$range: integers, step not 0");
      const out = [];
      for (let v = first; step > 0 ? v <= last : v >= last; v += step) out.push(v);
      return out;
    },
    "<nnn:a<n>>",
  ],
  hash: [
    (value, algorithm) => {
      if (!(algorithm in HASHES)) fail("$hash: unknown algorithm");
      return crypto.createHash(HASHES[algorithm]).update(String(value), "utf8").digest("hex");
    },
    "<s-s:s>",
  ],
  uuid: [() => crypto.randomUUID(), "<:s>"],
  eval: [() => fail("$eval is not available in Step Functions"), "<sx?:x>"],
};

const compiled = new Map(); // each expression text is parsed once, as a persistent worker would

function compile(text) {
  let expression = compiled.get(text);
  if (expression === undefined) {
    expression = jsonata(text);
    for (const [name, [impl, signature]] of Object.entries(STEP_FUNCTIONS)) {
      expression.registerFunction(name, impl, signature);
    }
    compiled.set(text, expression);
  }
  return expression;
}

async function answer(testCase) {
  fixedMs = testCase.nowMs ?? null;
  try {
    const expression = compile(testCase.expression);
    const result = await expression.evaluate(undefined, testCase.bindings || {});
    if (result === undefined) return { undefined: true };
    if (typeof result === "function" || (result && result._jsonata_lambda)) return { function: true };
    return { json: JSON.stringify(result) };
  } catch (err) {
    return { error: err.code || "Error", message: err.message || String(err) };
  } finally {
    fixedMs = null;
  }
}

async function main() {
  if (process.argv[2] === "--serve") {
    const lines = readline.createInterface({ input: process.stdin });
    for await (const line of lines) {
      process.stdout.write(JSON.stringify(await answer(JSON.parse(line))) + "\n");
    }
    return;
  }
  const cases = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
  const answers = [];
  for (const testCase of cases) answers.push(await answer(testCase));
  process.stdout.write(JSON.stringify(answers));
}

main().catch((err) => {
  process.stderr.write(String(err && err.stack ? err.stack : err) + "\n");
  process.exit(1);
});
