import { z } from 'zod';

/**
 * The control socket speaks JSON Lines: one request object per line, one
 * response per request, matched by id. Only local users who can open the
 * socket (root and the capanode group) reach it.
 */
export const ControlRequestSchema = z.strictObject({
  id: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  method: z.string().regex(/^[a-z][a-zA-Z.]{0,63}$/),
  params: z.record(z.string(), z.unknown()).default({}),
});
export type ControlRequest = z.infer<typeof ControlRequestSchema>;

export type ControlResponse =
  | { id: number; ok: true; result: unknown }
  | { id: number | null; ok: false; error: { code: string; message: string; hint?: string; details?: Record<string, unknown> } };

export const MAX_CONTROL_LINE = 64 * 1024;
