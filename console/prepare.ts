/**
 * npm's `prepare` (run by `npm ci` and `npm install`): builds the console into dist/console so
 * that `npm start` serves it with no extra step. A production install without dev dependencies
 * has no Vite; it skips the build and says so (the Docker image builds the console in its build
 * stage and copies it in).
 */
import { spawnSync } from 'node:child_process';

function installed(name: string): boolean {
  try {
    require.resolve(name);
    return true;
  } catch {
    return false;
  }
}

if (!installed('vite') || !installed('@vitejs/plugin-react')) {
  console.log('console: Vite is not installed (a production install); skipping the console build');
} else {
  const run = spawnSync('npm', ['run', '-s', 'console:build'], { stdio: 'inherit' });
  process.exit(run.status ?? 1);
}
