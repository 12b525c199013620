"""The emulator's certificates pass the strict X.509 verification Python 3.13 clients use (VERIFY_X509_STRICT)."""

import datetime
import ssl

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from exo_emulator import pki


def handshake(client_context, server_context, server_hostname="127.0.0.1"):
    """Run a TLS handshake between two contexts in memory; return the client's SSLError or None."""
    to_server, to_client = ssl.MemoryBIO(), ssl.MemoryBIO()
    from_server, from_client = ssl.MemoryBIO(), ssl.MemoryBIO()
    client = client_context.wrap_bio(to_client, from_client, server_hostname=server_hostname)
    server = server_context.wrap_bio(to_server, from_server, server_side=True)
    done = {"client": False, "server": False}
    for _round in range(10):
        for name, side in (("client", client), ("server", server)):
            if done[name]:
                continue
            try:
                side.do_handshake()
                done[name] = True
            except ssl.SSLWantReadError:
                pass
            except ssl.SSLError as exc:
                if name == "client":
                    return exc
                raise
        to_server.write(from_client.read())
        to_client.write(from_server.read())
        if all(done.values()):
            return None
    raise AssertionError("the handshake did not finish")


def strict_client(ca_path):
    context = ssl.create_default_context(cafile=ca_path)
    context.verify_flags |= ssl.VERIFY_X509_STRICT
    return context


def server_context(the_pki):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(the_pki.server_cert_path, the_pki.server_key_path)
    return context


def test_a_strict_client_accepts_the_server_certificate(tmp_path):
    the_pki = pki.Pki(str(tmp_path), client_names=("main",))
    assert handshake(strict_client(the_pki.ca_path), server_context(the_pki)) is None


def test_a_strict_client_refuses_a_leaf_without_authority_key_identifier(tmp_path):
    """The check above can fail: a leaf made the way the emulator made them before is refused."""
    the_pki = pki.Pki(str(tmp_path), client_names=())
    with open(the_pki.ca_key_path, "rb") as handle:
        ca_key = pki.serialization.load_pem_private_key(handle.read(), None)
    with open(the_pki.ca_path, "rb") as handle:
        ca_cert = x509.load_pem_x509_certificate(handle.read())
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    bare = (x509.CertificateBuilder().subject_name(pki._name("localhost")).issuer_name(ca_cert.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(pki.ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))
    cert_path, key_path = tmp_path / "bare.pem", tmp_path / "bare-key.pem"
    cert_path.write_bytes(pki._pem_cert(bare))
    key_path.write_bytes(pki._pem_key(key))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(cert_path), str(key_path))
    error = handshake(strict_client(the_pki.ca_path), context)
    assert error is not None and "Authority Key Identifier" in str(error)
    assert not pki.strict_enough(bare, ca_cert)


def test_every_certificate_names_its_key_its_issuer_and_its_usage(tmp_path):
    the_pki = pki.Pki(str(tmp_path))
    with open(the_pki.ca_path, "rb") as handle:
        ca_cert = x509.load_pem_x509_certificate(handle.read())
    with open(the_pki.server_cert_path, "rb") as handle:
        server_cert = x509.load_pem_x509_certificate(handle.read())
    assert pki.strict_enough(ca_cert, ca_cert)
    assert pki.strict_enough(server_cert, ca_cert)
    for name in pki.DEFAULT_CERT_NAMES:
        with open(the_pki.client(name).cert_path, "rb") as handle:
            assert pki.strict_enough(x509.load_pem_x509_certificate(handle.read()), ca_cert), name


def test_certificates_of_an_older_emulator_are_made_anew(tmp_path):
    """A work directory kept from before (a CA without authority key identifier) gets a new, strict PKI."""
    the_pki = pki.Pki(str(tmp_path), client_names=("main",))
    with open(the_pki.ca_key_path, "rb") as handle:
        ca_key = pki.serialization.load_pem_private_key(handle.read(), None)
    now = datetime.datetime.now(datetime.timezone.utc)
    old_ca = (x509.CertificateBuilder().subject_name(pki._name("exo-emulator test CA"))
              .issuer_name(pki._name("exo-emulator test CA")).public_key(ca_key.public_key())
              .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
              .not_valid_after(now + datetime.timedelta(days=3650))
              .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
              .sign(ca_key, hashes.SHA256()))
    (tmp_path / "ca.pem").write_bytes(pki._pem_cert(old_ca))
    again = pki.Pki(str(tmp_path), client_names=("main",))
    with open(again.ca_path, "rb") as handle:
        assert pki.strict_enough(x509.load_pem_x509_certificate(handle.read()), old_ca) is False
    assert handshake(strict_client(again.ca_path), server_context(again)) is None
    with open(again.client("main").cert_path, "rb") as handle:
        client_cert = x509.load_pem_x509_certificate(handle.read())
    with open(again.ca_path, "rb") as handle:
        assert pki.strict_enough(client_cert, x509.load_pem_x509_certificate(handle.read()))
