import { OpenApiGeneratorV3, type OpenAPIRegistry } from '@asteasolutions/zod-to-openapi';

/** The OpenAPI document, generated from the same zod schemas that validate requests. */
export function openApiDocument(registry: OpenAPIRegistry) {
  return new OpenApiGeneratorV3(registry.definitions).generateDocument({
    openapi: '3.0.3',
    info: {
      title: 'Mandi API',
      version: '1.0.0',
      description: 'Subscriptions, checkout, markets and the wallet. Money is in paise (integers).',
    },
    servers: [{ url: '/' }],
  });
}
