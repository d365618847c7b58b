// Trust material: CAs, issued certificates, and the estate's set of them.
export { CertificateAuthority, IssuedCertificate, CertificateUse, Validity } from "./certificates";
export { EstatePki, SpokeTrust } from "./estate";
