"""The control plane's own PKI: one CA, the API server's serving certificate, a client certificate
per component, and the service-account signing key. Made once per state folder, never in git."""

from __future__ import annotations

import datetime
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

VALID_FOR = datetime.timedelta(days=365)
SERVICE_IP = "10.96.0.1"  # the first address of the service range: the `kubernetes` Service
API_NAMES = ("localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc")
# Client identities: file stem -> (common name, organisation). Only the admin is a cluster admin.
CLIENTS = {
    "admin": ("wharf-admin", "system:masters"),
    "controller-manager": ("system:kube-controller-manager", ""),
    "scheduler": ("system:kube-scheduler", ""),
    "kwok": ("kwok-controller", "system:masters"),  # it acts for every simulated kubelet
}


def _name(common_name: str, organisation: str = "") -> x509.Name:
    parts = [x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
    if organisation:
        parts.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation))
    return x509.Name(parts)


def _builder(
    subject: x509.Name, issuer: x509.Name, key: ec.EllipticCurvePrivateKey, now: datetime.datetime
) -> x509.CertificateBuilder:
    """What every certificate here shares: names, key, a fresh serial, a year's validity."""
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + VALID_FOR)
    )


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> None:
    path.touch(mode=0o600, exist_ok=True)
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )


@dataclass(frozen=True)
class Pki:
    root: Path

    @property
    def ca(self) -> Path:
        return self.root / "ca.crt"

    def cert(self, stem: str) -> Path:
        return self.root / f"{stem}.crt"

    def key(self, stem: str) -> Path:
        return self.root / f"{stem}.key"

    @property
    def service_account_key(self) -> Path:
        return self.root / "sa.key"

    @property
    def service_account_public(self) -> Path:
        return self.root / "sa.pub"

    def ensure(self) -> None:
        """Create whatever is missing (all of it on a first run)."""
        if self.ca.exists() and self.service_account_public.exists():
            return
        self.root.mkdir(parents=True, exist_ok=True)
        self.root.chmod(0o700)
        now = datetime.datetime.now(datetime.UTC)
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_name = _name("wharf-kwok-ca")
        ca = (
            _builder(ca_name, ca_name, ca_key, now)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(True, False, False, False, False, True, True, False, False), critical=True
            )
            .sign(ca_key, hashes.SHA256())
        )
        _write_key(self.key("ca"), ca_key)
        self.ca.write_bytes(ca.public_bytes(serialization.Encoding.PEM))

        def issue(
            stem: str, subject: x509.Name, usage: x509.ObjectIdentifier, sans: list[x509.GeneralName]
        ) -> None:
            key = ec.generate_private_key(ec.SECP256R1())
            builder = _builder(subject, ca_name, key, now).add_extension(
                x509.ExtendedKeyUsage([usage]), critical=False
            )
            if sans:
                builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
            _write_key(self.key(stem), key)
            self.cert(stem).write_bytes(
                builder.sign(ca_key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)
            )

        server_sans: list[x509.GeneralName] = [x509.DNSName(n) for n in API_NAMES]
        server_sans += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ("127.0.0.1", SERVICE_IP)]
        issue("apiserver", _name("kube-apiserver"), x509.oid.ExtendedKeyUsageOID.SERVER_AUTH, server_sans)
        for stem, (common_name, organisation) in CLIENTS.items():
            issue(stem, _name(common_name, organisation), x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH, [])
        sa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        _write_key(self.service_account_key, sa_key)
        self.service_account_public.write_bytes(
            sa_key.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )
