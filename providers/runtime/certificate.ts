/**
 * go-plugin AutoMTLS: a fresh, self-signed ECDSA P-256 certificate per process.
 *
 * Terraform trusts exactly the certificate printed in the handshake line and connects with server
 * name "localhost". node:crypto generates the P-256 key in well under a millisecond (RSA key
 * generation in JS would take seconds); the certificate itself is a few DER structures signed
 * with crypto.sign.
 */
import { generateKeyPairSync, randomBytes, sign, KeyObject } from 'crypto';
import * as der from './der';

export interface SelfSignedCertificate {
  /** DER bytes of the certificate. */
  der: Buffer;
  certPem: string;
  keyPem: string;
  privateKey: KeyObject;
}

const OID = {
  ecPublicKey: '1.2.840.10045.2.1',
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  commonName: '2.5.4.3',
  organization: '2.5.4.10',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  extKeyUsage: '2.5.29.37',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
};

function name(commonName: string, organization: string): Buffer {
  return der.sequence(
    der.set(der.sequence(der.objectIdentifier(OID.organization), der.utf8String(organization))),
    der.set(der.sequence(der.objectIdentifier(OID.commonName), der.utf8String(commonName))),
  );
}

function extension(oid: string, critical: boolean, value: Buffer): Buffer {
  return der.sequence(der.objectIdentifier(oid), ...(critical ? [der.boolean(true)] : []), der.octetString(value));
}

export function toPem(label: string, body: Buffer): string {
  const b64 = body.toString('base64').replace(/.{64}/g, '$&\n');
  return `-----BEGIN ${label}-----\n${b64}${b64.endsWith('\n') ? '' : '\n'}-----END ${label}-----\n`;
}

/**
 * Same shape as go-plugin's own certificates: CN/SAN localhost, CA:TRUE (the peer puts it in its
 * trust pool as-is), key usage digitalSignature+keyCertSign, EKU serverAuth+clientAuth — so the
 * same function also makes client certificates for tests and the start-up benchmark.
 */
export function generateSelfSignedCertificate(
  opts: { commonName?: string; validForHours?: number } = {},
): SelfSignedCertificate {
  const host = opts.commonName ?? 'localhost';
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const now = Date.now();
  const notBefore = new Date(now - 30_000); // tolerate small clock skew, as go-plugin does
  const notAfter = new Date(now + (opts.validForHours ?? 24 * 365) * 3600_000);
  const serial = randomBytes(16);
  serial[0] &= 0x7f;

  const signatureAlgorithm = der.sequence(der.objectIdentifier(OID.ecdsaWithSha256));
  const subject = name(host, 'HashiCorp');
  const extensions = der.sequence(
    // digitalSignature (bit 0) + keyCertSign (bit 5): 1000 0100, two unused trailing bits.
    extension(OID.keyUsage, true, der.bitString(Buffer.from([0x84]), 2)),
    extension(OID.basicConstraints, true, der.sequence(der.boolean(true))),
    extension(
      OID.extKeyUsage,
      false,
      der.sequence(der.objectIdentifier(OID.serverAuth), der.objectIdentifier(OID.clientAuth)),
    ),
    extension(OID.subjectAltName, false, der.sequence(der.implicitPrimitive(2, Buffer.from(host, 'ascii')))),
  );
  const tbs = der.sequence(
    der.explicit(0, der.smallInteger(2)), // v3
    der.unsignedInteger(serial),
    signatureAlgorithm,
    subject, // issuer = subject: self-signed
    der.sequence(der.time(notBefore), der.time(notAfter)),
    subject,
    spki,
    der.explicit(3, extensions),
  );
  const signature = sign('sha256', tbs, { key: privateKey, dsaEncoding: 'der' });
  const certDer = der.sequence(tbs, signatureAlgorithm, der.bitString(signature));
  return {
    der: certDer,
    certPem: toPem('CERTIFICATE', certDer),
    keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    privateKey,
  };
}
