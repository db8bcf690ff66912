#!/usr/bin/env python3
"""The independent Content Credentials reader the tests run (c2pa-python, the C2PA SDK's Python
binding), and the test certificates it trusts.

    c2pa_check.py certs DIR ALG    a test CA and an end-entity certificate issued by it, made now:
                                   DIR/ca.pem, DIR/chain.pem (end-entity, then the CA), DIR/key.pem
                                   (PKCS#8); ALG is es256 or ed25519
    c2pa_check.py read FILE CA     reads FILE's Content Credentials with CA as the only trust anchor
                                   and prints, as JSON: the validation state, the failure codes,
                                   and the active manifest's actions, ingredients and assertions

Exit status 0 when the file was read (whatever its validation state), 1 when it could not be.
"""
import datetime
import json
import mimetypes
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


def new_key(alg):
    return ec.generate_private_key(ec.SECP256R1()) if alg == "es256" else ed25519.Ed25519PrivateKey.generate()


def certificate(subject, issuer, public_key, issuer_key, alg, ca):
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject), x509.NameAttribute(NameOID.ORGANIZATION_NAME, "lineage tests")]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer), x509.NameAttribute(NameOID.ORGANIZATION_NAME, "lineage tests")]))
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=0 if ca else None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
    )
    if ca:
        usage = dict(digital_signature=False, key_cert_sign=True, crl_sign=True)
    else:
        usage = dict(digital_signature=True, key_cert_sign=False, crl_sign=False)
        builder = builder.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False)
    builder = builder.add_extension(x509.KeyUsage(content_commitment=False, key_encipherment=False,
                                                  data_encipherment=False, key_agreement=False,
                                                  encipher_only=False, decipher_only=False, **usage), critical=True)
    return builder.sign(issuer_key, hashes.SHA256() if alg == "es256" else None)


def certs(directory, alg):
    ca_key, ee_key = new_key(alg), new_key(alg)
    ca = certificate("lineage test CA", "lineage test CA", ca_key.public_key(), ca_key, alg, ca=True)
    ee = certificate("lineage test signer", "lineage test CA", ee_key.public_key(), ca_key, alg, ca=False)
    pem = lambda c: c.public_bytes(serialization.Encoding.PEM)
    with open(f"{directory}/ca.pem", "wb") as f:
        f.write(pem(ca))
    with open(f"{directory}/chain.pem", "wb") as f:
        f.write(pem(ee) + pem(ca))
    with open(f"{directory}/key.pem", "wb") as f:
        f.write(ee_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                     serialization.NoEncryption()))


def read(path, anchor):
    import c2pa

    with open(anchor) as f:
        anchors = f.read()
    settings = c2pa.Settings.from_dict({"verify": {"verify_trust": True}, "trust": {"trust_anchors": anchors}})
    context = c2pa.Context(settings)
    media_type = mimetypes.guess_type(path)[0] or "image/jpeg"
    try:
        with open(path, "rb") as stream:
            reader = c2pa.Reader(media_type, stream, context=context)
            store = json.loads(reader.json())
            state = reader.get_validation_state()
    except Exception as e:  # the SDK's errors: no manifest, a broken one
        print(json.dumps({"error": f"{type(e).__name__}: {e}"}))
        return 1
    manifest = store["manifests"][store["active_manifest"]]
    failures = [s.get("code") for s in store.get("validation_status", []) or []]
    results = store.get("validation_results", {}).get("activeManifest", {})
    failures += [s.get("code") for s in results.get("failure", [])]
    assertions = {a["label"]: a.get("data") for a in manifest.get("assertions", [])}
    actions = next((v["actions"] for k, v in assertions.items() if k.startswith("c2pa.actions")), [])
    print(json.dumps({
        "validation_state": str(state),
        "failures": failures,
        "signature_issuer": manifest.get("signature_info", {}).get("issuer"),
        "actions": actions,
        "ingredients": manifest.get("ingredients", []),
        "assertions": assertions,
    }))
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "certs":
        certs(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 4 and sys.argv[1] == "read":
        sys.exit(read(sys.argv[2], sys.argv[3]))
    else:
        sys.exit(__doc__)
