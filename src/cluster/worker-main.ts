/** A worker process of `icwatch run` (forked by WorkerPool): serves until the primary says stop or goes away. */
import { runWorker } from './worker.js';

const code = await runWorker();
setTimeout(() => process.exit(code), 100).unref();
