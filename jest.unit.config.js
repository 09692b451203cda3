/** Pure domain tests only: no database, no Temporal. `npm run test:unit`. */
const base = require('./jest.config');
module.exports = { ...base, roots: ['<rootDir>/test/unit'], globalSetup: undefined, globalTeardown: undefined };
