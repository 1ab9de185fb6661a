import type { Settings } from '../../contract/dto.ts';
import type { Library } from './db.ts';

export const DEFAULT_SETTINGS: Settings = {
  defaultFidelity: 0.5,
  provenance: true,
  provider: 'auto',
  modelMirror: '',
};

const PROVIDERS: readonly string[] = ['auto', 'cpu', 'cuda', 'dml', 'coreml', 'webgpu'];

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * The stored settings over the defaults. A setting never stored reads as its default, and so does a stored
 * value of the wrong type (a library edited by hand): settings must never stop the library from opening.
 */
export function getSettings(lib: Library): Settings {
  const rows = lib.statement(`SELECT key, value FROM settings`).all() as { key: string; value: string }[];
  const stored = new Map(rows.map(({ key, value }) => [key, parse(value)]));
  const fidelity = stored.get('defaultFidelity');
  const provenance = stored.get('provenance');
  const provider = stored.get('provider');
  const mirror = stored.get('modelMirror');
  return {
    defaultFidelity:
      typeof fidelity === 'number' && fidelity >= 0 && fidelity <= 1
        ? fidelity
        : DEFAULT_SETTINGS.defaultFidelity,
    provenance: typeof provenance === 'boolean' ? provenance : DEFAULT_SETTINGS.provenance,
    provider:
      typeof provider === 'string' && PROVIDERS.includes(provider)
        ? (provider as Settings['provider'])
        : DEFAULT_SETTINGS.provider,
    modelMirror: typeof mirror === 'string' ? mirror : DEFAULT_SETTINGS.modelMirror,
  };
}

/** Stores the settings given (the others keep their value) and returns them all. */
export function updateSettings(lib: Library, changes: Partial<Settings>): Settings {
  const upsert = lib.statement(
    `INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
  );
  lib.transaction(() => {
    for (const [key, value] of Object.entries(changes)) {
      if (value !== undefined && Object.hasOwn(DEFAULT_SETTINGS, key)) upsert.run(key, JSON.stringify(value));
    }
  });
  return getSettings(lib);
}
