#!/usr/bin/env node
import { ConfigError } from '../lib/config';
import { buildApp } from '../lib/app';

try {
  buildApp();
} catch (error) {
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
  throw error;
}
