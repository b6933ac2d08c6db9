#!/usr/bin/env python3
"""Build OpenRehab's offline MediaPipe Tasks assets from registry packages, reproducibly.

Outputs (all committed, all checked against ``assets.lock.json``):

* ``src/openrehab/web/static/vendor/tasks-vision-0.10.21/``: the browser runtime of
  ``@mediapipe/tasks-vision@0.10.21`` from npm (``vision_bundle.mjs``, ``wasm/*``) and
  MediaPipe's LICENSE;
* ``src/openrehab/pose/models/``: the MediaPipe Tasks model bundles
  ``pose_landmarker_lite-0.10.21.task``, ``pose_landmarker_full-0.10.21.task`` and
  ``hand_landmarker-0.10.21.task`` (with ``LICENSES.md``). Google publishes these bundles
  only on its own storage, which OpenRehab's machines cannot reach, so they are assembled
  here from the Apache-2.0 ``.tflite`` models that registry packages carry (the
  ``mediapipe==0.10.21`` wheel on PyPI and ``@mediapipe/pose`` on npm). A ``.task`` file is
  an uncompressed zip of ``.tflite`` files under the names the Tasks graphs look up; the
  pose landmark models get the TFLite metadata (input normalisation) that Tasks needs,
  written with ``mediapipe.tasks.python.metadata.metadata_writers`` of the 0.10.21 wheel.

Usage (from the repository root)::

    python3 tools/mediapipe_assets/build.py            # rebuild, write outputs and lock file
    python3 tools/mediapipe_assets/build.py --reproduce  # rebuild in a temp dir, compare to lock
    python3 tools/mediapipe_assets/build.py --check    # verify committed files (offline, fast)

Rebuilding needs ``npm`` and ``pip`` (PyPI and the npm registry); it installs
``mediapipe==0.10.21`` (numpy<2, jax, ...) into a throw-away venv in the temp dir, or uses
``--builder-python`` (a Python that already has it). Zip entries have fixed timestamps and
attributes, so the outputs are byte-identical on every rebuild.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
LOCK = HERE / "assets.lock.json"

MEDIAPIPE_VERSION = "0.10.21"
TASKS_VISION = ("@mediapipe/tasks-vision", MEDIAPIPE_VERSION)
# The last @mediapipe/pose release (legacy solution); it carries pose_landmark_lite.tflite,
# which the mediapipe wheel does not.
POSE_NPM = ("@mediapipe/pose", "0.5.1675469404")
WHEEL = f"mediapipe-{MEDIAPIPE_VERSION}-cp311-cp311-manylinux_2_28_x86_64.whl"
WHEEL_PKG = ("mediapipe", MEDIAPIPE_VERSION)
MODULES = "mediapipe/modules"  # the .tflite files' folder inside the wheel
# Versions of the metadata writer's own dependencies (the flatbuffers serialiser decides the
# bytes of the written models).
BUILDER_PINS = ("numpy==1.26.4", "flatbuffers==25.12.19", "protobuf==4.25.9")

VENDOR_DIR = Path("src/openrehab/web/static/vendor") / f"tasks-vision-{MEDIAPIPE_VERSION}"
MODELS_DIR = Path("src/openrehab/pose/models")

APACHE = "Apache-2.0"

# Vendored npm files: output name -> path inside the npm tarball.
VENDOR_FILES = {
    "vision_bundle.mjs": "package/vision_bundle.mjs",
    "wasm/vision_wasm_internal.js": "package/wasm/vision_wasm_internal.js",
    "wasm/vision_wasm_internal.wasm": "package/wasm/vision_wasm_internal.wasm",
    "wasm/vision_wasm_nosimd_internal.js": "package/wasm/vision_wasm_nosimd_internal.js",
    "wasm/vision_wasm_nosimd_internal.wasm": "package/wasm/vision_wasm_nosimd_internal.wasm",
}
# The npm tarball has no licence file (its package.json says Apache-2.0): MediaPipe's own
# LICENSE of the same release is taken from the wheel.
LICENSE_SOURCE = f"mediapipe-{MEDIAPIPE_VERSION}.dist-info/LICENSE"

# Input normalisation (TFLite NormalizationOptions) as the MediaPipe graphs feed each model:
# the detectors' float range [-1, 1] for pose (mean 127.5, std 127.5) and [0, 1] for palms
# (mean 0, std 255), the landmark models [0, 1] (mean 0, std 255).
# source: (package, path inside it); metadata: None = the model already carries the
# metadata Tasks needs (checked), else (norm mean, norm std, model name) to write.
MODELS = {
    "pose_landmark_lite": {
        "source": (POSE_NPM, "package/pose_landmark_lite.tflite"),
        "norm": (0.0, 255.0),
        "write_metadata": "Pose landmarks detector (lite)",
    },
    "pose_landmark_full": {
        "source": (
            ("mediapipe", MEDIAPIPE_VERSION),
            "mediapipe/modules/pose_landmark/pose_landmark_full.tflite",
        ),
        "norm": (0.0, 255.0),
        "write_metadata": "Pose landmarks detector (full)",
    },
    "pose_detection": {
        "source": (
            ("mediapipe", MEDIAPIPE_VERSION),
            "mediapipe/modules/pose_detection/pose_detection.tflite",
        ),
        "norm": (127.5, 127.5),
        "write_metadata": None,
    },
    "palm_detection_full": {
        "source": (
            ("mediapipe", MEDIAPIPE_VERSION),
            "mediapipe/modules/palm_detection/palm_detection_full.tflite",
        ),
        "norm": (0.0, 255.0),
        "write_metadata": None,
    },
    "hand_landmark_full": {
        "source": (
            ("mediapipe", MEDIAPIPE_VERSION),
            "mediapipe/modules/hand_landmark/hand_landmark_full.tflite",
        ),
        "norm": (0.0, 255.0),
        "write_metadata": None,
    },
}
# Bundle name -> {entry name the Tasks graph looks up: model key}. Entry names are those of
# mediapipe/tasks/cc/vision/{pose,hand}_landmarker/*_graph.cc (kPoseDetectorTFLiteName, ...).
BUNDLES = {
    f"pose_landmarker_lite-{MEDIAPIPE_VERSION}.task": {
        "pose_detector.tflite": "pose_detection",
        "pose_landmarks_detector.tflite": "pose_landmark_lite",
    },
    f"pose_landmarker_full-{MEDIAPIPE_VERSION}.task": {
        "pose_detector.tflite": "pose_detection",
        "pose_landmarks_detector.tflite": "pose_landmark_full",
    },
    f"hand_landmarker-{MEDIAPIPE_VERSION}.task": {
        "hand_detector.tflite": "palm_detection_full",
        "hand_landmarks_detector.tflite": "hand_landmark_full",
    },
}

ZIP_DATE = (1980, 1, 1, 0, 0, 0)
ZIP_ALIGN = 4  # MediaPipe reads the models in place: keep their data 4-byte aligned.

LICENSES_MD = f"""# Licences of the model bundles

The `.task` files in this folder are MediaPipe Tasks model bundles (uncompressed zip
archives of TensorFlow Lite models), assembled by `tools/mediapipe_assets/build.py` from
models published by Google LLC (The MediaPipe Authors) under the **Apache License 2.0**
(full text: `src/openrehab/web/static/vendor/tasks-vision-{MEDIAPIPE_VERSION}/LICENSE`, or
https://www.apache.org/licenses/LICENSE-2.0):

| bundle | entry | model | source package |
|---|---|---|---|
{{rows}}

Modification: the pose landmark models (which ship without TFLite metadata) received an
image-input metadata block (normalisation mean 0, std 255, RGB) so that MediaPipe Tasks can
load them; the model weights and graphs are unchanged. Checksums: `tools/mediapipe_assets/
assets.lock.json`. Model cards: BlazePose (pose) and MediaPipe Hands, by Google.
"""


# ------------------------------------------------------------------------------ helpers


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    shown = [c if len(c) < 80 else c.strip().splitlines()[0][:40] + " ..." for c in cmd]
    print("+", " ".join(shown), file=sys.stderr)
    return subprocess.run(cmd, check=True, **kw)


def aligned_zip(entries: dict[str, bytes]) -> bytes:
    """An uncompressed zip of ``entries`` (in order), byte-reproducible: fixed timestamps and
    attributes, each entry's data 4-byte aligned by padding its local header's extra field
    (the zipalign scheme, header id 0xD935) so the models can be read in place."""
    import io

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as zf:
        for name, data in entries.items():
            zi = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            zi.compress_type = zipfile.ZIP_STORED
            zi.create_system = 3
            zi.create_version = zi.extract_version = 20
            zi.external_attr = 0o644 << 16
            offset = buf.tell()
            base = offset + 30 + len(name.encode()) + 6  # 6: extra header + alignment word
            pad = (-base) % ZIP_ALIGN
            zi.extra = (0xD935).to_bytes(2, "little") + (2 + pad).to_bytes(2, "little")
            zi.extra += ZIP_ALIGN.to_bytes(2, "little") + b"\0" * pad
            zf.writestr(zi, data)
            assert (offset + 30 + len(name.encode()) + len(zi.extra)) % ZIP_ALIGN == 0
    return buf.getvalue()


def read_tar_member(tgz: Path, member: str) -> bytes:
    with tarfile.open(tgz, "r:gz") as tf:
        f = tf.extractfile(member)
        if f is None:
            raise SystemExit(f"{tgz.name}: {member} not found")
        return f.read()


# ------------------------------------------------------------------- metadata (builder)

METADATA_SNIPPET = r"""
import json, sys
from mediapipe.tasks.python.metadata.metadata_writers import metadata_writer
from mediapipe.tasks.python.metadata.metadata_writers import writer_utils
from mediapipe.tasks.python.metadata import metadata

job = json.load(sys.stdin)
for item in job:
    buf = open(item["in"], "rb").read()
    if item["write"]:
        w = metadata_writer.MetadataWriter.create(bytearray(buf))
        w.add_general_info(item["write"], "MediaPipe " + item["write"] + ", image input RGB")
        w.add_image_input(norm_mean=[item["mean"]], norm_std=[item["std"]])
        for _ in writer_utils.get_output_tensor_names(buf):
            w.add_feature_output()
        buf, _ = w.populate()
        open(item["out"], "wb").write(bytes(buf))
    md = json.loads(metadata.MetadataDisplayer.with_model_buffer(bytes(buf)).get_metadata_json())
    opts = md["subgraph_metadata"][0]["input_tensor_metadata"][0]["process_units"][0]["options"]
    item["found_norm"] = [opts["mean"][0], opts["std"][0]]
print(json.dumps(job))
"""


def builder_python(tmp: Path, given: str | None, wheel: Path) -> str:
    if given:
        return given
    venv = tmp / "builder-venv"
    run([sys.executable, "-m", "venv", str(venv)])
    py = str(venv / "bin" / "python")
    run([py, "-m", "pip", "install", "--quiet", str(wheel), *BUILDER_PINS])
    return py


# -------------------------------------------------------------------------------- build


def fetch_sources(tmp: Path, wheel_dir: Path | None) -> dict[str, Path]:
    npm_dir = tmp / "npm"
    npm_dir.mkdir()
    specs = [f"{n}@{v}" for n, v in (TASKS_VISION, POSE_NPM)]
    run(["npm", "pack", "--silent", *specs, "--pack-destination", str(npm_dir)])
    found = {
        "tasks-vision": npm_dir / f"mediapipe-tasks-vision-{TASKS_VISION[1]}.tgz",
        "pose": npm_dir / f"mediapipe-pose-{POSE_NPM[1]}.tgz",
    }
    wheel = (wheel_dir / WHEEL) if wheel_dir else None
    if wheel is None or not wheel.exists():
        dl = tmp / "pypi"
        run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--quiet",
                "--no-deps",
                "--only-binary=:all:",
                "--python-version",
                "3.11",
                "--platform",
                "manylinux_2_28_x86_64",
                f"mediapipe=={MEDIAPIPE_VERSION}",
                "-d",
                str(dl),
            ]
        )
        wheel = dl / WHEEL
    found["wheel"] = wheel
    for p in found.values():
        if not p.exists():
            raise SystemExit(f"missing download: {p}")
    return found


def build(out_root: Path, tmp: Path, *, builder: str | None, wheel_dir: Path | None) -> dict:
    """Build every output under ``out_root`` (the repository root or a scratch folder) and
    return the lock-file content."""
    src = fetch_sources(tmp, wheel_dir)
    pkg_file = {
        TASKS_VISION: src["tasks-vision"],
        POSE_NPM: src["pose"],
        ("mediapipe", MEDIAPIPE_VERSION): src["wheel"],
    }
    sources = {
        "npm:@mediapipe/tasks-vision": {
            "version": TASKS_VISION[1],
            "file": src["tasks-vision"].name,
            "sha256": sha256(src["tasks-vision"].read_bytes()),
            "licence": APACHE,
        },
        "npm:@mediapipe/pose": {
            "version": POSE_NPM[1],
            "file": src["pose"].name,
            "sha256": sha256(src["pose"].read_bytes()),
            "licence": APACHE,
        },
        "pypi:mediapipe": {
            "version": MEDIAPIPE_VERSION,
            "file": src["wheel"].name,
            "sha256": sha256(src["wheel"].read_bytes()),
            "licence": APACHE,
        },
    }

    def source_bytes(pkg: tuple[str, str], inner: str) -> bytes:
        f = pkg_file[pkg]
        if f.suffix == ".whl":
            with zipfile.ZipFile(f) as zf:
                return zf.read(inner)
        return read_tar_member(f, inner)

    def pkg_key(pkg: tuple[str, str]) -> str:
        return ("pypi:" if pkg[0] == "mediapipe" else "npm:") + pkg[0]

    outputs: dict[str, dict] = {}

    # a) the browser runtime
    vendor = out_root / VENDOR_DIR
    if vendor.exists():
        shutil.rmtree(vendor)
    for name, inner in VENDOR_FILES.items():
        data = read_tar_member(src["tasks-vision"], inner)
        dest = vendor / name
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(data)
        outputs[str(VENDOR_DIR / name)] = {
            "sha256": sha256(data),
            "size": len(data),
            "source": pkg_key(TASKS_VISION),
            "version": TASKS_VISION[1],
            "source_path": inner,
            "licence": APACHE,
        }
    lic = source_bytes(("mediapipe", MEDIAPIPE_VERSION), LICENSE_SOURCE)
    (vendor / "LICENSE").write_bytes(lic)
    outputs[str(VENDOR_DIR / "LICENSE")] = {
        "sha256": sha256(lic),
        "size": len(lic),
        "source": "pypi:mediapipe",
        "version": MEDIAPIPE_VERSION,
        "source_path": LICENSE_SOURCE,
        "licence": APACHE,
        "note": "the npm tarball has no licence file; this is MediaPipe's LICENSE of the "
        "same release",
    }

    # b) the model bundles
    work = tmp / "models"
    work.mkdir()
    job = []
    for key, m in MODELS.items():
        (pkg, inner) = m["source"]
        raw = work / f"{key}.in.tflite"
        raw.write_bytes(source_bytes(pkg, inner))
        mean, std = m["norm"]
        job.append(
            {
                "key": key,
                "in": str(raw),
                "out": str(work / f"{key}.tflite"),
                "write": m["write_metadata"],
                "mean": mean,
                "std": std,
            }
        )
    py = builder_python(tmp, builder, src["wheel"])
    res = run(
        [py, "-c", METADATA_SNIPPET],
        input=json.dumps(job),
        capture_output=True,
        text=True,
    )
    done = {item["key"]: item for item in json.loads(res.stdout.strip().splitlines()[-1])}
    model_bytes: dict[str, bytes] = {}
    for key, m in MODELS.items():
        item = done[key]
        if [float(v) for v in item["found_norm"]] != [float(v) for v in m["norm"]]:
            raise SystemExit(
                f"{key}: input normalisation {item['found_norm']} != expected {m['norm']}"
            )
        model_bytes[key] = Path(item["out"] if item["write"] else item["in"]).read_bytes()

    models = out_root / MODELS_DIR
    models.mkdir(parents=True, exist_ok=True)
    for old in models.glob("*.task"):
        old.unlink()
    rows = []
    for bundle, entries in BUNDLES.items():
        data = aligned_zip({name: model_bytes[k] for name, k in entries.items()})
        (models / bundle).write_bytes(data)
        parts = []
        for name, k in entries.items():
            (pkg, inner) = MODELS[k]["source"]
            parts.append(
                {
                    "entry": name,
                    "sha256": sha256(model_bytes[k]),
                    "source": pkg_key(pkg),
                    "version": pkg[1],
                    "source_path": inner,
                    "source_sha256": sha256(source_bytes(pkg, inner)),
                    "metadata_added": bool(MODELS[k]["write_metadata"]),
                    "input_norm_mean_std": list(MODELS[k]["norm"]),
                }
            )
            rows.append(
                f"| `{bundle}` | `{name}` | `{Path(inner).name}` | "
                f"{pkg_key(pkg)} {pkg[1]} (`{inner}`) |"
            )
        outputs[str(MODELS_DIR / bundle)] = {
            "sha256": sha256(data),
            "size": len(data),
            "source": "built",
            "version": MEDIAPIPE_VERSION,
            "entries": parts,
            "licence": APACHE,
        }
    licenses = LICENSES_MD.replace("{rows}", "\n".join(rows)).encode()
    (models / "LICENSES.md").write_bytes(licenses)
    outputs[str(MODELS_DIR / "LICENSES.md")] = {
        "sha256": sha256(licenses),
        "size": len(licenses),
        "source": "built",
        "version": MEDIAPIPE_VERSION,
        "licence": APACHE,
    }
    return {
        "comment": "Written by tools/mediapipe_assets/build.py; verify with --check.",
        "sources": sources,
        "builder_pins": [f"mediapipe=={MEDIAPIPE_VERSION}", *BUILDER_PINS],
        "outputs": dict(sorted(outputs.items())),
    }


# -------------------------------------------------------------------------------- check


def verify(root: Path | str = REPO, lock_path: Path | str | None = None) -> list[str]:
    """Problems of the committed assets under ``root`` against the lock file (empty = all
    good): a missing or altered file, or a file in an asset folder the lock does not list."""
    root = Path(root)
    lock = json.loads(Path(lock_path or LOCK).read_text(encoding="utf-8"))
    problems = []
    listed = set()
    for rel, info in lock["outputs"].items():
        p = root / rel
        listed.add(p.resolve())
        if not p.is_file():
            problems.append(f"{rel}: missing")
            continue
        data = p.read_bytes()
        if len(data) != info["size"] or sha256(data) != info["sha256"]:
            problems.append(f"{rel}: sha256 {sha256(data)} != lock {info['sha256']}")
    for folder in (VENDOR_DIR, MODELS_DIR):
        d = root / folder
        if not d.is_dir():
            continue
        for p in sorted(d.rglob("*")):
            if p.is_file() and p.resolve() not in listed and "__pycache__" not in p.parts:
                problems.append(f"{p.relative_to(root)}: not in the lock file")
    return problems


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="verify committed files vs lock")
    mode.add_argument(
        "--reproduce", action="store_true", help="rebuild in a temp dir and compare to the lock"
    )
    ap.add_argument("--builder-python", help="a Python with mediapipe==0.10.21 installed")
    ap.add_argument("--wheel-dir", type=Path, help=f"folder already holding {WHEEL}")
    args = ap.parse_args(argv)

    if args.check:
        problems = verify()
        for p in problems:
            print(p, file=sys.stderr)
        print("assets: OK" if not problems else f"assets: {len(problems)} problem(s)")
        return 1 if problems else 0

    with tempfile.TemporaryDirectory(prefix="mediapipe-assets-") as t:
        tmp = Path(t)
        if args.reproduce:
            out = tmp / "out"
            lock = build(out, tmp, builder=args.builder_python, wheel_dir=args.wheel_dir)
            new = tmp / "lock.json"
            new.write_text(json.dumps(lock, indent=2) + "\n", encoding="utf-8")
            problems = verify(out, new)
            old = json.loads(LOCK.read_text(encoding="utf-8"))["outputs"]
            for rel, info in lock["outputs"].items():
                if old.get(rel, {}).get("sha256") != info["sha256"]:
                    problems.append(f"{rel}: rebuilt sha256 differs from the lock file")
            problems += [
                f"{rel}: in the lock, not rebuilt" for rel in old.keys() - lock["outputs"].keys()
            ]
            for p in problems:
                print(p, file=sys.stderr)
            print("reproduced: OK" if not problems else f"{len(problems)} difference(s)")
            return 1 if problems else 0
        lock = build(REPO, tmp, builder=args.builder_python, wheel_dir=args.wheel_dir)
        LOCK.write_text(json.dumps(lock, indent=2) + "\n", encoding="utf-8")
        problems = verify()
        print(f"wrote {len(lock['outputs'])} files; lock: {LOCK.relative_to(REPO)}")
        for p in problems:
            print(p, file=sys.stderr)
        return 1 if problems else 0


if __name__ == "__main__":
    os.umask(0o022)
    sys.exit(main())
