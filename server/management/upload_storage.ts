/**
 * A multer storage engine that streams each uploaded part straight into the
 * request's UploadSession (registry/upload.ts): the `archive` part as the
 * archive, each `files` part at the relative path its filename carries. No
 * part is buffered in memory or written anywhere else.
 */
import type { Request } from 'express';
import type { StorageEngine } from 'multer';
import type { UploadSession } from '../../registry/upload.js';
import { invalidArgument } from '../../runtime/errors.js';

const sessions = new WeakMap<Request, UploadSession>();

export function attachSession(req: Request, session: UploadSession): void {
  sessions.set(req, session);
}

export const sessionStorage: StorageEngine = {
  _handleFile(req, file, callback) {
    const session = sessions.get(req);
    let received: Promise<number>;
    if (!session) {
      file.stream.resume();
      received = Promise.reject(new Error('upload session missing'));
    } else if (file.fieldname === 'archive') {
      received = session.addArchive(file.stream);
    } else if (file.fieldname === 'files') {
      received = session.addFile(file.originalname, file.stream);
    } else {
      file.stream.resume();
      received = Promise.reject(
        invalidArgument(`Unexpected file part "${file.fieldname}": send the SavedModel as one "archive" part or as "files" parts.`),
      );
    }
    received.then(
      (size) => callback(null, { size }),
      (e: Error) => callback(e),
    );
  },
  _removeFile(_req, _file, callback) {
    // The session's work folder is removed as a whole when the upload fails.
    callback(null);
  },
};
