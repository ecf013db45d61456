// A minimal streaming ZIP writer (PKWARE APPNOTE 6.3): stored entries only (no compression), each followed by a
// data descriptor so that its CRC-32 and size need not be known before its bytes are sent, UTF-8 names. No ZIP64:
// an archive or entry past 4 GiB is refused rather than written wrong.
import { crc32 } from 'node:zlib';

export interface ZipFile {
  name: string;
  data: AsyncIterable<Uint8Array>;
}

const MAX = 0xffffffff;
const UTF8_AND_DESCRIPTOR = 0x0800 | 0x0008;

/** MS-DOS date and time fields (local time in the format, written here as UTC). */
function dosTime(d: Date): { time: number; date: number } {
  return {
    time: (d.getUTCHours() << 11) | (d.getUTCMinutes() << 5) | Math.floor(d.getUTCSeconds() / 2),
    date: ((d.getUTCFullYear() - 1980) << 9) | ((d.getUTCMonth() + 1) << 5) | d.getUTCDate(),
  };
}

function header(fields: [number, 2 | 4][]): Buffer {
  const buf = Buffer.alloc(fields.reduce((n, [, size]) => n + size, 0));
  let at = 0;
  for (const [value, size] of fields) {
    if (size === 2) buf.writeUInt16LE(value, at);
    else buf.writeUInt32LE(value, at);
    at += size;
  }
  return buf;
}

/** The archive's bytes, entry by entry as each file's data arrives, then the central directory. */
export async function* zipStream(
  files: AsyncIterable<ZipFile> | Iterable<ZipFile>,
  modified: Date,
): AsyncGenerator<Uint8Array> {
  const { time, date } = dosTime(modified);
  const central: Buffer[] = [];
  let offset = 0;
  let count = 0;
  for await (const file of files) {
    const name = Buffer.from(file.name, 'utf8');
    const local = Buffer.concat([
      header([
        [0x04034b50, 4],
        [20, 2], // version needed: 2.0
        [UTF8_AND_DESCRIPTOR, 2],
        [0, 2], // stored
        [time, 2],
        [date, 2],
        [0, 4], // CRC-32, compressed and uncompressed size: in the data descriptor
        [0, 4],
        [0, 4],
        [name.length, 2],
        [0, 2],
      ]),
      name,
    ]);
    const start = offset;
    yield local;
    offset += local.length;
    let crc = 0;
    let size = 0;
    for await (const chunk of file.data) {
      crc = crc32(chunk, crc);
      size += chunk.length;
      if (size > MAX) throw new Error(`${file.name} is larger than a ZIP without ZIP64 can hold`);
      yield chunk;
    }
    offset += size;
    const descriptor = header([
      [0x08074b50, 4],
      [crc, 4],
      [size, 4],
      [size, 4],
    ]);
    yield descriptor;
    offset += descriptor.length;
    if (offset > MAX) throw new Error('the archive is larger than a ZIP without ZIP64 can hold');
    central.push(
      Buffer.concat([
        header([
          [0x02014b50, 4],
          [0x031e, 2], // made by: UNIX, 3.0
          [20, 2],
          [UTF8_AND_DESCRIPTOR, 2],
          [0, 2],
          [time, 2],
          [date, 2],
          [crc, 4],
          [size, 4],
          [size, 4],
          [name.length, 2],
          [0, 2], // extra
          [0, 2], // comment
          [0, 2], // disk
          [0, 2], // internal attributes
          [(0o100644 << 16) >>> 0, 4], // external: a regular file, rw-r--r--
          [start, 4],
        ]),
        name,
      ]),
    );
    count += 1;
  }
  const directory = Buffer.concat(central);
  yield directory;
  yield header([
    [0x06054b50, 4],
    [0, 2],
    [0, 2],
    [count, 2],
    [count, 2],
    [directory.length, 4],
    [offset, 4],
    [0, 2],
  ]);
}
