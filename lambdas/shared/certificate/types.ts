/** The certificate data the validate phase and the verification steps exchange. Public data only, apart from the bundle's key. */

/** A certificate as staged by an operator or issued by ACME: PEM text. */
export interface CertificateBundle {
  /** The leaf (or a "fullchain": leaf first, then intermediates). */
  readonly certificate: string;
  /** The private key (PEM). Never logged, never put in a message. */
  readonly privateKey: string;
  /** Intermediates, the leaf's issuer first, no root. */
  readonly chain?: string;
}

/** What the workflow reports and compares about a certificate. Public data only. */
export interface CertificateSummary {
  /** Uppercase hex, as `X509Certificate.serialNumber` gives it. */
  readonly serial: string;
  /** Lowercase hex, no colons, SHA-256 of the DER. */
  readonly sha256: string;
  /** Uppercase hex, no colons, MD5 of the DER (what `openssl x509 -noout -fingerprint -md5` prints, minus colons). */
  readonly md5: string;
  /** ISO-8601. */
  readonly notBefore: string;
  /** ISO-8601. */
  readonly notAfter: string;
  /** One line, e.g. "CN=*.gitter.im, O=Gitter". */
  readonly subject: string;
  readonly issuer: string;
  /** DNS subject alternative names, lowercased. */
  readonly names: string[];
  /** e.g. 'RSA-2048', 'EC-P-256', 'Ed25519'. */
  readonly keyType: string;
}

/** What a new certificate is validated against. */
export interface ValidationPolicy {
  /** Each must be covered by a DNS SAN, e.g. ['*.gitter.im', 'gitter.im']. */
  readonly requiredNames: readonly string[];
  readonly now: Date;
  /**
   * The certificate in use: the new one must expire later, and must cover every name the current
   * one covers.
   */
  readonly current?: { readonly notAfter: string; readonly names?: readonly string[] };
  /** PEM roots trusted in addition to `tls.rootCertificates` (private CA, tests). */
  readonly extraTrustedRoots?: readonly string[];
  /** Refuse a certificate that expires within this many days (default 7). */
  readonly minDaysValid?: number;
}

/** A successful validation. */
export interface ValidationResult {
  readonly summary: CertificateSummary;
  readonly chain: CertificateSummary[];
  /** Subject of the trusted root the chain leads to. */
  readonly trustedRoot: string;
  readonly warnings: string[];
}
