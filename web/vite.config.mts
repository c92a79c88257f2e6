import { fileURLToPath } from 'node:url';

import vue from '@vitejs/plugin-vue';
import { defineConfig } from 'vite';

const webRoot = fileURLToPath(new URL('.', import.meta.url));

// The API server listens here in development (PORT in lib/config.ts defaults to 3000).
const API_ORIGIN = 'http://127.0.0.1:3000';

export default defineConfig({
  root: webRoot,
  plugins: [vue()],
  define: {
    // The Studio uses only the Composition API, so the legacy code paths are dropped from the bundle.
    __VUE_OPTIONS_API__: 'false',
    __VUE_PROD_DEVTOOLS__: 'false',
    __VUE_PROD_HYDRATION_MISMATCH_DETAILS__: 'false',
    __VUE_I18N_FULL_INSTALL__: 'true',
    __VUE_I18N_LEGACY_API__: 'false',
    __INTLIFY_PROD_DEVTOOLS__: 'false',
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // bench/bundle-size.ts reads the manifest to find what each route loads.
    manifest: true,
  },
  server: {
    host: '127.0.0.1',
    proxy: Object.fromEntries(['/api', '/v1', '/files', '/healthz', '/readyz'].map((prefix) => [prefix, API_ORIGIN])),
  },
});
