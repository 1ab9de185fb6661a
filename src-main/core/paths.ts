import os from 'node:os';
import path from 'node:path';

/**
 * Where Heirloom keeps models, caches and the library: HEIRLOOM_DATA when set, else the platform's
 * usual per-user data folder. The CLI, the Node host and the desktop app share it (on Linux it is the XDG
 * data folder, not Electron's userData under ~/.config, which keeps only the window's state).
 */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env, platform = process.platform): string {
  if (env.HEIRLOOM_DATA) return path.resolve(env.HEIRLOOM_DATA);
  const home = os.homedir();
  if (platform === 'win32')
    return path.join(env.APPDATA ?? path.join(home, 'AppData', 'Roaming'), 'Heirloom');
  if (platform === 'darwin') return path.join(home, 'Library', 'Application Support', 'Heirloom');
  return path.join(env.XDG_DATA_HOME ?? path.join(home, '.local', 'share'), 'heirloom');
}

/** Where the models a restore uses are installed in the data folder (by their manifest ids). */
export function defaultModelPaths(dataDir: string): {
  detector: string;
  restorer: string;
  colorizer: string;
  inpainter: string;
  parser: string;
  retinaface: string;
  background: string;
} {
  return {
    detector: path.join(dataDir, 'models', 'face_detection_yunet_2026may.onnx'),
    restorer: path.join(dataDir, 'models', 'codeformer'),
    colorizer: path.join(dataDir, 'models', 'codeformer-colorization'),
    inpainter: path.join(dataDir, 'models', 'codeformer-inpainting'),
    parser: path.join(dataDir, 'models', 'parsenet'),
    retinaface: path.join(dataDir, 'models', 'retinaface-r50'),
    background: path.join(dataDir, 'models', 'realesrgan-x2plus'),
  };
}
