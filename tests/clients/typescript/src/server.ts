// Starts the real `warden` binary (WARDEN_BIN) for the client test.

import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";

export interface RunningWarden {
  address: string;
  stop(): Promise<void>;
}

/** Serves on a free port over a fresh SQLite database; resolves once the
 * `warden is serving` log line names the address. */
export async function startWarden(): Promise<RunningWarden> {
  const binary = process.env.WARDEN_BIN;
  if (!binary) {
    throw new Error("WARDEN_BIN must name the warden binary (tests/clients/run.sh sets it)");
  }
  const dataDir = mkdtempSync(join(tmpdir(), "warden-ts-"));
  const child = spawn(binary, ["serve", "--listen", "127.0.0.1:0", "--data-dir", dataDir], {
    // A clean environment: nothing from the caller's WARDEN_* or RUST_LOG.
    env: { WARDEN_SERVER__DRAIN_DELAY_SECONDS: "0" },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const address = await servingAddress(child);
  return {
    address,
    stop: async () => {
      await terminate(child);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

function servingAddress(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("warden did not serve within a minute")), 60_000);
    child.once("exit", (code) => reject(new Error(`warden exited (${code}) before serving`)));
    // Keeps reading after the match, so the server never blocks on its stdout.
    createInterface({ input: child.stdout! }).on("line", (line) => {
      try {
        const fields = JSON.parse(line).fields ?? {};
        if (fields.message === "warden is serving") {
          clearTimeout(timer);
          resolve(String(fields.listen));
        }
      } catch {
        // Not a JSON log line.
      }
    });
  });
}

function terminate(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error("warden ignored SIGTERM for 30 s"));
    }, 30_000);
    child.once("exit", (code) => {
      clearTimeout(timer);
      code === 0 ? resolve() : reject(new Error(`warden exited with ${code}`));
    });
    child.kill("SIGTERM");
  });
}
