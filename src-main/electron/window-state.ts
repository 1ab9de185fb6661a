import fs from 'node:fs';
import path from 'node:path';

/** Where and how big the window was, kept between runs (in userData, beside Chromium's own state). */
export interface WindowState {
  readonly x?: number;
  readonly y?: number;
  readonly width: number;
  readonly height: number;
  readonly maximized: boolean;
}

export interface Rect {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/** Electron's screen module, as far as placing the window uses it. */
export interface ScreenLike {
  getDisplayMatching(rect: Rect): { readonly workArea: Rect };
}

export const DEFAULT_STATE: WindowState = { width: 1280, height: 800, maximized: false };
/** Below this the editor's photo and its face cards no longer fit side by side. */
export const MIN_SIZE = { width: 800, height: 560 } as const;

function isSize(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 1 && value <= 100_000;
}

function isPosition(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && Math.abs(value) <= 100_000;
}

/** The state saved in `file`, or the default one: a missing, damaged or odd file is no reason not to start. */
export function readWindowState(file: string): WindowState {
  let saved: unknown;
  try {
    saved = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch {
    return DEFAULT_STATE;
  }
  if (typeof saved !== 'object' || saved === null) return DEFAULT_STATE;
  const { x, y, width, height, maximized } = saved as Record<string, unknown>;
  if (!isSize(width) || !isSize(height)) return DEFAULT_STATE;
  const placed = isPosition(x) && isPosition(y) ? { x, y } : {};
  return { ...placed, width, height, maximized: maximized === true };
}

/** Saves `state` whole or not at all (a temp file renamed over the old one), so a crash leaves a readable file. */
export function writeWindowState(file: string, state: WindowState): void {
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(temp, JSON.stringify(state));
    fs.renameSync(temp, file);
  } catch {
    // Losing the window's place is not worth failing a quit over.
    fs.rmSync(temp, { force: true });
  }
}

function clamp(value: number, low: number, high: number): number {
  return Math.min(Math.max(value, low), Math.max(low, high));
}

/**
 * The saved bounds moved and shrunk onto the display they overlap most (or the nearest one, when the monitor
 * they were on is gone), so the window never opens off screen. Without a saved place the window is centred.
 */
export function visibleBounds(state: WindowState, screen: ScreenLike): Partial<Rect> & Omit<Rect, 'x' | 'y'> {
  if (state.x === undefined || state.y === undefined) return { width: state.width, height: state.height };
  const area = screen.getDisplayMatching({
    x: state.x,
    y: state.y,
    width: state.width,
    height: state.height,
  }).workArea;
  const width = clamp(state.width, Math.min(MIN_SIZE.width, area.width), area.width);
  const height = clamp(state.height, Math.min(MIN_SIZE.height, area.height), area.height);
  return {
    x: clamp(state.x, area.x, area.x + area.width - width),
    y: clamp(state.y, area.y, area.y + area.height - height),
    width,
    height,
  };
}
