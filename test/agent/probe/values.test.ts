import { describe, expect, it } from 'vitest';
import { parseTelemetryLine } from '../../../agent/probe/index.js';
import { bitmask, flag, intIn, known, milliwatts, numberIn } from '../../../agent/probe/values.js';

describe('nvidia-smi value texts', () => {
  it('reads numbers with their unit and nothing else', () => {
    expect(intIn('81559 MiB', ['MiB'])).toBe(81559);
    expect(intIn('16x', ['x'])).toBe(16);
    expect(intIn('27 C', ['C'])).toBe(27);
    expect(numberIn('912.500 mV', ['mV'])).toBe(912.5);
    expect(intIn('81559 MiB')).toBeNull();
    for (const t of ['N/A', '[N/A]', '[Not Supported]', '', '   ', 'Requested functionality has been deprecated', 'NaN', 'Infinity', '1e3', undefined, null]) {
      expect(numberIn(t, ['MiB']), String(t)).toBeNull();
    }
  });

  it('power texts become integer milliwatts', () => {
    expect(milliwatts('67.03 W')).toBe(67_030);
    expect(milliwatts('627.40')).toBe(627_400);
    expect(milliwatts('N/A')).toBeNull();
    expect(milliwatts('-1 W')).toBeNull();
  });

  it('flags, free text and bit masks', () => {
    expect([flag('Enabled'), flag('Not Active'), flag('Yes'), flag('N/A')]).toEqual([true, false, true, null]);
    expect([known(' 92.00.36.00.02 '), known('N/A'), known('[Not Supported]')]).toEqual(['92.00.36.00.02', null, null]);
    expect([bitmask('0x0000000000000004'), bitmask('[N/A]'), bitmask('4')]).toEqual([4, null, null]);
  });
});

describe('parseTelemetryLine', () => {
  const U = 'GPU-11111111-2222-3333-4444-555555555555';
  it('parses a nounits line', () => {
    const r = parseTelemetryLine(`3, ${U}, 97, 61440, 81559, 64, 652.25, 1980, 0x0000000000000004, 5, 5, 16, 16`, 42);
    expect(r).toEqual({
      ok: true,
      sample: { uuid: U, index: 3, at: 42, util: 97, memUsedMiB: 61440, memTotalMiB: 81559, tempC: 64, powerMw: 652_250, smClockMhz: 1980, clockEventReasons: 4, pcie: { genCurrent: 5, genMax: 5, widthCurrent: 16, widthMax: 16 } },
    });
  });
  it('refuses short lines and lines without a UUID, saying why', () => {
    expect(parseTelemetryLine(`0, ${U}, 97`, 0)).toEqual({ ok: false, reason: 'expected 13 comma-separated values, got 3' });
    const r = parseTelemetryLine('0, No devices were found, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11', 0);
    expect(r.ok).toBe(false);
  });
});
