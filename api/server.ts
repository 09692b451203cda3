import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from './app';
import type { ApiDeps } from './deps';
import { attachMarketGateway } from './ws/gateway';

export interface RunningServer {
  server: http.Server;
  url: string;
  close(): Promise<void>;
}

/** The HTTP API on one port. */
export async function startHttpServer(deps: ApiDeps, port: number, host: string): Promise<RunningServer> {
  const server = http.createServer(createApp(deps));
  const closeMarketGateway = attachMarketGateway(server, deps);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  const address = server.address() as AddressInfo;
  const shownHost = host === '0.0.0.0' || host === '127.0.0.1' ? 'localhost' : host;
  return {
    server,
    url: `http://${shownHost}:${address.port}`,
    close: async () => {
      await closeMarketGateway();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
