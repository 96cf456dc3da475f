// The parts of s3rver (an S3-compatible server in Node, no types of its own) the soak uses.
declare module 's3rver' {
  interface S3rverOptions {
    port?: number;
    address?: string;
    silent?: boolean;
    directory?: string;
    configureBuckets?: { name: string }[];
  }
  export default class S3rver {
    constructor(options?: S3rverOptions);
    run(): Promise<{ address: string; port: number; family: string }>;
    close(callback?: (err?: Error) => void): Promise<void>;
  }
}
