// Trust material: CAs, issued certificates, and the estate's set of them.
export { Authority, CertificateAuthority, IssuedCertificate, CertificateUse, Validity } from "./certificates";
export { EstatePki, ShardPki, SpokePki, SpokeTrust } from "./estate";
