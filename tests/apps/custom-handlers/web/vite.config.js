import { defineConfig } from 'vite';

// JSX through esbuild's automatic runtime: no plugin needed for a page this small.
export default defineConfig({
  esbuild: { jsx: 'automatic' },
  build: { outDir: 'dist', emptyOutDir: true },
});
