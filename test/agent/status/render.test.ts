import { describe, expect, it } from 'vitest';
import { renderStatus } from '../../../agent/status/index.js';
import { sampleStatus } from '../../helpers/status.js';

describe('renderStatus', () => {
  it('answers "is it working, and what have I earned" at a glance', () => {
    const text = renderStatus(sampleStatus(), 60_000);
    expect(text).toContain('daemon     running (pid 4242');
    expect(text).toContain('link       connected to ws://127.0.0.1:7400; last ack 10s ago (seq 41), rtt 3 ms');
    expect(text).toContain('journal    head 42, acked 41, backlog 1');
    expect(text).toContain('NVIDIA H100 80GB HBM3');
    expect(text).toContain('652 W');
    expect(text).toContain('WARNING    thermal-throttle');
    expect(text).toContain('PoT        passed');
    expect(text).toContain('vested 2.000000 credits');
    expect(text).toContain('claimable 1.500000 credits');
  });

  it('says plainly when the daemon is not running or the journal is failing', () => {
    const s = sampleStatus({ source: 'journal', gpus: [], findings: [], pot: null, bench: null });
    s.journal.error = 'journal-full: the disk is full';
    s.journal.rejected = 3;
    const text = renderStatus(s, 60_000);
    expect(text).toContain('NOT RUNNING');
    expect(text).toContain('REJECTED 3');
    expect(text).toContain('ERROR: journal-full');
    expect(text).toContain('GPUs       none');
    expect(text).toContain('PoT        no verdict yet');
  });
});
