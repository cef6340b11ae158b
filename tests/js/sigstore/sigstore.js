// sigstore-js, unmodified, as the tests drive it (see tests/test_sigstore_js.py).
//   node sigstore.js sign FULCIO_URL REKOR_URL TOKEN_FILE ARTIFACT OUT_BUNDLE
//   node sigstore.js verify TRUSTED_ROOT ARTIFACT BUNDLE IDENTITY ISSUER
// verify prints one JSON line, {"ok": true} or {"ok": false, "error": "..."}, and exits 0 or 1.
"use strict";
const crypto = require("node:crypto");
const fs = require("node:fs");
const { bundleFromJSON, bundleToJSON } = require("@sigstore/bundle");
const { TrustedRoot } = require("@sigstore/protobuf-specs");
const { FulcioSigner, MessageSignatureBundleBuilder, RekorWitness } = require("@sigstore/sign");
const { Verifier, toSignedEntity, toTrustMaterial } = require("@sigstore/verify");

async function sign(fulcioBaseURL, rekorBaseURL, tokenFile, artifact, out) {
  const token = fs.readFileSync(tokenFile, "utf8").trim();
  const signer = new FulcioSigner({ fulcioBaseURL, identityProvider: { getToken: async () => token } });
  const witnesses = [new RekorWitness({ rekorBaseURL })];
  const bundle = await new MessageSignatureBundleBuilder({ signer, witnesses }).create({
    data: fs.readFileSync(artifact),
  });
  fs.writeFileSync(out, JSON.stringify(bundleToJSON(bundle)));
}

// A DSSE bundle's signature covers the statement, not the artifact: the artifact must be
// one of the statement's subjects (SHA-256), as the in-toto attestation spec requires.
function checkSubject(bundle, data) {
  const statement = JSON.parse(bundle.content.dsseEnvelope.payload.toString("utf8"));
  const sha256 = crypto.createHash("sha256").update(data).digest("hex");
  if (!statement.subject.some((s) => s.digest && s.digest.sha256 === sha256)) {
    throw new Error(`no subject of the statement has the artifact's SHA-256 ${sha256}`);
  }
}

function verify(rootFile, artifact, bundleFile, identity, issuer) {
  const root = TrustedRoot.fromJSON(JSON.parse(fs.readFileSync(rootFile, "utf8")));
  const bundle = bundleFromJSON(JSON.parse(fs.readFileSync(bundleFile, "utf8")));
  const data = fs.readFileSync(artifact);
  const dsse = bundle.content.$case === "dsseEnvelope";
  const entity = dsse ? toSignedEntity(bundle) : toSignedEntity(bundle, data);
  new Verifier(toTrustMaterial(root)).verify(entity, {
    subjectAlternativeName: identity,
    extensions: { issuer },
  });
  if (dsse) checkSubject(bundle, data);
}

async function main() {
  const [command, ...args] = process.argv.slice(2);
  if (command === "sign") return sign(...args);
  try {
    verify(...args);
    console.log(JSON.stringify({ ok: true }));
  } catch (error) {
    console.log(JSON.stringify({ ok: false, error: `${error.name}: ${error.message}` }));
    process.exitCode = 1;
  }
}

main().catch((error) => {
  console.error(error.stack || String(error));
  process.exitCode = 2;
});
