/**
 * The gRPC server's credentials, as TF Serving's BuildServerCredentials
 * (model_servers/server.cc) makes them: plaintext without
 * --ssl_config_file; with it, TLS with the SSLConfig's server key and
 * certificate, and with client_verify every client must present a
 * certificate that custom_ca signed (others are refused in the handshake).
 * The same credentials serve --port and --grpc_socket_path.
 *
 * The PEM texts are checked here, before anything listens, so a bad key or
 * certificate stops the server at startup with an error naming the file.
 */
import tls from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import { invalidArgument } from '../../runtime/errors.js';
import { readSslConfig } from '../config_file.js';

/** Plaintext credentials when `sslConfigFile` is undefined; else TLS from that SSLConfig file. */
export async function grpcServerCredentials(sslConfigFile: string | undefined): Promise<grpc.ServerCredentials> {
  if (sslConfigFile === undefined) return grpc.ServerCredentials.createInsecure();
  const config = await readSslConfig(sslConfigFile);
  const key = Buffer.from(config.serverKey);
  const cert = Buffer.from(config.serverCert);
  const ca = config.customCa ? Buffer.from(config.customCa) : null;
  try {
    // Parses the key, the certificate (and that they match) and the CA as the TLS server will.
    tls.createSecureContext({ key, cert, ...(ca ? { ca } : {}) });
  } catch (e) {
    throw invalidArgument(`'${sslConfigFile}': the SSLConfig's server_key, server_cert or custom_ca is not usable PEM: ${(e as Error).message}`);
  }
  return grpc.ServerCredentials.createSsl(ca, [{ private_key: key, cert_chain: cert }], config.clientVerify);
}
