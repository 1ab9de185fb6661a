// XMP packets (ISO 16684-1): RDF/XML inside x:xmpmeta. The source's packet is carried as its text, checked to be
// well-formed first (a broken one is dropped, never half-carried), with a few simple properties patched and our
// own descriptions added as further rdf:Description elements, which XMP allows beside the source's.

const RDF = 'http://www.w3.org/1999/02/22-rdf-syntax-ns#';
const TIFF = 'http://ns.adobe.com/tiff/1.0/';
const EXIF = 'http://ns.adobe.com/exif/1.0/';
const XMP_NOTE = 'http://ns.adobe.com/xmp/note/';
/** Our namespace for provenance: what restored the photo, and how. */
const HEIRLOOM_NS = 'https://heirloom.app/ns/1.0/';
/** Our namespace for a PNG source's text chunks, carried into formats that have no such chunks. */
const PNG_TEXT_NS = 'https://heirloom.app/ns/png-text/1.0/';

export interface Provenance {
  /** Heirloom's version. */
  readonly version: string;
  readonly model: { readonly name: string; readonly sha256: string };
  /**
   * Each restored face: its number in the photo and the fidelity (w) it was restored at; for a face colorized or
   * repaired, that task and the model that did it (its w is the model's own).
   */
  readonly faces: readonly {
    readonly number: number;
    readonly fidelity: number;
    readonly task?: 'colorize' | 'inpaint';
    readonly model?: { readonly name: string; readonly sha256: string };
  }[];
  /** When the photo was restored (ISO 8601). */
  readonly date: string;
}

export interface TextEntry {
  readonly keyword: string;
  readonly text: string;
  readonly language?: string;
}

const START_TAG = /<([A-Za-z_][\w.\-:]*)((?:\s+[A-Za-z_][\w.\-:]*\s*=\s*(?:"[^"<]*"|'[^'<]*'))*)\s*(\/?)>/y;
const END_TAG = /<\/([A-Za-z_][\w.\-:]*)\s*>/y;

/**
 * Whether `text` is well-formed enough to carry: tags balanced and properly nested, attributes quoted,
 * comments, CDATA and processing instructions closed, no DTD (XMP forbids one, and it is how entity expansion
 * attacks start).
 */
function isWellFormedXml(text: string): boolean {
  const open: string[] = [];
  let elements = 0;
  let at = 0;
  for (;;) {
    const lt = text.indexOf('<', at);
    if (lt < 0) break;
    const skip = (opening: string, closing: string): number => {
      const end = text.indexOf(closing, lt + opening.length);
      return end < 0 ? -1 : end + closing.length;
    };
    let next: number;
    if (text.startsWith('<?', lt)) next = skip('<?', '?>');
    else if (text.startsWith('<!--', lt)) next = skip('<!--', '-->');
    else if (text.startsWith('<![CDATA[', lt)) next = open.length ? skip('<![CDATA[', ']]>') : -1;
    else if (text.startsWith('<!', lt)) next = -1;
    else if (text.startsWith('</', lt)) {
      END_TAG.lastIndex = lt;
      const match = END_TAG.exec(text);
      next = match && open.pop() === match[1] ? END_TAG.lastIndex : -1;
    } else {
      START_TAG.lastIndex = lt;
      const match = START_TAG.exec(text);
      if (match && !match[3]) open.push(match[1]!);
      if (match) elements++;
      next = match ? START_TAG.lastIndex : -1;
    }
    if (next < 0) return false;
    at = next;
  }
  return open.length === 0 && elements > 0;
}

/** The prefixes a packet binds to `uri` (usually one). */
function prefixesOf(xmp: string, uri: string): string[] {
  const escaped = uri.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  const pattern = new RegExp(`xmlns:([A-Za-z_][\\w.\\-]*)\\s*=\\s*["']${escaped}["']`, 'g');
  return [...new Set([...xmp.matchAll(pattern)].map((m) => m[1]!))];
}

/** The prefix of the packet's rdf:RDF element. */
function rdfPrefix(xmp: string): string | undefined {
  return prefixesOf(xmp, RDF).find((rdf) => xmp.includes(`</${rdf}:RDF>`));
}

/** Whether `text` is an XMP packet we can carry: well-formed, with an rdf:RDF element. */
export function isCarriableXmp(text: string): boolean {
  return isWellFormedXml(text) && rdfPrefix(text) !== undefined;
}

function escapeXml(text: string): string {
  return (
    text
      // XML 1.0 §2.2: these code points cannot appear in a document, escaped or not.
      .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, '\uFFFD')
      .replace(/&/g, '&amp;')
      .replace(/</g, '&lt;')
      .replace(/>/g, '&gt;')
      .replace(/"/g, '&quot;')
      // A raw CR would be read back as LF (XML 1.0 §2.11).
      .replace(/\r/g, '&#xD;')
  );
}

/** Sets a simple property wherever the packet has it, as an attribute or as an element; adds none. */
function setProperty(xmp: string, uri: string, name: string, value: string): string {
  let out = xmp;
  for (const p of prefixesOf(xmp, uri)) {
    out = out
      .replace(new RegExp(`(\\s${p}:${name}\\s*=\\s*)(["'])[^"']*\\2`, 'g'), `$1"${value}"`)
      .replace(new RegExp(`(<${p}:${name}(?:\\s[^>]*)?>)[^<]*(</${p}:${name}>)`, 'g'), `$1${value}$2`);
  }
  return out;
}

/** Removes every property of a namespace (attributes and elements), e.g. an earlier export's provenance. */
function removeProperties(xmp: string, uri: string, name = '[A-Za-z_][\\w.\\-]*'): string {
  let out = xmp;
  for (const p of prefixesOf(xmp, uri)) {
    out = out
      .replace(new RegExp(`\\s${p}:${name}\\s*=\\s*(["'])[^"']*\\1`, 'g'), '')
      .replace(new RegExp(`<${p}:(${name})(?:\\s[^>]*?)?(?:/>|>[\\s\\S]*?</${p}:\\1>)`, 'g'), '');
  }
  return out;
}

export interface XmpImage {
  readonly width: number;
  readonly height: number;
}

/**
 * The source's packet for the export: tiff:Orientation 1 (the pixels are upright), the pixel dimensions of the
 * export where the packet states them, and no pointer to an extended packet (JPEG's ExtendedXMP), which the
 * export does not carry.
 */
function normaliseXmp(xmp: string, image: XmpImage): string {
  let out = setProperty(xmp, TIFF, 'Orientation', '1');
  out = setProperty(out, TIFF, 'ImageWidth', String(image.width));
  out = setProperty(out, TIFF, 'ImageLength', String(image.height));
  out = setProperty(out, EXIF, 'PixelXDimension', String(image.width));
  out = setProperty(out, EXIF, 'PixelYDimension', String(image.height));
  return removeProperties(out, XMP_NOTE, 'HasExtendedXMP');
}

function provenanceDescription(rdf: string, p: Provenance): string {
  const faces = p.faces
    .map(
      (face) =>
        `<${rdf}:li ${rdf}:parseType="Resource"><heirloom:Number>${face.number}</heirloom:Number>` +
        `<heirloom:Fidelity>${face.fidelity}</heirloom:Fidelity>` +
        (face.task ? `<heirloom:Task>${face.task}</heirloom:Task>` : '') +
        (face.model
          ? `<heirloom:ModelName>${escapeXml(face.model.name)}</heirloom:ModelName>` +
            `<heirloom:ModelSHA256>${escapeXml(face.model.sha256)}</heirloom:ModelSHA256>`
          : '') +
        `</${rdf}:li>`,
    )
    .join('');
  return (
    `<${rdf}:Description ${rdf}:about="" xmlns:heirloom="${HEIRLOOM_NS}"` +
    ` heirloom:Version="${escapeXml(p.version)}" heirloom:ModelName="${escapeXml(p.model.name)}"` +
    ` heirloom:ModelSHA256="${escapeXml(p.model.sha256)}" heirloom:Date="${escapeXml(p.date)}">` +
    `<heirloom:Faces><${rdf}:Seq>${faces}</${rdf}:Seq></heirloom:Faces></${rdf}:Description>`
  );
}

function textsDescription(rdf: string, texts: readonly TextEntry[]): string {
  const items = texts
    .map(
      (t) =>
        `<${rdf}:li ${rdf}:parseType="Resource"><pngtext:Keyword>${escapeXml(t.keyword)}</pngtext:Keyword>` +
        (t.language ? `<pngtext:Language>${escapeXml(t.language)}</pngtext:Language>` : '') +
        `<pngtext:Text>${escapeXml(t.text)}</pngtext:Text></${rdf}:li>`,
    )
    .join('');
  return (
    `<${rdf}:Description ${rdf}:about="" xmlns:pngtext="${PNG_TEXT_NS}">` +
    `<pngtext:Chunks><${rdf}:Seq>${items}</${rdf}:Seq></pngtext:Chunks></${rdf}:Description>`
  );
}

const PACKET_ID = 'W5M0MpCehiHzreSzNTczkc9d'; // the fixed id of every XMP packet wrapper (ISO 16684-1 §7.3.2)

/** A packet holding `descriptions` (rdf:Description elements written with the prefix "rdf"). */
function freshPacket(descriptions: string): string {
  return (
    `<?xpacket begin="\uFEFF" id="${PACKET_ID}"?>\n<x:xmpmeta xmlns:x="adobe:ns:meta/">` +
    `<rdf:RDF xmlns:rdf="${RDF}">${descriptions}</rdf:RDF></x:xmpmeta>\n<?xpacket end="w"?>`
  );
}

export interface XmpParts {
  /** The source's packet, already checked with isCarriableXmp. */
  readonly source?: string;
  readonly provenance: Provenance | null;
  /** A PNG source's text chunks, for an export that cannot hold them as chunks. */
  readonly texts: readonly TextEntry[];
}

/** `packet` (or a new one) with descriptions added, written with the packet's own prefix for rdf. */
function addDescriptions(packet: string | undefined, descriptions: (rdf: string) => string): string {
  const rdf = (packet && rdfPrefix(packet)) ?? 'rdf';
  if (!packet) return freshPacket(descriptions(rdf));
  const close = packet.lastIndexOf(`</${rdf}:RDF>`);
  return close < 0 ? packet : packet.slice(0, close) + descriptions(rdf) + packet.slice(close);
}

/**
 * The export's packet: the source's (normalised), with our provenance and the PNG texts added as descriptions of
 * their own, or a new packet when the source had none. Undefined when there is nothing to write.
 */
export function composeXmp(parts: XmpParts, image: XmpImage): string | undefined {
  const { provenance, texts } = parts;
  if (!parts.source && !provenance && texts.length === 0) return undefined;
  let base = parts.source ? normaliseXmp(parts.source, image) : undefined;
  // An earlier export's provenance gives way to this one's: two values of one property make invalid XMP.
  if (base && provenance) base = removeProperties(base, HEIRLOOM_NS);
  return addDescriptions(
    base,
    (rdf) =>
      (provenance ? provenanceDescription(rdf, provenance) : '') +
      (texts.length ? textsDescription(rdf, texts) : ''),
  );
}

/**
 * The standard packet of a JPEG whose XMP continues in ExtendedXMP segments (XMP Part 3 §1.1.3.1): `main` (or a
 * new packet) naming the extension by the MD5 of its serialisation.
 */
export function withExtendedXmpNote(main: string | undefined, guid: string): string {
  return addDescriptions(
    main,
    (rdf) =>
      `<${rdf}:Description ${rdf}:about="" xmlns:xmpNote="${XMP_NOTE}" xmpNote:HasExtendedXMP="${guid}"/>`,
  );
}
