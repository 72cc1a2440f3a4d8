/**
 * The defaults of every configuration key: what the schema produces from nothing. Keys, defaults and their
 * meanings are declared once, in schema.ts (see there how to add a key); config/default.yaml documents the same keys
 * for operators, and a test keeps the two equal.
 */
import { configSchema, type Config } from './schema.js';

export type { Config } from './schema.js';

export const DEFAULTS: Config = configSchema.parse({});
