/**
 * systemd readiness and watchdog (Type=notify). Node has no unix datagram
 * sockets, so the datagram goes out through the native addon; outside
 * systemd (no NOTIFY_SOCKET) every call does nothing.
 */
import { sdNotify } from '../../native/index.js';

export interface Notifier {
  ready(status: string): void;
  status(status: string): void;
  stopping(): void;
  /** Starts WATCHDOG=1 pings at half the interval systemd asked for; returns a stop function. */
  startWatchdog(): () => void;
}

export function systemdNotifier(env: NodeJS.ProcessEnv = process.env, send: (state: string) => boolean = sdNotify): Notifier {
  const active = env['NOTIFY_SOCKET'] !== undefined && env['NOTIFY_SOCKET'] !== '';
  const notify = (state: string) => {
    if (active) send(state);
  };
  return {
    ready: (status) => notify(`READY=1\nSTATUS=${status}`),
    status: (status) => notify(`STATUS=${status}`),
    stopping: () => notify('STOPPING=1'),
    startWatchdog() {
      const usec = Number(env['WATCHDOG_USEC'] ?? '');
      const pid = env['WATCHDOG_PID'];
      if (!active || !Number.isFinite(usec) || usec <= 0 || (pid !== undefined && pid !== String(process.pid))) return () => undefined;
      // Pinged from the event loop itself: a blocked loop misses pings and systemd restarts us.
      const timer = setInterval(() => notify('WATCHDOG=1'), Math.max(1000, Math.floor(usec / 2000)));
      timer.unref();
      return () => clearInterval(timer);
    },
  };
}
