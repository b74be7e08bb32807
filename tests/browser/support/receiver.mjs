// Starts a test receiver of tests/support (webhook_receiver.mjs, otlp_receiver.mjs) as a test
// would: from another working directory, reading the port from the first line of its stdout
// within a bounded time.
import { spawn } from 'node:child_process';

export function startReceiver(script, args, { cwd = '/', env = process.env } = {}) {
  const child = spawn(process.execPath, [script, ...args], { cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  const port = new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`no port within 10 s; stderr: ${stderr}`)), 10_000);
    child.stdout.on('data', (d) => {
      out += d;
      const nl = out.indexOf('\n');
      if (nl >= 0) {
        clearTimeout(timer);
        resolve(Number(out.slice(0, nl)));
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${code} before listening; stderr: ${stderr}`));
    });
  });
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return { child, port, exited, stderr: () => stderr };
}
