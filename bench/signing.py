"""``make bench-signing``: licence signing and verification per core, next to the raw signature rate.

For each algorithm (Ed25519 through ``cryptography``, SM2 with SM3 through ``gmssl``), in one
process and one thread (so: per core), on one realistic licence:

- ``<alg>_sign_per_s``: our licence signing path, ``licence.service.sign``: the contract's JSON
  form, RFC 8785 canonicalisation with the protected header, and the signature;
- ``<alg>_verify_per_s``: our verification path, ``signing.check_signature``: parse, the
  byte-exact canonical check, base64url, and the signature check;
- ``<alg>_raw_sign_per_s`` / ``<alg>_raw_verify_per_s``: the library's own primitive on a
  message of the same size, in the same run.

The database is not in the loop (its share is the same single-row read as any other lookup).
Writes ``bench/results/signing.json``; the keys are meant to be merged into
``bench/results/supervision.json`` (issue 10).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from gmssl import sm2

from yiwang_common.contracts.common import ELicence, Organisation
from yiwang_datasharing.licence.service import sign
from yiwang_datasharing.licence.signing import Algorithm, Sm2Key, check_signature, generate_key

RESULTS = Path(__file__).parent / "results" / "signing.json"


def sample_licence() -> ELicence:
    """A licence as business issues one: GB/T 36904 identifier, holder, issuer and 照面信息."""
    org = Organisation(name="元江县住房和城乡建设局", code="11530428015176456L")
    return ELicence(
        identifier="1.2.156.3005.2.11100000000013338W032.11530428015176456L.53042820261202000001.001.Q",
        type_code="11100000000013338W032",
        type_name="建筑工程施工许可证",
        licence_no="53042820261202000001",
        holder_name="元江县城市建设投资有限公司",
        holder_code="91530428MA6K000015",
        holder_code_type="001",
        issuer=org,
        issued_on=date(2026, 12, 2),
        valid_from=date(2026, 12, 2),
        valid_until=date(2029, 12, 1),
        jurisdiction_code="530428",
        case_no="53042820261202000001V",
        item_code="11530428015176456L4000112001000",
        data={
            "工程名称": "元江县第一中学教学楼",
            "建设地址": "元江县澧江街道",
            "建设规模": "5200平方米",
            "合同价格": "1860万元",
            "施工单位": "云南省某建筑工程有限公司",
        },
    )


def rate(fn: Callable[[], object], seconds: float) -> float:
    """Calls per second of ``fn`` over at least ``seconds`` (after a short warm-up)."""
    for _ in range(3):
        fn()
    count, start = 0, time.perf_counter()
    deadline = start + seconds
    while True:
        for _ in range(8):
            fn()
        count += 8
        now = time.perf_counter()
        if now >= deadline:
            return count / (now - start)


def measure_algorithm(algorithm: Algorithm, seconds: float) -> dict[str, float]:
    licence = sample_licence()
    key = generate_key(algorithm)
    public = key.public_text()
    signed_at = datetime(2026, 12, 2, tzinfo=UTC)
    signed = sign(licence, "bench-kid", key, signed_at)
    assert check_signature(signed, public).licence is not None
    message = os.urandom(len(signed.payload.encode()))
    raw_sign: Callable[[], object]
    raw_verify: Callable[[], object]
    if algorithm == "ed25519":
        raw = Ed25519PrivateKey.generate()
        raw_public = raw.public_key()
        signature = raw.sign(message)
        raw_sign = lambda: raw.sign(message)  # noqa: E731
        raw_verify = lambda: raw_public.verify(signature, message)  # noqa: E731
    else:
        sm2_key = Sm2Key.generate()
        crypt = sm2.CryptSM2(private_key=sm2_key.private_bytes().hex(), public_key=sm2_key.public_text())
        k = "1" * 64
        sm2_signature = crypt.sign_with_sm3(message, k)
        assert crypt.verify_with_sm3(sm2_signature, message)
        raw_sign = lambda: crypt.sign_with_sm3(message, k)  # noqa: E731
        raw_verify = lambda: crypt.verify_with_sm3(sm2_signature, message)  # noqa: E731
    return {
        f"{algorithm}_sign_per_s": round(
            rate(lambda: sign(licence, "bench-kid", key, signed_at), seconds), 1
        ),
        f"{algorithm}_verify_per_s": round(rate(lambda: check_signature(signed, public), seconds), 1),
        f"{algorithm}_raw_sign_per_s": round(rate(raw_sign, seconds), 1),
        f"{algorithm}_raw_verify_per_s": round(rate(raw_verify, seconds), 1),
        f"{algorithm}_payload_bytes": len(signed.payload.encode()),
    }


def measure(seconds: float = 2.0) -> dict[str, Any]:
    """Every rate, per core, for Ed25519 and SM2 (the keys issue 10 names, plus the payload size)."""
    results: dict[str, Any] = {}
    for algorithm in ("ed25519", "sm2"):
        results |= measure_algorithm(algorithm, seconds)  # type: ignore[arg-type]
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=2.0, help="time per measured rate")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument(
        "--no-supervision",
        action="store_true",
        help="do not merge the rates into bench/results/supervision.json (issue 10's file)",
    )
    args = parser.parse_args()
    results = measure(args.seconds)
    report = {
        **results,
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "node": platform.node()},
        "measured_at": datetime.now(UTC).isoformat(),
        "seconds_per_rate": args.seconds,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n")
    for name, value in results.items():
        print(f"{name:32s} {value:>12}")
    print(f"wrote {args.out}")
    if not args.no_supervision:
        from bench.supervision import merge_results

        merge_results(results)
        print("merged into bench/results/supervision.json")


if __name__ == "__main__":
    main()
