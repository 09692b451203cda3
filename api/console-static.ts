/**
 * Serves the ops console (console/, built by `npm run console:build` into dist/console at install
 * time) at /console on the API's own origin, so it calls the API with no CORS. Hashed assets are
 * cached for a year; every other path under /console answers index.html (the single-page app
 * routes itself). A tree without the build answers 503 with how to build it, not a 500.
 */
import fs from 'node:fs';
import path from 'node:path';
import express, { type Router } from 'express';

export const CONSOLE_DIR = path.resolve(__dirname, '..', 'dist', 'console');

export function consoleRouter(dir: string = CONSOLE_DIR): Router {
  const router = express.Router();
  const index = path.join(dir, 'index.html');
  router.use('/assets', express.static(path.join(dir, 'assets'), { immutable: true, maxAge: '365d', index: false, fallthrough: false }));
  router.use(express.static(dir, { index: false, maxAge: 0 }));
  router.use((req, res, next) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    if (!fs.existsSync(index)) {
      res
        .status(503)
        .type('text/plain')
        .send('The Mandi console is not built. Run `npm run console:build` (npm ci and npm install build it too), then reload.\n');
      return;
    }
    res.setHeader('Cache-Control', 'no-cache');
    res.sendFile(index);
  });
  return router;
}
