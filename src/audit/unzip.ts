// Reading a ZIP archive held in memory (PKWARE APPNOTE 6.3): the central directory names each entry, its method,
// CRC-32 and sizes; stored and deflated entries are read, each checked against its CRC-32. No ZIP64 (the registry's
// writer, src/http/zip.ts, makes none). For the offline verifier, which opens an evidence pack without unzip.
import { crc32, inflateRawSync } from 'node:zlib';

export class ZipError extends Error {}

/** The entries of a ZIP archive by name, their bytes checked against their CRC-32. */
export function readZip(zip: Buffer): Map<string, Buffer> {
  let end = -1;
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 22 - 0xffff); i--)
    if (zip.readUInt32LE(i) === 0x06054b50) {
      end = i;
      break;
    }
  if (end < 0) throw new ZipError('not a ZIP archive: no end of central directory');
  const count = zip.readUInt16LE(end + 10);
  let at = zip.readUInt32LE(end + 16);
  const files = new Map<string, Buffer>();
  for (let n = 0; n < count; n++) {
    if (at + 46 > zip.length || zip.readUInt32LE(at) !== 0x02014b50)
      throw new ZipError(`central directory entry ${n + 1} is damaged`);
    const method = zip.readUInt16LE(at + 10);
    const crc = zip.readUInt32LE(at + 16);
    const size = zip.readUInt32LE(at + 20);
    const nameLength = zip.readUInt16LE(at + 28);
    const skip = nameLength + zip.readUInt16LE(at + 30) + zip.readUInt16LE(at + 32);
    const local = zip.readUInt32LE(at + 42);
    const name = zip.subarray(at + 46, at + 46 + nameLength).toString('utf8');
    at += 46 + skip;
    if (local + 30 > zip.length || zip.readUInt32LE(local) !== 0x04034b50)
      throw new ZipError(`${name}: its local header is damaged`);
    const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    const raw = zip.subarray(start, start + size);
    if (raw.length !== size) throw new ZipError(`${name}: truncated`);
    let data: Buffer;
    if (method === 0) data = raw;
    else if (method === 8) data = inflateRawSync(raw);
    else throw new ZipError(`${name}: compression method ${method} is not supported`);
    if (crc32(data) >>> 0 !== crc) throw new ZipError(`${name}: its CRC-32 does not match its bytes`);
    if (files.has(name)) throw new ZipError(`${name} appears twice`);
    files.set(name, data);
  }
  return files;
}
