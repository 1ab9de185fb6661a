/*
 * The editor's keys (UI.md "Keyboard"): ←/→ previous/next photo, 1–9 select a face, [ and ] change its
 * fidelity, Space (held) shows the original, C toggles the split view, E exports. A key never fires while the
 * user types in a text field, while a modifier is held (those belong to the system and the browser), or where
 * the focused control uses that key itself (arrows on a slider, Space on a switch or a button reached by Tab).
 * Plain functions over a description of the event, tested in tests/renderer/keys.test.ts.
 */

export type EditorAction =
  | { readonly type: 'previous' }
  | { readonly type: 'next' }
  | { readonly type: 'face'; readonly number: number }
  | { readonly type: 'fidelity'; readonly delta: number }
  | { readonly type: 'original'; readonly down: boolean }
  | { readonly type: 'compare' }
  | { readonly type: 'export' };

/** What was focused when the key came. */
export interface KeyTarget {
  /** Lower-case tag name ('input', 'button', 'div', …). */
  readonly tag: string;
  /** An input's type ('text', 'range', 'checkbox', …), '' otherwise. */
  readonly type: string;
  readonly role: string;
  readonly editable: boolean;
  /** Whether it shows its focus ring: reached by keyboard, so its own keys are what the user means. */
  readonly focusVisible: boolean;
}

export interface KeyInput {
  readonly key: string;
  readonly code: string;
  readonly ctrlKey: boolean;
  readonly metaKey: boolean;
  readonly altKey: boolean;
  readonly shiftKey: boolean;
  readonly target: KeyTarget;
}

const TEXT_INPUTS = new Set(['text', 'search', 'email', 'number', 'password', 'tel', 'url', '']);

/** Typing: a text field, a text area, a list box, or anything editable. */
export function isTyping(target: KeyTarget): boolean {
  if (target.editable || target.tag === 'textarea' || target.tag === 'select') return true;
  return target.tag === 'input' && TEXT_INPUTS.has(target.type);
}

/** A control that moves with the arrow keys itself. */
function usesArrows(target: KeyTarget): boolean {
  return (
    (target.tag === 'input' && target.type === 'range') ||
    ['slider', 'scrollbar', 'spinbutton', 'radio', 'tab', 'listbox', 'menu', 'menuitem'].includes(target.role)
  );
}

/** A control Space presses (a switch, a button, a box) when the user reached it by keyboard. */
function usesSpace(target: KeyTarget): boolean {
  if (!target.focusVisible) return false;
  return (
    target.tag === 'button' ||
    (target.tag === 'input' && (target.type === 'checkbox' || target.type === 'radio')) ||
    ['button', 'switch', 'checkbox', 'radio', 'tab', 'menuitem', 'link'].includes(target.role) ||
    target.tag === 'a'
  );
}

/** The editor's action for a key pressed (`down`) or let go (`up`), or null when the key is not the editor's. */
export function editorAction(event: KeyInput, phase: 'down' | 'up'): EditorAction | null {
  const space = event.key === ' ' || event.code === 'Space';
  // Letting go of Space always ends "show the original", whatever else happened meanwhile.
  if (phase === 'up') return space ? { type: 'original', down: false } : null;
  if (event.ctrlKey || event.metaKey || event.altKey || event.shiftKey) return null;
  const target = event.target;
  if (isTyping(target)) return null;
  if (space) return usesSpace(target) ? null : { type: 'original', down: true };
  if (event.key === 'ArrowLeft' || event.key === 'ArrowRight') {
    if (usesArrows(target)) return null;
    return { type: event.key === 'ArrowLeft' ? 'previous' : 'next' };
  }
  if (/^[1-9]$/.test(event.key)) return { type: 'face', number: Number(event.key) };
  if (event.key === '[') return { type: 'fidelity', delta: -0.05 };
  if (event.key === ']') return { type: 'fidelity', delta: 0.05 };
  const letter = event.key.toLowerCase();
  if (letter === 'c') return { type: 'compare' };
  if (letter === 'e') return { type: 'export' };
  // Layouts without [ and ] on their own keys (ü and + on a German one): the same keys by position.
  if (event.code === 'BracketLeft') return { type: 'fidelity', delta: -0.05 };
  if (event.code === 'BracketRight') return { type: 'fidelity', delta: 0.05 };
  return null;
}

/** What describeTarget reads of an element (typed here, so this file needs no DOM types to be tested). */
interface ElementLike {
  readonly tagName?: unknown;
  readonly type?: unknown;
  readonly isContentEditable?: boolean;
  getAttribute(name: string): string | null;
  matches(selector: string): boolean;
}

/**
 * Whether focus last came from a pointer (a click) rather than the keyboard (Tab). Chromium starts matching
 * :focus-visible on a clicked button as soon as a key is pressed, so at Space's keydown a button just clicked
 * (Compare) would look reached by keyboard, and Space would press it instead of showing the original.
 */
let focusByPointer = false;
export function noteInput(kind: 'pointer' | 'keyboard'): void {
  focusByPointer = kind === 'pointer';
}
/** What the user last moved the focus with, as noted. */
export function lastInput(): 'pointer' | 'keyboard' {
  return focusByPointer ? 'pointer' : 'keyboard';
}

/** The description of a DOM event's target that editorAction needs. */
export function describeTarget(target: unknown): KeyTarget {
  const el = target as ElementLike | null;
  if (!el || typeof el.tagName !== 'string') {
    return { tag: '', type: '', role: '', editable: false, focusVisible: false };
  }
  let focusVisible = false;
  try {
    focusVisible = !focusByPointer && el.matches(':focus-visible');
  } catch {
    focusVisible = true;
  }
  const tag = el.tagName.toLowerCase();
  return {
    tag,
    type: tag === 'input' && typeof el.type === 'string' ? el.type.toLowerCase() : '',
    role: el.getAttribute('role') ?? '',
    editable: el.isContentEditable === true,
    focusVisible,
  };
}
