// Starts the real `user-service` binary for the node tests, like the C++ end-to-end tests do:
// a clean environment, 127.0.0.1 on a free port (PORT=0), the port read from the
// `service_started` log line. Stopped with SIGTERM (SIGKILL after a bound) by the test.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

export function binaryPath() {
  const binary = process.env.USER_SERVICE_BINARY;
  if (!binary) throw new Error('USER_SERVICE_BINARY is not set (ctest sets it)');
  return binary;
}

export async function startService(extraEnv = {}) {
  const env = {
    PATH: '/usr/bin:/bin',
    ENV_FILE: '/nonexistent/.env',
    ENVIRONMENT: 'development',
    HOST: '127.0.0.1',
    PORT: '0',
    WORKERS: '2',
    DATABASE_URL: 'sqlite://:memory:',
    JWT_SECRET: 'browser-test-secret-that-is-long-enough-0123456789',
    PASSWORD_HASH_MEMORY_KIB: '8',
    PASSWORD_HASH_ITERATIONS: '1',
    LOG_LEVEL: 'info',
    ...extraEnv,
  };
  const child = spawn(binaryPath(), ['serve'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines = [];
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`service did not start in 30 s: ${stderr}`)),
      30_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`service exited with ${code}: ${stderr} ${lines.join('\n')}`));
    });
    createInterface({ input: child.stdout }).on('line', (line) => {
      lines.push(line);
      try {
        const event = JSON.parse(line);
        if (event.event === 'service_started') {
          clearTimeout(timer);
          resolve(event.port);
        }
      } catch {
        // not JSON: kept in `lines` for the failure message
      }
    });
  });
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    lines,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

// Registers a user and returns its credentials (the users route, not the UI).
export async function registerUser(service, email, name, password) {
  const res = await fetch(`${service.url}/api/v1/users/`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ email, name, password }),
  });
  if (res.status !== 201) throw new Error(`registration: ${res.status} ${await res.text()}`);
  return res.json();
}
