// Shared by the Node.js end-to-end tests: configuration from the environment, starting and
// stopping paybell-server, minting tokens with paybellctl, loading our protos and making unary
// gRPC calls with a deadline.

import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

import grpc from '@grpc/grpc-js';
import protoLoader from '@grpc/proto-loader';

const execFileAsync = promisify(execFile);

export const START_DEADLINE_MS = 20_000;
export const STOP_DEADLINE_MS = 30_000; // the server drains for up to 20 s
export const CALL_DEADLINE_MS = 5_000;

// ---------------------------------------------------------------------------------------------
// Configuration

function requiredEnv(names) {
  const missing = names.filter((name) => !process.env[name]);
  if (missing.length > 0) {
    throw new Error(
      `missing environment variable(s) ${missing.join(', ')}: set PAYBELL_SERVER_BIN and ` +
        'PAYBELL_CTL_BIN to the built binaries and PAYBELL_PROTO_DIR to the repo\'s proto/ dir ' +
        '(ctest does this)');
  }
  return Object.fromEntries(names.map((name) => [name, process.env[name]]));
}

export const ENV = requiredEnv(['PAYBELL_SERVER_BIN', 'PAYBELL_CTL_BIN', 'PAYBELL_PROTO_DIR']);

// The server and paybellctl get a clean environment: no PAYBELL_JWT_SECRET (so the generated
// <data-dir>/jwt-secret is used), no DATABASE_URL (so the embedded SQLite is used), no Stripe
// or SMTP settings (so billing runs in stub mode) unless a test passes them in `extra`.
export function cleanEnv(extra = {}) {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', ...extra };
}

// ---------------------------------------------------------------------------------------------
// Protos

const LOADER_OPTIONS = { keepCase: true, enums: String, longs: String, defaults: true, oneofs: true };

export function loadProto(file, includeDirs) {
  return grpc.loadPackageDefinition(protoLoader.loadSync(file, { ...LOADER_OPTIONS, includeDirs }));
}

// Our services (paybell.v1.*), from PAYBELL_PROTO_DIR.
export function loadPaybell() {
  return loadProto(
    ['paybell/v1/billing.proto', 'paybell/v1/webhook.proto', 'paybell/v1/notification.proto'],
    [ENV.PAYBELL_PROTO_DIR]).paybell.v1;
}

// ---------------------------------------------------------------------------------------------
// Server process

// Starts paybell-server on OS-chosen ports and resolves once it logs its start line.
//   env:  extra environment variables (on top of cleanEnv()).
//   http: also start the HTTP adapter (on 127.0.0.1:0); otherwise it is switched off.
// Resolves to { address, httpPort, httpBase, log(), stop() }.
export async function startServer(dataDir, { env = {}, http = false } = {}) {
  const child = spawn(
    ENV.PAYBELL_SERVER_BIN,
    ['--grpc-listen', '127.0.0.1:0', '--http-listen', http ? '127.0.0.1:0' : '',
      '--data-dir', dataDir],
    { env: cleanEnv(env), stdio: ['ignore', 'ignore', 'pipe'] });
  const exited = new Promise((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  let log = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk) => { log = (log + chunk).slice(-64 * 1024); });

  const ports = await new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no "paybell-server started" line within ${START_DEADLINE_MS} ms; ` +
        `log:\n${log}`)),
      START_DEADLINE_MS);
    const onData = () => {
      const match = /paybell-server started: .*grpc_port=(\d+) http_port=(\d+)/.exec(log);
      if (match) {
        clearTimeout(timer);
        child.stderr.off('data', onData);
        resolve({ grpc: Number(match[1]), http: Number(match[2]) });
      }
    };
    child.stderr.on('data', onData);
    child.once('error', (err) => { clearTimeout(timer); reject(err); });
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`server exited before serving (code ${code}, signal ${signal}); log:\n${log}`));
    });
  }).then((found) => {
    if (!(found.grpc > 0)) throw new Error(`server logged grpc_port=${found.grpc}; log:\n${log}`);
    if (http && !(found.http > 0)) {
      throw new Error(`server logged http_port=${found.http} although HTTP was asked for; ` +
        `log:\n${log}`);
    }
    return found;
  }).catch(async (err) => {
    child.kill('SIGKILL');
    await exited;
    throw err;
  });

  return {
    address: `127.0.0.1:${ports.grpc}`,
    httpPort: http ? ports.http : undefined,
    httpBase: http ? `http://127.0.0.1:${ports.http}` : undefined,
    log: () => log,
    // SIGTERM, then wait for the exit; resolves to { code, signal }.
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      let timer;
      const deadline = new Promise((resolve) => { timer = setTimeout(resolve, STOP_DEADLINE_MS); });
      const result = await Promise.race([exited, deadline]);
      clearTimeout(timer);
      if (result) return result;
      child.kill('SIGKILL');
      await exited;
      throw new Error(`server did not stop within ${STOP_DEADLINE_MS} ms of SIGTERM; log:\n${log}`);
    },
  };
}

export async function stopServerAndAssertClean(server) {
  const { code, signal } = await server.stop();
  assert.equal(signal, null, `server was killed by ${signal}; log:\n${server.log()}`);
  assert.equal(code, 0, `server exited with code ${code}; log:\n${server.log()}`);
}

export async function makeTempDir() {
  return fs.mkdtemp(path.join(os.tmpdir(), 'paybell-e2e-node-'));
}

// `paybellctl token …` for the installation in dataDir.
export async function mintToken(dataDir, ...args) {
  const { stdout } = await execFileAsync(
    ENV.PAYBELL_CTL_BIN, ['--data-dir', dataDir, 'token', ...args],
    { env: cleanEnv(), timeout: CALL_DEADLINE_MS });
  const token = stdout.trim();
  assert.match(token, /^[\w-]+\.[\w-]+\.[\w-]+$/, `paybellctl printed no JWT: ${stdout}`);
  return token;
}

// ---------------------------------------------------------------------------------------------
// gRPC calls

export function deadline() {
  return { deadline: Date.now() + CALL_DEADLINE_MS };
}

function bearer(token) {
  const metadata = new grpc.Metadata();
  if (token) metadata.set('authorization', `Bearer ${token}`);
  return metadata;
}

// A unary call as a promise, with a deadline and an optional bearer token.
export function call(client, method, request, token) {
  return new Promise((resolve, reject) => {
    client[method](request, bearer(token), deadline(), (err, response) => {
      if (err) reject(err); else resolve(response);
    });
  });
}

export async function assertStatus(promise, expectedCode) {
  const name = (code) => Object.keys(grpc.status).find((key) => grpc.status[key] === code);
  await assert.rejects(promise, (err) => {
    assert.equal(err.code, expectedCode,
      `expected ${name(expectedCode)}, got ${name(err.code)}: ${err.details}`);
    return true;
  });
}
