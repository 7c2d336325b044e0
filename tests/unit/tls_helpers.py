# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Throwaway TLS material for tests that serve the emulator over HTTPS: a CA and a 127.0.0.1 certificate it signed.

Why a CA and not a self-signed leaf: "the CA given" must be testable exactly as users give one (SSL_CERT_FILE
pointing at their private CA), and a second, unrelated CA proves that trust comes from the CA, not from luck.
"""

from __future__ import annotations

import dataclasses
import datetime
import ipaddress
import pathlib
import ssl
import typing as t


@dataclasses.dataclass
class ThrowawayTls:
    """``context``: a server SSLContext for 127.0.0.1; ``ca_file``: the PEM of the CA that signed its certificate."""

    context: ssl.SSLContext
    ca_file: pathlib.Path


def _name(common_name: str) -> t.Any:
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _validity(builder: t.Any) -> t.Any:
    now = datetime.datetime.now(datetime.timezone.utc)
    return builder.not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=1))


def make_ca(directory: pathlib.Path, label: str) -> tuple[t.Any, t.Any, pathlib.Path]:
    """A CA key and certificate; the certificate is written to ``<label>-ca.pem``."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    usage = x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
                          key_encipherment=False, data_encipherment=False, key_agreement=False, encipher_only=False,
                          decipher_only=False)
    cert = (_validity(x509.CertificateBuilder().subject_name(_name(f"{label} test CA")).issuer_name(_name(f"{label} test CA"))
                      .public_key(key.public_key()).serial_number(x509.random_serial_number()))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(usage, critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))
    path = directory / f"{label}-ca.pem"
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key, cert, path


def throwaway_tls(directory: pathlib.Path, label: str = "throwaway") -> ThrowawayTls:
    """A new CA and a server certificate for 127.0.0.1 signed by it, ready to pass to AtlasEmulator(ssl_context=...)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    ca_key, ca_cert, ca_file = make_ca(directory, label)
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (_validity(x509.CertificateBuilder().subject_name(_name("127.0.0.1")).issuer_name(ca_cert.subject)
                      .public_key(key.public_key()).serial_number(x509.random_serial_number()))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    cert_file, key_file = directory / f"{label}-server.pem", directory / f"{label}-server-key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    return ThrowawayTls(context, ca_file)
