"""The committed MediaPipe assets (browser runtime, .task bundles) match their lock file,
and the bundles are what MediaPipe Tasks expects (entry names, stored, 4-byte aligned)."""

from __future__ import annotations

import importlib.util
import json
import sys
import zipfile
from pathlib import Path

import pytest

from openrehab.pose import assets
from openrehab.pose.assets import AssetMissingError, model_path

REPO = Path(__file__).resolve().parents[2]
BUILD = REPO / "tools" / "mediapipe_assets" / "build.py"


@pytest.fixture(scope="module")
def build():
    spec = importlib.util.spec_from_file_location("mediapipe_assets_build", BUILD)
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


def test_committed_assets_match_the_lock_file(build) -> None:
    assert build.verify(REPO) == []


def test_lock_file_lists_every_output_with_source_and_licence(build) -> None:
    lock = json.loads(build.LOCK.read_text())
    outputs = lock["outputs"]
    vendor = "src/openrehab/web/static/vendor/tasks-vision-0.10.21/"
    for name in (
        "vision_bundle.mjs",
        "LICENSE",
        "wasm/vision_wasm_internal.js",
        "wasm/vision_wasm_internal.wasm",
        "wasm/vision_wasm_nosimd_internal.js",
        "wasm/vision_wasm_nosimd_internal.wasm",
    ):
        assert vendor + name in outputs, name
    for file in assets.MODEL_FILES.values():
        info = outputs[f"src/openrehab/pose/models/{file}"]
        assert len(info["entries"]) == 2
        for entry in info["entries"]:
            assert entry["source"] in ("pypi:mediapipe", "npm:@mediapipe/pose")
            assert entry["source_path"].endswith(".tflite")
    for info in outputs.values():
        assert info["licence"] == "Apache-2.0"
        assert len(info["sha256"]) == 64
    assert lock["sources"]["npm:@mediapipe/tasks-vision"]["version"] == "0.10.21"
    assert lock["sources"]["pypi:mediapipe"]["version"] == "0.10.21"


def test_verify_reports_altered_missing_and_unlisted_files(build, tmp_path: Path) -> None:
    models = tmp_path / "src/openrehab/pose/models"
    models.mkdir(parents=True)
    (models / "a.task").write_bytes(b"changed")
    (models / "stray.task").write_bytes(b"x")
    lock = {
        "outputs": {
            "src/openrehab/pose/models/a.task": {"sha256": build.sha256(b"orig"), "size": 4},
            "src/openrehab/pose/models/b.task": {"sha256": build.sha256(b"b"), "size": 1},
        }
    }
    (tmp_path / "lock.json").write_text(json.dumps(lock))
    problems = build.verify(tmp_path, tmp_path / "lock.json")
    text = "\n".join(problems)
    assert "a.task: sha256" in text
    assert "b.task: missing" in text
    assert "stray.task: not in the lock file" in text
    assert len(problems) == 3


@pytest.mark.parametrize(
    ("name", "entries"),
    [
        ("pose_lite", ["pose_detector.tflite", "pose_landmarks_detector.tflite"]),
        ("pose_full", ["pose_detector.tflite", "pose_landmarks_detector.tflite"]),
        ("hand", ["hand_detector.tflite", "hand_landmarks_detector.tflite"]),
    ],
)
def test_bundles_hold_the_models_tasks_looks_up(name: str, entries: list[str]) -> None:
    path = model_path(name)
    raw = path.read_bytes()
    with zipfile.ZipFile(path) as zf:
        infos = zf.infolist()
        assert [i.filename for i in infos] == entries
        for info in infos:
            assert info.compress_type == zipfile.ZIP_STORED
            assert info.date_time == (1980, 1, 1, 0, 0, 0)
            # data offset: local header (30 bytes + name + extra) after header_offset
            name_len = int.from_bytes(
                raw[info.header_offset + 26 : info.header_offset + 28], "little"
            )
            extra_len = int.from_bytes(
                raw[info.header_offset + 28 : info.header_offset + 30], "little"
            )
            start = info.header_offset + 30 + name_len + extra_len
            assert start % 4 == 0
            assert raw[start + 4 : start + 8] == b"TFL3"  # a TFLite flatbuffer


def test_aligned_zip_is_byte_reproducible(build) -> None:
    entries = {"a.tflite": b"\x01" * 5, "bb.tflite": b"\x02" * 7, "c.tflite": b""}
    one = build.aligned_zip(entries)
    assert one == build.aligned_zip(entries)
    import io

    with zipfile.ZipFile(io.BytesIO(one)) as zf:
        assert zf.read("bb.tflite") == b"\x02" * 7
        assert zf.testzip() is None


def test_model_path_errors(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert model_path("pose_lite").name == "pose_landmarker_lite-0.10.21.task"
    with pytest.raises(ValueError, match="unknown model 'pose_heavy'"):
        model_path("pose_heavy")
    monkeypatch.setattr(assets, "MODELS_DIR", tmp_path)
    with pytest.raises(AssetMissingError, match="is missing: reinstall") as err:
        model_path("hand")
    assert "\n" not in str(err.value)
