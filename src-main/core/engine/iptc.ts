// IPTC-IIM records and the Photoshop image resources that carry them in a JPEG (APP13 "Photoshop 3.0") and a TIFF
// (tag 34377), after Adobe's Photoshop File Formats Specification, "Image Resource Blocks", and IPTC-IIM 4.2 §1.5.

const SIGNATURE = [0x38, 0x42, 0x49, 0x4d]; // "8BIM"
const IPTC_RESOURCE = 0x0404;
/** Thumbnails of the unrestored photo (Photoshop 4.0 and 5.0+ forms): never carried. */
const THUMBNAIL_RESOURCES: ReadonlySet<number> = new Set([0x0409, 0x040c]);

export interface PhotoshopResource {
  readonly id: number;
  /** Its Pascal-string name, as stored (length byte, text, padding to an even size). */
  readonly name: Uint8Array;
  readonly data: Uint8Array;
}

/** The resources of an image resource section; undefined when it is malformed. */
function readPhotoshopResources(bytes: Uint8Array): PhotoshopResource[] | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: PhotoshopResource[] = [];
  let at = 0;
  while (at < bytes.length) {
    // Writers pad the section with zeros.
    if (bytes.subarray(at).every((b) => b === 0)) break;
    if (at + 12 > bytes.length || !SIGNATURE.every((b, i) => bytes[at + i] === b)) return undefined;
    const id = view.getUint16(at + 4);
    const nameSize = (1 + bytes[at + 6]! + 1) & ~1;
    const sizeAt = at + 6 + nameSize;
    if (sizeAt + 4 > bytes.length) return undefined;
    const size = view.getUint32(sizeAt);
    if (sizeAt + 4 + size > bytes.length) return undefined;
    out.push({
      id,
      name: bytes.subarray(at + 6, sizeAt),
      data: bytes.subarray(sizeAt + 4, sizeAt + 4 + size),
    });
    at = sizeAt + 4 + size + (size % 2);
  }
  return out;
}

function writePhotoshopResources(resources: readonly PhotoshopResource[]): Uint8Array {
  return Buffer.concat(
    resources.flatMap(({ id, name, data }) => {
      const head = Buffer.alloc(6);
      Buffer.from(SIGNATURE).copy(head);
      head.writeUInt16BE(id, 4);
      const size = Buffer.alloc(4);
      size.writeUInt32BE(data.length);
      return [head, name, size, data, Buffer.alloc(data.length % 2)];
    }),
  );
}

/** Whether `bytes` is a run of IIM datasets (tag marker 0x1C, record, dataset, length), zero padding allowed. */
export function isIim(bytes: Uint8Array): boolean {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  let datasets = 0;
  while (at < bytes.length) {
    if (bytes[at] === 0 && bytes.subarray(at).every((b) => b === 0)) break;
    if (bytes[at] !== 0x1c || at + 5 > bytes.length) return false;
    let size = view.getUint16(at + 3);
    let header = 5;
    if (size & 0x8000) {
      // An extended dataset: the low bits say how many bytes hold the length (IIM §1.5.4).
      const lengthBytes = size & 0x7fff;
      if (lengthBytes > 4 || at + 5 + lengthBytes > bytes.length) return false;
      size = 0;
      for (let i = 0; i < lengthBytes; i++) size = size * 256 + bytes[at + 5 + i]!;
      header += lengthBytes;
    }
    if (at + header + size > bytes.length) return false;
    at += header + size;
    datasets++;
  }
  return datasets > 0;
}

export interface PhotoshopMetadata {
  /** The resources, thumbnails left out. */
  readonly resources: PhotoshopResource[];
  /** The IPTC records of resource 0x0404. */
  readonly iptc?: Uint8Array;
}

/** A Photoshop image resource section as an export carries it; undefined when it is malformed. */
export function readPhotoshop(bytes: Uint8Array): PhotoshopMetadata | undefined {
  const all = readPhotoshopResources(bytes);
  if (!all) return undefined;
  const resources = all.filter((r) => !THUMBNAIL_RESOURCES.has(r.id));
  const iptc = resources.find((r) => r.id === IPTC_RESOURCE)?.data;
  if (iptc && !isIim(iptc)) return { resources: resources.filter((r) => r.id !== IPTC_RESOURCE) };
  return iptc ? { resources, iptc } : { resources };
}

/** A resource section holding `iptc`: the source's resources, with an IPTC resource added if they had none. */
export function photoshopSection(
  resources: readonly PhotoshopResource[],
  iptc: Uint8Array | undefined,
): Uint8Array {
  const missing = iptc && !resources.some((r) => r.id === IPTC_RESOURCE);
  const added = missing ? [{ id: IPTC_RESOURCE, name: new Uint8Array(2), data: iptc }] : [];
  return writePhotoshopResources([...resources, ...added]);
}
