import type { LabEvent, LabMethod } from './lab-api';

/**
 * WebSocket framing of LabApi (web mode). JSON text frames; Uint8Array values
 * travel as `{ "$u8": "<base64>" }` so uploads survive JSON.
 */
export interface WireRequest {
  id: number;
  method: LabMethod;
  args: unknown[];
}

export type WireResponse = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string };

export interface WireEvent {
  event: LabEvent;
}

function toBase64(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

function fromBase64(text: string): Uint8Array {
  const binary = atob(text);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

export function encodeWire(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (v instanceof Uint8Array ? { $u8: toBase64(v) } : v));
}

export function decodeWire(text: string): unknown {
  return JSON.parse(text, (_key, v: unknown) => {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      const keys = Object.keys(v);
      if (keys.length === 1 && keys[0] === '$u8' && typeof (v as { $u8: unknown }).$u8 === 'string') {
        return fromBase64((v as { $u8: string }).$u8);
      }
    }
    return v;
  });
}
