/**
 * Appends records to TFRecord files named `<prefix>.<UTC time>.<pid>.<n>.tfrecord`
 * (n: six digits, counting this writer's files), in the background: the
 * request path only frames a record and queues it (`enqueue`, synchronous,
 * never throws); a single drain loop writes what is queued in one write per
 * batch. The queue holds at most `maxQueueBytes` framed bytes (queued plus
 * being written); a record that does not fit is dropped and reported, never
 * waited for.
 *
 * A file is rotated (fsync, close, next file) before a record would take it
 * past `maxFileBytes` (a record larger than that gets a file of its own), and
 * fsync'ed and closed by `close()`. Files are created exclusively, never
 * overwritten. Before a file is opened, the folder it goes into is checked to
 * resolve (symbolic links followed) inside `root`; missing folders are made.
 * A failed write drops its batch (reported), cuts the partial record off the
 * file when it can, and the next batch opens a new file.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../../serving/log.js';
import { failedPrecondition } from '../../runtime/errors.js';
import { writeTfRecords } from '../tfrecord.js';
import { isInside } from './logging_config.js';

export type DropReason = 'queue_full' | 'write_error' | 'closed';

export interface TfRecordWriterOptions {
  /** Absolute path prefix of the files (a folder, then the start of the file names). */
  prefix: string;
  /** The folder every file must resolve inside (absolute). */
  root: string;
  maxFileBytes: number;
  maxQueueBytes: number;
  log: Logger;
  /** Records of `tag` (the model) written to a file. */
  onWritten?(tag: string, count: number): void;
  /** A record of `tag` dropped. */
  onDropped?(tag: string, reason: DropReason): void;
}

interface Entry {
  bytes: Uint8Array;
  tag: string;
}

/** "20261206T222939Z". */
function fileTime(d: Date): string {
  return d.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}

export class TfRecordFileWriter {
  private queue: Entry[] = [];
  private pendingBytes = 0;
  private draining: Promise<void> | undefined;
  private file: fs.FileHandle | undefined;
  private filePath = '';
  private fileBytes = 0;
  private fileCount = 0;
  private closed = false;
  private lastErrorLogged = -Infinity;
  private errorsNotLogged = 0;

  constructor(private readonly options: TfRecordWriterOptions) {}

  /** Bytes queued or being written now. */
  get queuedBytes(): number {
    return this.pendingBytes;
  }

  /** The file being appended to, if one is open. */
  get currentFile(): string | undefined {
    return this.file ? this.filePath : undefined;
  }

  /** Queues one record (framed here); false when it was dropped (queue full, writer closed). */
  enqueue(record: Uint8Array, tag: string): boolean {
    if (this.closed) {
      this.options.onDropped?.(tag, 'closed');
      return false;
    }
    const bytes = writeTfRecords([record]);
    if (this.pendingBytes + bytes.length > this.options.maxQueueBytes) {
      this.options.onDropped?.(tag, 'queue_full');
      return false;
    }
    this.pendingBytes += bytes.length;
    this.queue.push({ bytes, tag });
    this.draining ??= this.drain().finally(() => (this.draining = undefined));
    return true;
  }

  /** Resolves once everything queued before the call is written (or dropped). */
  async flush(): Promise<void> {
    while (this.draining) await this.draining;
  }

  /** Writes what is queued, then fsyncs and closes the file; later records are dropped. */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
    await this.finishFile();
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue;
      this.queue = [];
      // Cut the batch where the file must rotate; each group is one write.
      let group: Entry[] = [];
      let groupBytes = 0;
      for (const entry of batch) {
        const room = this.options.maxFileBytes - this.fileBytes - groupBytes;
        if (entry.bytes.length > room && this.fileBytes + groupBytes > 0) {
          await this.write(group, groupBytes);
          await this.finishFile();
          group = [];
          groupBytes = 0;
        }
        group.push(entry);
        groupBytes += entry.bytes.length;
      }
      await this.write(group, groupBytes);
    }
  }

  private async write(group: Entry[], bytes: number): Promise<void> {
    if (group.length === 0) return;
    const start = this.fileBytes;
    try {
      const file = await this.openFile();
      const data = group.length === 1 ? group[0].bytes : Buffer.concat(group.map((e) => e.bytes), bytes);
      let done = 0;
      while (done < data.length) {
        const { bytesWritten } = await file.write(data, done, data.length - done);
        done += bytesWritten;
      }
      this.fileBytes += bytes;
      const counts = new Map<string, number>();
      for (const e of group) counts.set(e.tag, (counts.get(e.tag) ?? 0) + 1);
      for (const [tag, n] of counts) this.options.onWritten?.(tag, n);
    } catch (e) {
      this.logError(`dropped ${group.length} record(s) that could not be written to ${this.file ? this.filePath : `${this.options.prefix}.*`}: ${(e as Error).message}`);
      for (const entry of group) this.options.onDropped?.(entry.tag, 'write_error');
      // Cut a partial record off, so the file stays readable; the next batch starts a new file.
      await this.file?.truncate(start).catch(() => {});
      await this.finishFile();
    } finally {
      this.pendingBytes -= bytes;
    }
  }

  private async openFile(): Promise<fs.FileHandle> {
    if (this.file) return this.file;
    const dir = path.dirname(this.options.prefix);
    await this.makeFolderInsideRoot(dir);
    const stem = `${this.options.prefix}.${fileTime(new Date())}.${process.pid}`;
    for (;;) {
      const candidate = `${stem}.${String(this.fileCount++).padStart(6, '0')}.tfrecord`;
      try {
        this.file = await fs.open(candidate, 'wx');
        this.filePath = candidate;
        this.fileBytes = 0;
        return this.file;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
    }
  }

  /** Makes `dir` (and missing parents) after checking that its deepest existing ancestor resolves inside the root. */
  private async makeFolderInsideRoot(dir: string): Promise<void> {
    const root = await fs.realpath(this.options.root).catch(() => undefined);
    if (root === undefined) await fs.mkdir(this.options.root, { recursive: true });
    const realRoot = await fs.realpath(this.options.root);
    let existing = dir;
    for (;;) {
      try {
        const real = await fs.realpath(existing);
        if (!isInside(real, realRoot)) {
          throw failedPrecondition(`${existing} resolves to ${real}, outside the request log folder ${realRoot}; refusing to write request logs there.`);
        }
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
        const parent = path.dirname(existing);
        if (parent === existing) break;
        existing = parent;
      }
    }
    await fs.mkdir(dir, { recursive: true });
  }

  /** fsync and close the current file, if any. */
  private async finishFile(): Promise<void> {
    const file = this.file;
    if (!file) return;
    this.file = undefined;
    try {
      await file.sync();
    } catch (e) {
      this.logError(`fsync of ${this.filePath} failed: ${(e as Error).message}`);
    }
    await file.close().catch(() => {});
  }

  /** At most one error line a minute per writer (the drop counters count every record). */
  private logError(message: string): void {
    const now = performance.now();
    if (now - this.lastErrorLogged < 60_000) {
      this.errorsNotLogged++;
      return;
    }
    const more = this.errorsNotLogged > 0 ? ` (${this.errorsNotLogged} similar error(s) in the last minute not shown)` : '';
    this.options.log.error(`Request log: ${message}${more}`);
    this.lastErrorLogged = now;
    this.errorsNotLogged = 0;
  }
}
