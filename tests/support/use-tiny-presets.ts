/**
 * Imported by a test file whose CLI runs happen in its own process (`runMain`): checkpoints are then recognised
 * and checked against TINY_PRESETS instead of the official presets, so `heirloom convert` and `restore
 * --restorer <.pth>` run the real reading, checking, conversion and caching code on a seeded checkpoint of a
 * few MB. The app never loads this file: what a real checkpoint is checked against is unchanged. It replaces
 * the table's entries in place because conversion reads them from the one PRESETS object.
 */
import { PRESETS } from '../../src-main/core/nn/codeformer/config.ts';
import { TINY_PRESETS } from './tiny-config.ts';

Object.assign(PRESETS, TINY_PRESETS);
