import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import type { LabHost } from '../lab/lab-host';
import { serveStatic } from './static-files';
import { MAX_FRAME_BYTES, OutputBudget, bridgeSocket, refuseUpgrade, type Admission } from './ws-bridge';

/** The same policy the page declares in its meta tag, sent as a header too. */
const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; " +
  "connect-src 'self' ws://127.0.0.1:* ws://localhost:*; object-src 'none'; base-uri 'none'; " +
  "form-action 'none'; frame-ancestors 'none'";

export interface WebServer {
  url: string;
  token: string;
  port: number;
  close(): Promise<void>;
}

/** Serve the built renderer and a token-guarded WebSocket LabApi on loopback only. */
export async function startWebServer(host: LabHost, rendererDir: string, port = 0): Promise<WebServer> {
  const token = randomBytes(24).toString('base64url');
  const server: Server = createServer((req, res) => {
    const headers = {
      'Content-Security-Policy': CSP,
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { ...headers, 'Cache-Control': 'no-store' }).end('method not allowed');
      return;
    }
    void serveStatic(rendererDir, req, res, headers);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  const actualPort = (server.address() as AddressInfo).port;
  const admission: Admission = {
    token,
    origins: [`http://127.0.0.1:${actualPort}`, `http://localhost:${actualPort}`],
  };
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES });
  // One budget for the output of every connection: eight clients that stop reading cannot hold eight times the cap.
  const budget = new OutputBudget();
  server.on('upgrade', (req, socket, head) => {
    const refusal = refuseUpgrade(req, admission);
    if (refusal) {
      socket.end(`HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\n\r\n${refusal}\n`);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => bridgeSocket(ws, host, { budget }));
  });
  return {
    url: `http://127.0.0.1:${actualPort}/?token=${token}`,
    token,
    port: actualPort,
    close: async () => {
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
