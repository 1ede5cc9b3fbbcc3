import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../common/log.js';
import { openGpuSource } from '../../../agent/service/gpus.js';
import { fakeNvidiaSmiEnv, nvidiaSmiFixture, withEnv } from '../../helpers/fake-nvidia-smi-env.js';
import { tempDir } from '../../helpers/tmp.js';

describe('the daemon\'s GPU source', () => {
  it('carries each GPU\'s power limit into the inventory (it bounds the energy a usage record may claim)', async () => {
    const env = fakeNvidiaSmiEnv({ xml: nvidiaSmiFixture('xml/a10g_515.105.01_telegraf.xml'), csv: nvidiaSmiFixture('csv/h100-80gb-hbm3-idle_590.48.01_nvidia-gpu-exporter.csv') });
    const source = await withEnv(env, () => openGpuSource({ intervalMs: 1_000, dataDir: tempDir(), logger: createLogger({ level: 'silent' }) }));
    try {
      expect(source.inventory().gpus).toEqual([{ index: 0, uuid: 'GPU-9a9a6c50-2a47-2f51-a902-b82c3b127e94', name: 'NVIDIA A10G', memTotalMiB: 23028, powerLimitW: 300 }]);
    } finally {
      await source.stop();
    }
  });
});
