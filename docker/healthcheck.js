// Container healthcheck of the api service: exits 0 when GET <path> on the local server returns a 2xx status.
// Usage: node docker/healthcheck.js [/readyz]. The image has no curl, so Node's fetch does the request.
const path = process.argv[2] || '/readyz';
const port = process.env.PORT || '3000';

fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(4000) })
  .then((response) => process.exit(response.ok ? 0 : 1))
  .catch(() => process.exit(1));
