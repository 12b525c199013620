"""Test PKI: a CA, the server certificate and client certificates per app.

Every certificate carries key usage, a subject key identifier and an authority key identifier: Python 3.13
verifies with VERIFY_X509_STRICT, which refuses a CA without key usage or subject key identifier and a leaf
without authority key identifier. Certificates left in a work directory by an older emulator that lack them
are made anew.
"""

import datetime
import hashlib
import ipaddress
import json
import os

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CERT_PASSWORD = "emulator-cert-password"
PKI_MANIFEST = "pki.json"
# The client certificate names every tenant's default apps use.
DEFAULT_CERT_NAMES = ("main", "no_app_role", "no_exchange_role", "expired_certificate")


def _utcnow():
    return datetime.datetime.now(datetime.timezone.utc)


def _name(common_name):
    return x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "exo-emulator"),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
    ])


def _pem_key(key, password=None):
    encryption = serialization.NoEncryption()
    if password:
        encryption = serialization.BestAvailableEncryption(password.encode())
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)


def _pem_cert(cert):
    return cert.public_bytes(serialization.Encoding.PEM)


def _write(path, data):
    tmp = path + ".tmp"
    with open(tmp, "wb") as handle:
        handle.write(data)
    os.replace(tmp, path)


def _extension(cert, kind):
    try:
        return cert.extensions.get_extension_for_class(kind).value
    except x509.ExtensionNotFound:
        return None


def strict_enough(cert, issuer):
    """Tell whether ``cert`` passes strict X.509 verification as signed by ``issuer`` (a certificate).

    It must name its key and its issuer's key (subject and authority key identifiers, the latter equal to the
    issuer's subject key identifier) and say what its key is for (key usage).
    """
    key_id = _extension(cert, x509.SubjectKeyIdentifier)
    authority = _extension(cert, x509.AuthorityKeyIdentifier)
    issuer_key_id = _extension(issuer, x509.SubjectKeyIdentifier)
    return (key_id is not None and authority is not None and issuer_key_id is not None
            and _extension(cert, x509.KeyUsage) is not None
            and cert.issuer == issuer.subject and authority.key_identifier == issuer_key_id.digest)


def _key_ids(builder, public_key, issuer_public_key):
    """Add the subject and authority key identifiers to a certificate builder."""
    return (builder
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_public_key), critical=False))


# What the leaves' keys are for: signatures only (TLS with ECDHE, JWT client assertions).
LEAF_KEY_USAGE = x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                               data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
                               encipher_only=False, decipher_only=False)
CA_KEY_USAGE = x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                             data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                             encipher_only=False, decipher_only=False)


def thumbprints(cert):
    """SHA-1 and SHA-256 thumbprints (upper-case hex) of a certificate."""
    der = cert.public_bytes(serialization.Encoding.DER)
    return hashlib.sha1(der).hexdigest().upper(), hashlib.sha256(der).hexdigest().upper()


class ClientCertificate:
    """One app certificate as the files a client uses and the facts Entra keeps."""

    __slots__ = ("name", "pem_path", "encrypted_pem_path", "pfx_path", "cert_path", "password",
                 "sha1", "sha256", "not_before", "not_after", "public_key")

    def __init__(self, name, directory, cert):
        self.name = name
        self.pem_path = os.path.join(directory, name + ".pem")
        self.encrypted_pem_path = os.path.join(directory, name + "-encrypted.pem")
        self.pfx_path = os.path.join(directory, name + ".pfx")
        self.cert_path = os.path.join(directory, name + ".crt")
        self.password = CERT_PASSWORD
        self.sha1, self.sha256 = thumbprints(cert)
        self.not_before = cert.not_valid_before_utc.timestamp()
        self.not_after = cert.not_valid_after_utc.timestamp()
        self.public_key = cert.public_key()

    def describe(self):
        return {
            "certificate_path": self.pem_path,
            "certificate_encrypted_path": self.encrypted_pem_path,
            "certificate_pfx_path": self.pfx_path,
            "certificate_cert_path": self.cert_path,
            "certificate_password": self.password,
            "certificate_thumbprint": self.sha1,
            "certificate_thumbprint_sha256": self.sha256,
        }


class Pki:
    """Creates (or reuses) every key and certificate the emulator needs in ``directory``."""

    def __init__(self, directory, client_names=DEFAULT_CERT_NAMES):
        self.directory = os.path.abspath(directory)
        os.makedirs(self.directory, exist_ok=True)
        self.ca_path = os.path.join(self.directory, "ca.pem")
        self.ca_key_path = os.path.join(self.directory, "ca-key.pem")
        self.server_cert_path = os.path.join(self.directory, "server.pem")
        self.server_key_path = os.path.join(self.directory, "server-key.pem")
        self.signing_key_path = os.path.join(self.directory, "token-signing-key.pem")
        self._ca_cert, self._ca_key = self._load_or_create_ca()
        self._ensure_server_certificate()
        self.signing_key = self._load_or_create_signing_key()
        self.clients = {}
        for name in client_names:
            self.client(name)

    # -- CA and server -------------------------------------------------
    def _load_or_create_ca(self):
        if os.path.exists(self.ca_path) and os.path.exists(self.ca_key_path):
            with open(self.ca_path, "rb") as handle:
                cert = x509.load_pem_x509_certificate(handle.read())
            with open(self.ca_key_path, "rb") as handle:
                key = serialization.load_pem_private_key(handle.read(), None)
            if cert.not_valid_after_utc > _utcnow() + datetime.timedelta(days=30) and strict_enough(cert, cert):
                return cert, key
        key = ec.generate_private_key(ec.SECP256R1())
        now = _utcnow()
        builder = (x509.CertificateBuilder()
                   .subject_name(_name("exo-emulator test CA"))
                   .issuer_name(_name("exo-emulator test CA"))
                   .public_key(key.public_key())
                   .serial_number(x509.random_serial_number())
                   .not_valid_before(now - datetime.timedelta(days=1))
                   .not_valid_after(now + datetime.timedelta(days=3650))
                   .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                   .add_extension(CA_KEY_USAGE, critical=True))
        cert = _key_ids(builder, key.public_key(), key.public_key()).sign(key, hashes.SHA256())
        _write(self.ca_key_path, _pem_key(key))
        _write(self.ca_path, _pem_cert(cert))
        # A new CA invalidates everything it signed before.
        for stale in (self.server_cert_path, self.server_key_path):
            if os.path.exists(stale):
                os.remove(stale)
        return cert, key

    def _issued_by_current_ca(self, cert):
        return strict_enough(cert, self._ca_cert) and cert.not_valid_after_utc > _utcnow()

    def _ensure_server_certificate(self):
        if os.path.exists(self.server_cert_path) and os.path.exists(self.server_key_path):
            with open(self.server_cert_path, "rb") as handle:
                if self._issued_by_current_ca(x509.load_pem_x509_certificate(handle.read())):
                    return
        key = ec.generate_private_key(ec.SECP256R1())
        now = _utcnow()
        san = x509.SubjectAlternativeName([
            x509.DNSName("localhost"),
            x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
        ])
        builder = (x509.CertificateBuilder()
                   .subject_name(_name("localhost"))
                   .issuer_name(self._ca_cert.subject)
                   .public_key(key.public_key())
                   .serial_number(x509.random_serial_number())
                   .not_valid_before(now - datetime.timedelta(days=1))
                   .not_valid_after(now + datetime.timedelta(days=825))
                   .add_extension(san, critical=False)
                   .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                   .add_extension(LEAF_KEY_USAGE, critical=True)
                   .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False))
        cert = _key_ids(builder, key.public_key(), self._ca_key.public_key()).sign(self._ca_key, hashes.SHA256())
        _write(self.server_key_path, _pem_key(key))
        _write(self.server_cert_path, _pem_cert(cert))

    def _load_or_create_signing_key(self):
        if os.path.exists(self.signing_key_path):
            with open(self.signing_key_path, "rb") as handle:
                return serialization.load_pem_private_key(handle.read(), None)
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        _write(self.signing_key_path, _pem_key(key))
        return key

    # -- client certificates -------------------------------------------
    def client(self, name):
        """The client certificate ``name``, created on first use (expired when the name says so)."""
        if name in self.clients:
            return self.clients[name]
        directory = os.path.join(self.directory, "clients")
        os.makedirs(directory, exist_ok=True)
        cert = None
        if os.path.exists(os.path.join(directory, name + ".pem")):
            with open(os.path.join(directory, name + ".crt"), "rb") as handle:
                cert = x509.load_pem_x509_certificate(handle.read())
            if not strict_enough(cert, self._ca_cert):
                cert = None
        if cert is None:
            cert = self._create_client(directory, name, expired="expired" in name)
        self.clients[name] = ClientCertificate(name, directory, cert)
        return self.clients[name]

    def _create_client(self, directory, name, expired):
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        now = _utcnow()
        if expired:
            not_before, not_after = now - datetime.timedelta(days=730), now - datetime.timedelta(days=365)
        else:
            not_before, not_after = now - datetime.timedelta(days=1), now + datetime.timedelta(days=730)
        builder = (x509.CertificateBuilder()
                   .subject_name(_name("exo-emulator app " + name))
                   .issuer_name(self._ca_cert.subject)
                   .public_key(key.public_key())
                   .serial_number(x509.random_serial_number())
                   .not_valid_before(not_before)
                   .not_valid_after(not_after)
                   .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                   .add_extension(LEAF_KEY_USAGE, critical=True)
                   .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False))
        cert = _key_ids(builder, key.public_key(), self._ca_key.public_key()).sign(self._ca_key, hashes.SHA256())
        cert_pem = _pem_cert(cert)
        base = os.path.join(directory, name)
        _write(base + ".crt", cert_pem)
        _write(base + "-encrypted.pem", _pem_key(key, CERT_PASSWORD) + cert_pem)
        pfx = pkcs12.serialize_key_and_certificates(
            name.encode(), key, cert, None, serialization.BestAvailableEncryption(CERT_PASSWORD.encode()))
        _write(base + ".pfx", pfx)
        # Written last: its presence marks a complete set.
        _write(base + ".pem", _pem_key(key) + cert_pem)
        return cert

    def manifest(self):
        data = {"ca_path": self.ca_path, "server_cert_path": self.server_cert_path,
                "clients": {name: c.describe() for name, c in self.clients.items()}}
        _write(os.path.join(self.directory, PKI_MANIFEST), json.dumps(data, indent=2).encode())
        return data
