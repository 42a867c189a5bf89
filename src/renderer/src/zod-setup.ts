import { config } from 'zod';

// The New Run form takes its defaults from the shared zod schema. zod probes
// `new Function` when a schema is built, to compile fast parsers; the page's
// CSP (no 'unsafe-eval') blocks that and reports a violation. jitless skips
// the probe. This module must be imported before anything that builds schemas.
config({ jitless: true });
