// The reference for bench/argon2.sh: @node-rs/argon2 with the same cost, measured like the C++
// candidates: the median of single hashes on one thread, then hashes per second with one loop per
// core (libuv's pool sized to the loops, as a Node service would run it).
// Usage: node node_rs_argon2.mjs MEMORY_KIB ITERATIONS HASHES SECONDS LOOPS
import { hash, hashSync, Algorithm } from '@node-rs/argon2';

const [memoryCost, timeCost, hashes, seconds, loops] = process.argv.slice(2).map(Number);
const options = { algorithm: Algorithm.Argon2id, memoryCost, timeCost, parallelism: 1 };
const password = 'correct horse battery staple';

hashSync(password, options);
const times = [];
for (let i = 0; i < hashes; i++) {
  const start = process.hrtime.bigint();
  hashSync(password, options);
  times.push(Number(process.hrtime.bigint() - start) / 1e6);
}
times.sort((a, b) => a - b);

let done = 0;
let stop = false;
const started = process.hrtime.bigint();
const loop = async () => {
  while (!stop) {
    await hash(password, options);
    done++;
  }
};
const running = Array.from({ length: loops }, loop);
await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
stop = true;
await Promise.all(running);
const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
console.log(JSON.stringify({
  candidate: '@node-rs/argon2 (reference)',
  memory_kib: memoryCost,
  iterations: timeCost,
  ms_per_hash: Number(times[Math.floor(times.length / 2)].toFixed(2)),
  loops,
  hashes_per_second: Number((done / elapsed).toFixed(1)),
}));
