import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  describeTarget,
  editorAction,
  lastInput,
  noteInput,
  type KeyInput,
  type KeyTarget,
} from '../../src-renderer/src/lib/editor/keys.ts';

const page: KeyTarget = { tag: 'body', type: '', role: '', editable: false, focusVisible: false };

function key(k: string, extra: Partial<KeyInput> = {}): KeyInput {
  const code = k === ' ' ? 'Space' : k === '[' ? 'BracketLeft' : k === ']' ? 'BracketRight' : '';
  return {
    key: k,
    code,
    ctrlKey: false,
    metaKey: false,
    altKey: false,
    shiftKey: false,
    target: page,
    ...extra,
  };
}

describe('the editor keys', () => {
  test('do what UI.md says', () => {
    assert.deepEqual(editorAction(key('ArrowLeft'), 'down'), { type: 'previous' });
    assert.deepEqual(editorAction(key('ArrowRight'), 'down'), { type: 'next' });
    assert.deepEqual(editorAction(key('3'), 'down'), { type: 'face', number: 3 });
    assert.deepEqual(editorAction(key('['), 'down'), { type: 'fidelity', delta: -0.05 });
    assert.deepEqual(editorAction(key(']'), 'down'), { type: 'fidelity', delta: 0.05 });
    assert.deepEqual(editorAction(key(' '), 'down'), { type: 'original', down: true });
    assert.deepEqual(editorAction(key(' '), 'up'), { type: 'original', down: false });
    assert.deepEqual(editorAction(key('c'), 'down'), { type: 'compare' });
    assert.deepEqual(editorAction(key('e'), 'down'), { type: 'export' });
    assert.equal(editorAction(key('0'), 'down'), null);
    assert.equal(editorAction(key('x'), 'down'), null);
  });

  test('[ and ] work by position on layouts that put other characters there', () => {
    assert.deepEqual(editorAction(key('ü', { code: 'BracketLeft' }), 'down'), {
      type: 'fidelity',
      delta: -0.05,
    });
    assert.deepEqual(editorAction(key('+', { code: 'BracketRight' }), 'down'), {
      type: 'fidelity',
      delta: 0.05,
    });
  });

  test('never fire while a modifier is held', () => {
    for (const mod of ['ctrlKey', 'metaKey', 'altKey', 'shiftKey'] as const) {
      for (const k of ['ArrowLeft', '1', '[', ' ', 'c', 'e']) {
        assert.equal(editorAction(key(k, { [mod]: true }), 'down'), null, `${mod} + ${k}`);
      }
    }
  });

  test('never fire while typing', () => {
    const fields: KeyTarget[] = [
      { ...page, tag: 'input', type: 'text' },
      { ...page, tag: 'input', type: 'number' },
      { ...page, tag: 'textarea' },
      { ...page, tag: 'select' },
      { ...page, tag: 'div', editable: true },
    ];
    for (const target of fields) {
      for (const k of ['ArrowLeft', '1', '[', ' ', 'c', 'e']) {
        assert.equal(editorAction(key(k, { target }), 'down'), null, `${target.tag}/${target.type} ${k}`);
      }
    }
  });

  test('leave the arrows to a slider, and Space to a switch or button reached by keyboard', () => {
    const range: KeyTarget = { ...page, tag: 'input', type: 'range', focusVisible: true };
    const split: KeyTarget = { ...page, tag: 'div', role: 'slider', focusVisible: true };
    assert.equal(editorAction(key('ArrowLeft', { target: range }), 'down'), null);
    assert.equal(editorAction(key('ArrowRight', { target: split }), 'down'), null);
    // The slider's own keys do not include [ ] or the digits: those still work on it.
    assert.deepEqual(editorAction(key(']', { target: range }), 'down'), { type: 'fidelity', delta: 0.05 });

    const tabbedButton: KeyTarget = { ...page, tag: 'button', focusVisible: true };
    const clickedButton: KeyTarget = { ...page, tag: 'button', focusVisible: false };
    const tabbedSwitch: KeyTarget = {
      ...page,
      tag: 'input',
      type: 'checkbox',
      role: 'switch',
      focusVisible: true,
    };
    assert.equal(editorAction(key(' ', { target: tabbedButton }), 'down'), null);
    assert.equal(editorAction(key(' ', { target: tabbedSwitch }), 'down'), null);
    assert.deepEqual(editorAction(key(' ', { target: clickedButton }), 'down'), {
      type: 'original',
      down: true,
    });
  });

  test('letting go of Space always ends showing the original', () => {
    assert.deepEqual(editorAction(key(' ', { shiftKey: true }), 'up'), { type: 'original', down: false });
    assert.equal(editorAction(key('c'), 'up'), null);
  });
});

describe('describing the focused element', () => {
  /** Just what describeTarget reads of an element. */
  function element(tagName: string, attrs: Record<string, string> = {}, extra: object = {}) {
    return {
      tagName,
      getAttribute: (name: string) => attrs[name] ?? null,
      matches: (selector: string) => selector === ':focus-visible' && attrs['data-focus-visible'] === 'yes',
      ...extra,
    };
  }

  test('reads the tag, the input type, the role, editability and the focus ring', () => {
    assert.deepEqual(describeTarget(element('INPUT', {}, { type: 'Range' })), {
      tag: 'input',
      type: 'range',
      role: '',
      editable: false,
      focusVisible: false,
    });
    assert.deepEqual(describeTarget(element('DIV', { role: 'slider', 'data-focus-visible': 'yes' })), {
      tag: 'div',
      type: '',
      role: 'slider',
      editable: false,
      focusVisible: true,
    });
    assert.equal(describeTarget(element('P', {}, { isContentEditable: true })).editable, true);
  });

  test('a button focused by a click is not "reached by keyboard", though Chromium shows its ring once a key is down', () => {
    const compare = element('BUTTON', { 'data-focus-visible': 'yes' });
    noteInput('pointer');
    assert.equal(describeTarget(compare).focusVisible, false);
    assert.deepEqual(editorAction({ ...key(' '), target: describeTarget(compare) }, 'down'), {
      type: 'original',
      down: true,
    });
    noteInput('keyboard');
    assert.equal(describeTarget(compare).focusVisible, true);
    assert.equal(editorAction({ ...key(' '), target: describeTarget(compare) }, 'down'), null);
  });

  test('remembers whether the focus last moved by pointer or keyboard (a photo opened by Enter starts on its faces)', () => {
    noteInput('pointer');
    assert.equal(lastInput(), 'pointer');
    noteInput('keyboard');
    assert.equal(lastInput(), 'keyboard');
  });

  test('the window or nothing is the page itself', () => {
    assert.deepEqual(describeTarget(null), {
      tag: '',
      type: '',
      role: '',
      editable: false,
      focusVisible: false,
    });
    assert.equal(describeTarget({}).tag, '');
  });
});
