import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { freePort } from "../../support/free-port.js";
import { waitFor } from "../../support/wait.js";

const run = promisify(execFile);

/**
 * Real Redis topologies made of `redis-server` processes on loopback ports, for the scale
 * suite: a three-master Cluster, a primary with a replica under three sentinels, and a TLS
 * server. Everything is killed when the test process exits, however it exits.
 */
const running = new Set<ChildProcess>();
const dirs = new Set<string>();
process.once("exit", () => {
  for (const child of running) child.kill("SIGKILL");
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

export function scratchDir(what: string): string {
  const dir = mkdtempSync(join(tmpdir(), `relay-${what}-`));
  dirs.add(dir);
  return dir;
}

export interface RedisProcess {
  port: number;
  /** SIGKILL: the server is gone at once, as when its machine dies. */
  kill(): Promise<void>;
}

/** Starts `redis-server` with these arguments and waits until `ready` says it answers. */
async function startProcess(args: string[], port: number, ready: () => Promise<boolean>): Promise<RedisProcess> {
  const child = spawn("redis-server", args, { stdio: ["ignore", "ignore", "pipe"] });
  running.add(child);
  let exited = false;
  let stderr = "";
  child.stderr?.on("data", (chunk) => {
    stderr += String(chunk);
  });
  child.once("exit", () => {
    exited = true;
    running.delete(child);
  });
  await waitFor(
    async () => {
      if (exited) throw new Error(`redis-server ${args.join(" ")} exited: ${stderr.trim() || "no output"}`);
      return (await ready().catch(() => false)) || undefined;
    },
    { what: `redis-server on port ${port}`, timeoutMs: 15_000 },
  );
  return {
    port,
    async kill() {
      if (exited) return;
      const gone = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGKILL");
      await gone;
    },
  };
}

async function cli(port: number, ...command: string[]): Promise<string> {
  const { stdout } = await run("redis-cli", ["-h", "127.0.0.1", "-p", String(port), ...command]);
  return stdout.trim();
}

const common = ["--bind", "127.0.0.1", "--save", "", "--maxmemory-policy", "noeviction", "--loglevel", "warning"];

export interface RedisCluster {
  /** `redis://127.0.0.1:<port>` of each master. */
  nodes: string[];
  stop(): Promise<void>;
}

/** Three masters with `--cluster-enabled yes`, joined by `redis-cli --cluster create`, every slot covered. */
export async function startRedisCluster(): Promise<RedisCluster> {
  const dir = scratchDir("cluster");
  const ports = [await freePort(), await freePort(), await freePort()];
  const servers = await Promise.all(
    ports.map((port) =>
      startProcess(
        [
          "--port",
          String(port),
          "--dir",
          dir,
          "--cluster-enabled",
          "yes",
          "--cluster-config-file",
          `nodes-${port}.conf`,
          "--cluster-node-timeout",
          "2000",
          "--appendonly",
          "no",
          ...common,
        ],
        port,
        async () => (await cli(port, "ping")) === "PONG",
      ),
    ),
  );
  await run("redis-cli", ["--cluster", "create", ...ports.map((port) => `127.0.0.1:${port}`), "--cluster-yes"]);
  await waitFor(
    async () => {
      const states = await Promise.all(ports.map((port) => cli(port, "cluster", "info")));
      return states.every((info) => info.includes("cluster_state:ok")) || undefined;
    },
    { what: "the cluster to cover every slot", timeoutMs: 15_000 },
  );
  return {
    nodes: ports.map((port) => `redis://127.0.0.1:${port}`),
    async stop() {
      await Promise.all(servers.map((server) => server.kill()));
    },
  };
}

export interface SentinelSet {
  /** The name the sentinels know the primary by. */
  name: string;
  /** `127.0.0.1:<port>` of each sentinel. */
  sentinels: string[];
  primary: RedisProcess;
  replica: RedisProcess;
  /** The port of the primary the sentinels name now. */
  currentPrimaryPort(): Promise<number>;
  stop(): Promise<void>;
}

/**
 * A primary, one replica, and three sentinels with a quorum of two that declare the primary
 * down after one second. The primary takes writes only while its replica keeps up
 * (`min-replicas-to-write 1`), and each server keeps an AOF fsynced every second.
 */
export async function startSentinelSet(): Promise<SentinelSet> {
  const name = "relayprimary";
  const dir = scratchDir("sentinel");
  const [primaryPort, replicaPort] = [await freePort(), await freePort()];
  const durable = ["--appendonly", "yes", "--appendfsync", "everysec"];
  const primary = await startProcess(
    [
      "--port",
      String(primaryPort),
      "--dir",
      join(dir),
      "--appendfilename",
      "primary.aof",
      "--appenddirname",
      "primary-aof",
      ...durable,
      // Refuse writes (so ingest answers 503) when no replica has acknowledged the stream for 10 s.
      "--min-replicas-to-write",
      "1",
      "--min-replicas-max-lag",
      "10",
      ...common,
    ],
    primaryPort,
    async () => (await cli(primaryPort, "ping")) === "PONG",
  );
  const replica = await startProcess(
    [
      "--port",
      String(replicaPort),
      "--dir",
      dir,
      "--appendfilename",
      "replica.aof",
      "--appenddirname",
      "replica-aof",
      ...durable,
      "--replicaof",
      "127.0.0.1",
      String(primaryPort),
      ...common,
    ],
    replicaPort,
    async () => (await cli(replicaPort, "info", "replication")).includes("master_link_status:up"),
  );
  const sentinelPorts = [await freePort(), await freePort(), await freePort()];
  const sentinels = await Promise.all(
    sentinelPorts.map(async (port) => {
      const file = join(dir, `sentinel-${port}.conf`);
      // Sentinel rewrites its config file as it learns, so each has a writable one of its own.
      writeFileSync(
        file,
        [
          `port ${port}`,
          "bind 127.0.0.1",
          `dir ${dir}`,
          `sentinel monitor ${name} 127.0.0.1 ${primaryPort} 2`,
          `sentinel down-after-milliseconds ${name} 1000`,
          `sentinel failover-timeout ${name} 5000`,
          `sentinel parallel-syncs ${name} 1`,
          "",
        ].join("\n"),
      );
      return startProcess([file, "--sentinel", "--loglevel", "warning"], port, async () =>
        (await cli(port, "sentinel", "get-master-addr-by-name", name)).includes(String(primaryPort)),
      );
    }),
  );
  // Sentinels must know each other and the replica before a failover can happen.
  await waitFor(
    async () => {
      const views = await Promise.all(sentinelPorts.map((port) => cli(port, "sentinel", "master", name)));
      return views.every((view) => /num-other-sentinels\n2\b/.test(view) && /num-slaves\n1\b/.test(view)) || undefined;
    },
    { what: "the sentinels to find each other and the replica", timeoutMs: 20_000 },
  );
  return {
    name,
    sentinels: sentinelPorts.map((port) => `127.0.0.1:${port}`),
    primary,
    replica,
    async currentPrimaryPort() {
      const answer = await cli(sentinelPorts[0] ?? 0, "sentinel", "get-master-addr-by-name", name);
      return Number(answer.split("\n")[1]);
    },
    async stop() {
      await Promise.all([...sentinels, primary, replica].map((server) => server.kill()));
    },
  };
}

export interface TlsFiles {
  dir: string;
  ca: string;
  /** A certificate and key the CA signed for 127.0.0.1 and localhost: the server's, and a client's. */
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  /** Another CA, which signed nothing here. */
  otherCa: string;
}

/** A test CA, and certificates it signed, made with openssl. */
export async function makeTlsFiles(): Promise<TlsFiles> {
  const dir = scratchDir("tls");
  const at = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => run("openssl", args);
  for (const ca of ["ca", "other-ca"]) {
    await openssl(
      "req",
      "-x509",
      "-new",
      "-nodes",
      "-newkey",
      "rsa:2048",
      "-days",
      "2",
      "-subj",
      `/CN=ticket-relay test ${ca}`,
      "-keyout",
      at(`${ca}.key`),
      "-out",
      at(`${ca}.crt`),
    );
  }
  writeFileSync(at("san.ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n");
  for (const who of ["server", "client"]) {
    await openssl(
      "req",
      "-new",
      "-nodes",
      "-newkey",
      "rsa:2048",
      "-subj",
      `/CN=${who}`,
      "-keyout",
      at(`${who}.key`),
      "-out",
      at(`${who}.csr`),
    );
    await openssl(
      "x509",
      "-req",
      "-in",
      at(`${who}.csr`),
      "-CA",
      at("ca.crt"),
      "-CAkey",
      at("ca.key"),
      "-CAcreateserial",
      "-days",
      "2",
      "-extfile",
      at("san.ext"),
      "-out",
      at(`${who}.crt`),
    );
  }
  return {
    dir,
    ca: at("ca.crt"),
    serverCert: at("server.crt"),
    serverKey: at("server.key"),
    clientCert: at("client.crt"),
    clientKey: at("client.key"),
    otherCa: at("other-ca.crt"),
  };
}

/** `redis-server --tls-port … --port 0`: TLS only, client certificates required. */
export async function startTlsRedis(files: TlsFiles): Promise<RedisProcess & { url: string }> {
  const port = await freePort();
  const server = await startProcess(
    [
      "--port",
      "0",
      "--tls-port",
      String(port),
      "--tls-cert-file",
      files.serverCert,
      "--tls-key-file",
      files.serverKey,
      "--tls-ca-cert-file",
      files.ca,
      "--tls-auth-clients",
      "yes",
      "--dir",
      files.dir,
      "--appendonly",
      "no",
      ...common,
    ],
    port,
    async () =>
      (await cli(port, "--tls", "--cacert", files.ca, "--cert", files.clientCert, "--key", files.clientKey, "ping")) ===
      "PONG",
  );
  return { ...server, url: `rediss://127.0.0.1:${port}` };
}
