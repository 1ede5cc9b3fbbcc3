import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../common/log.js';
import { collectFindings, Telemetry, type Sample, type TelemetryOptions } from '../../../agent/probe/index.js';
import { fakeNvidiaSmiEnv, noNvidiaSmiEnv, nvidiaSmiFixture, type FakeNvidiaSmiOptions } from '../../helpers/fake-nvidia-smi-env.js';
import { tempDir } from '../../helpers/tmp.js';

const logger = createLogger({ level: 'silent' });
const H200 = nvidiaSmiFixture('csv/h200-load_590.48.01_nvidia-gpu-exporter.csv');
const UUID = 'GPU-00000000-0000-0000-0000-000000000000';

const running: Telemetry[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((t) => t.stop()));
});

function telemetry(fake: FakeNvidiaSmiOptions | NodeJS.ProcessEnv, extra: Partial<TelemetryOptions> = {}): Telemetry {
  const env = 'PATH' in fake ? fake : fakeNvidiaSmiEnv(fake as FakeNvidiaSmiOptions);
  const t = new Telemetry({ intervalMs: 20, logger, env, backoff: { minMs: 5, maxMs: 20 }, ...extra });
  running.push(t);
  return t;
}

function samples(t: Telemetry, n: number, timeoutMs = 15_000): Promise<Sample[]> {
  return new Promise((resolve, reject) => {
    const got: Sample[] = [];
    const timer = setTimeout(() => {
      off();
      reject(new Error(`only ${got.length} of ${n} samples arrived; state ${JSON.stringify(t.state())}`));
    }, timeoutMs);
    const off = t.subscribe((s) => {
      got.push(s);
      if (got.length === n) {
        clearTimeout(timer);
        off();
        resolve(got);
      }
    });
  });
}

async function until(cond: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function invocations(log: string): string[][] {
  return readFileSync(log, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => (JSON.parse(l) as { argv: string[] }).argv);
}

describe('Telemetry', () => {
  it('parses the H200-under-load capture into samples, from one long-running child', async () => {
    const log = join(tempDir(), 'calls.jsonl');
    const t = telemetry({ csv: H200, log });
    t.start();
    const got = await samples(t, 4);
    expect(got[0]).toMatchObject({
      uuid: UUID,
      index: 0,
      util: 100,
      memUsedMiB: 32362,
      memTotalMiB: 143771,
      tempC: 52,
      powerMw: 627_400,
      smClockMhz: 1980,
      clockEventReasons: 0,
      pcie: { genCurrent: 5, genMax: 5, widthCurrent: 16, widthMax: 16 },
    });
    expect(t.latest().get(UUID)?.powerMw).toBe(627_400);
    const calls = invocations(log);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toEqual([
      '--query-gpu=index,uuid,utilization.gpu,memory.used,memory.total,temperature.gpu,power.draw,clocks.current.sm,clocks_event_reasons.active,pcie.link.gen.current,pcie.link.gen.max,pcie.link.width.current,pcie.link.width.max',
      '--format=csv,noheader,nounits',
      '-lms',
      '20',
    ]);
    expect(t.state()).toMatchObject({ running: true, restarts: 0, badLines: 0, fields: 'current', lastFailure: null });
  });

  it('turns [N/A] into null (MIG mode hides utilisation)', async () => {
    const t = telemetry({ csv: nvidiaSmiFixture('csv/h100-80gb-hbm3-mig-idle_590.48.01_nvidia-gpu-exporter.csv') });
    t.start();
    const [s] = await samples(t, 1);
    expect(s).toMatchObject({ util: null, memUsedMiB: 59, memTotalMiB: 81559, tempC: 42, powerMw: 71_150, clockEventReasons: 1 });
  });

  it('restarts a child that dies, with backoff, and keeps sampling', async () => {
    const log = join(tempDir(), 'calls.jsonl');
    const t = telemetry({ csv: H200, dieAfter: 2, dieExit: 1, dieMessage: 'Unable to determine the device handle for GPU 0000:83:00.0: Unknown Error', log });
    t.start();
    await samples(t, 7);
    expect(t.state().restarts).toBeGreaterThanOrEqual(3);
    expect(invocations(log).length).toBeGreaterThanOrEqual(4);
    expect(t.state().lastFailure).toMatchObject({ code: 'gpu-lost' });
  });

  it('falls back to clocks_throttle_reasons on a driver that predates clock event reasons', async () => {
    const dir = tempDir();
    const old = join(dir, 'old-driver.csv');
    writeFileSync(old, readFileSync(H200, 'utf8').replace('clocks_event_reasons.active', 'clocks_throttle_reasons.active'));
    const log = join(dir, 'calls.jsonl');
    const t = telemetry({ csv: old, log });
    t.start();
    const [s] = await samples(t, 1);
    expect(s?.clockEventReasons).toBe(0);
    expect(t.state().fields).toBe('legacy');
    const calls = invocations(log);
    expect(calls).toHaveLength(2);
    expect(calls[1]![0]).toContain('clocks_throttle_reasons.active');
  });

  it('skips malformed and truncated lines without stopping', async () => {
    const dir = tempDir();
    const raw = join(dir, 'raw.csv');
    writeFileSync(
      raw,
      [
        'garbage that is not csv',
        `0, ${UUID}, 55, 1000, 8192, 60, 150.5`,
        `0, not-a-uuid, 55, 1000, 8192, 60, 150.5, 1800, 0x0, 4, 4, 16, 16`,
        `0, ${UUID}, [Not Supported], 1000, 8192, 60, 150.5, 1800, 0x0000000000000040, 4, 4, 8, 16`,
      ].join('\n'),
    );
    const t = telemetry({ csv: raw, csvRaw: true });
    t.start();
    const [s] = await samples(t, 1);
    expect(s).toMatchObject({ util: null, powerMw: 150_500, clockEventReasons: 0x40, pcie: { widthCurrent: 8, widthMax: 16 } });
    expect(t.state().badLines).toBeGreaterThanOrEqual(3);
  });

  it('stop() ends the child and no restart follows', async () => {
    const log = join(tempDir(), 'calls.jsonl');
    const t = telemetry({ csv: H200, log });
    t.start();
    await samples(t, 1);
    const pid = t.state().pid!;
    await t.stop();
    expect(t.state()).toMatchObject({ running: false, pid: null, nextRestartAt: null });
    expect(() => process.kill(pid, 0)).toThrow();
    const before = t.state().samplesTotal;
    await new Promise((r) => setTimeout(r, 100));
    expect(t.state().samplesTotal).toBe(before);
    expect(invocations(log)).toHaveLength(1);
    // History stays readable after stop.
    expect(t.latest().size).toBe(1);
  });

  it('reports why it cannot run: no nvidia-smi, no driver', async () => {
    const missing = telemetry(noNvidiaSmiEnv());
    missing.start();
    await until(() => missing.state().lastFailure !== null, 'a failure');
    expect(missing.state().lastFailure?.code).toBe('nvidia-smi-missing');

    const noDriver = telemetry({ error: nvidiaSmiFixture('errors/no-driver.txt'), exitCode: 9 });
    noDriver.start();
    await until(() => noDriver.state().lastFailure !== null, 'a failure');
    expect(noDriver.state().lastFailure?.code).toBe('no-driver');
    const findings = collectFindings({ gpus: [], driverVersion: null, cudaVersion: null, attachedGpus: null }, noDriver.latest(), { telemetry: noDriver.state() });
    expect(findings).toEqual([expect.objectContaining({ code: 'telemetry-failed', severity: 'warning' })]);
    expect(findings[0]!.message).toContain('NVIDIA kernel driver');
  });

  it('waits on the injected timer between restarts, with growing backoff delays, and stop() cancels the pending one', async () => {
    const log = join(tempDir(), 'calls.jsonl');
    const pending: { fn: () => void; ms: number }[] = [];
    const cleared: unknown[] = [];
    const timers = {
      setTimeout: (fn: () => void, ms: number) => {
        const handle = { fn, ms };
        pending.push(handle);
        return handle;
      },
      clearTimeout: (handle: unknown) => cleared.push(handle),
    };
    const t = telemetry({ csv: H200, dieAfter: 1, log }, { timers, backoff: { minMs: 100, maxMs: 1_000, random: () => 0.75 } });
    t.start();
    for (let restart = 1; restart <= 3; restart++) {
      await until(() => pending.length === restart, `death ${restart}`);
      // Nothing restarts until the timer fires.
      expect(t.state()).toMatchObject({ running: false, restarts: restart - 1 });
      expect(t.state().nextRestartAt).not.toBeNull();
      expect(invocations(log)).toHaveLength(restart);
      pending[restart - 1]!.fn();
      expect(t.state()).toMatchObject({ running: true, restarts: restart, nextRestartAt: null });
    }
    // Full jitter at 0.75 of a ceiling doubling from 100 ms, never below the minimum.
    expect(pending.map((p) => p.ms)).toEqual([100, 150, 300]);
    await until(() => pending.length === 4, 'death 4');
    expect(pending[3]!.ms).toBe(600);
    await t.stop();
    expect(cleared).toEqual([pending[3]]);
    expect(t.state()).toMatchObject({ running: false, nextRestartAt: null });
    expect(invocations(log)).toHaveLength(4);
  });

  it('names the field a driver refuses when neither field spelling is known', async () => {
    const dir = tempDir();
    const csv = join(dir, 'no-gen-max.csv');
    // An old driver (throttle reasons only) whose nvidia-smi does not know pcie.link.gen.max either.
    writeFileSync(csv, readFileSync(H200, 'utf8').replace('clocks_event_reasons.active', 'clocks_throttle_reasons.active').replace(' pcie.link.gen.max,', ' pcie.link.gen.unknown,'));
    const log = join(dir, 'calls.jsonl');
    const t = telemetry({ csv, log });
    t.start();
    await until(() => t.state().lastFailure !== null, 'a failure');
    expect(t.state().fields).toBe('legacy');
    expect(t.state().lastFailure).toMatchObject({ code: 'nvidia-smi-field-unsupported', severity: 'warning' });
    expect(t.state().lastFailure?.message).toContain('"pcie.link.gen.max"');
    const findings = collectFindings({ gpus: [], driverVersion: null, cudaVersion: null, attachedGpus: null }, t.latest(), { telemetry: t.state() });
    expect(findings).toEqual([expect.objectContaining({ code: 'telemetry-failed', hint: t.state().lastFailure?.hint })]);
    expect(findings[0]!.message).toContain('pcie.link.gen.max');
  });

  it('does not retry with the legacy field names when the driver refuses another field', async () => {
    const dir = tempDir();
    const csv = join(dir, 'no-width-max.csv');
    writeFileSync(csv, readFileSync(H200, 'utf8').replace(' pcie.link.width.max,', ' pcie.link.width.unknown,'));
    const log = join(dir, 'calls.jsonl');
    const t = telemetry({ csv, log });
    t.start();
    await until(() => t.state().lastFailure !== null, 'a failure');
    expect(t.state().fields).toBe('current');
    expect(t.state().lastFailure?.code).toBe('nvidia-smi-field-unsupported');
    expect(t.state().lastFailure?.message).toContain('"pcie.link.width.max"');
    expect(invocations(log)[0]![0]).toContain('clocks_event_reasons.active');
  });

  it('rejects a non-positive interval', () => {
    expect(() => new Telemetry({ intervalMs: 0, logger })).toThrow(/intervalMs/);
  });
});
