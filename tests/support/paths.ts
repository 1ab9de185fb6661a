import path from 'node:path';

/** The repository root and the shared test material beside it (CI lays ../shared next to the checkout). */
export const REPO = path.resolve(import.meta.dirname, '../..');
export const SHARED = path.resolve(REPO, '../shared');
export const PHOTOS = path.join(SHARED, 'photos');
export const YUNET = path.join(SHARED, 'models/face_detection_yunet_2026may.onnx');
export const IDENTITY_RESTORER = path.join(SHARED, 'fixtures/models/identity_restorer.onnx');
export const IDENTITY_RESTORER_F32W = path.join(SHARED, 'fixtures/models/identity_restorer_f32w.onnx');
export const GRAY_RESTORER = path.join(SHARED, 'fixtures/models/gray_restorer.onnx');

export const SOLVAY = path.join(PHOTOS, 'GPEN/examples/imgs/Solvay_conference_1927.png');

export function photo(relative: string): string {
  return path.join(PHOTOS, relative);
}
