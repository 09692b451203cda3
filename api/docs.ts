import express, { type Router } from 'express';
import { errorBody } from './errors';

/**
 * GET /docs: the API reference rendered by Redoc from /openapi.json. The renderer is served from
 * node_modules, never a CDN, and the page's Content-Security-Policy keeps it from loading
 * anything from elsewhere (Redoc's footer logo, which it would fetch from its CDN, stays hidden).
 */
export function docsRouter(): Router {
  const router = express.Router();
  let bundle: string | null = null;
  try {
    bundle = require.resolve('redoc/bundles/redoc.standalone.js');
  } catch {
    bundle = null;
  }

  router.get('/docs', (_req, res) => {
    if (!bundle) {
      res
        .status(503)
        .json(
          errorBody(
            'docs_unavailable',
            'The reference renderer (npm package redoc) is not installed; the documents are at /openapi.json and /asyncapi.json',
          ),
        );
      return;
    }
    res
      .set(
        'Content-Security-Policy',
        "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:",
      )
      .type('html')
      .send(PAGE);
  });
  router.get('/docs/redoc.standalone.js', (_req, res) => {
    if (!bundle) {
      res.status(404).json(errorBody('not_found', 'The reference renderer is not installed'));
      return;
    }
    res.set('Cache-Control', 'public, max-age=3600').sendFile(bundle);
  });
  return router;
}

const PAGE = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>Mandi API reference</title>
  </head>
  <body>
    <redoc spec-url="/openapi.json" path-in-middle-panel="true" required-props-first="true"></redoc>
    <script src="/docs/redoc.standalone.js"></script>
  </body>
</html>
`;
