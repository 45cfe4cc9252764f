"""Finding and loading the Vosk model (one per process), and fetching the Chinese one."""

from __future__ import annotations

import hashlib
import os
import shutil
import threading
import urllib.error
import urllib.request
import zipfile
from pathlib import Path
from typing import Callable

import platformdirs

CHINESE_MODEL = "vosk-model-small-cn-0.22"
MODEL_URL = f"https://alphacephei.com/vosk/models/{CHINESE_MODEL}.zip"
REQUIRED = ("am/final.mdl", "conf/mfcc.conf")
GRAPH = (("graph/HCLr.fst", "graph/Gr.fst"), ("graph/HCLG.fst",))

_lock = threading.Lock()
_loaded: dict[Path, object] = {}


class ModelNotFound(RuntimeError):
    """No usable Vosk model; the message says how to get one."""


def models_dir() -> Path:
    return Path(os.environ.get("HOTLINE_DATA_DIR") or platformdirs.user_data_dir("hotline")) / "models"


def check_model_dir(path: Path) -> Path:
    path = Path(path)
    if not path.is_dir():
        raise ModelNotFound(f"Vosk model folder {path} does not exist.\n{how_to_get()}")
    missing = [f for f in REQUIRED if not (path / f).exists()]
    if missing or not any(all((path / f).exists() for f in files) for files in GRAPH):
        raise ModelNotFound(f"{path} is not a Vosk model (missing {', '.join(missing) or 'graph'}).\n{how_to_get()}")
    return path


def how_to_get() -> str:
    return (f"Get the Chinese model with `hotline models fetch` (downloads {CHINESE_MODEL}, 42 MB),\n"
            f"or unpack it from {MODEL_URL} into {models_dir()},\n"
            "or point --model / HOTLINE_VOSK_MODEL at a model folder.")


def find_model(explicit: str | Path | None = None) -> Path:
    """--model, then HOTLINE_VOSK_MODEL, then the user data dir (the Chinese model first)."""
    for candidate in (explicit, os.environ.get("HOTLINE_VOSK_MODEL")):
        if candidate:
            return check_model_dir(Path(candidate))
    base = models_dir()
    preferred = base / CHINESE_MODEL
    if preferred.is_dir():
        return check_model_dir(preferred)
    if base.is_dir():
        for child in sorted(base.iterdir()):
            if child.is_dir() and (child / "am" / "final.mdl").exists():
                return check_model_dir(child)
    raise ModelNotFound(f"No Vosk model found.\n{how_to_get()}")


def load_model(path: Path):
    """The process-wide Vosk Model for this folder (loaded once; it is shared by all calls)."""
    import vosk

    path = check_model_dir(path).resolve()
    with _lock:
        if path not in _loaded:
            vosk.SetLogLevel(-1)
            _loaded[path] = vosk.Model(str(path))
        return _loaded[path]


def fetch_model(target: Path | None = None, source: str = MODEL_URL, sha256: str | None = None,
                on_progress: Callable[[int, int], None] | None = None, timeout: float = 60) -> Path:
    """Download (or take from a local archive or folder: `source`) and unpack the model;
    check the archive's SHA-256 when given, and always the CRC-32 of every member and the
    model's layout before it is put in place.  No network: ModelNotFound in one line that
    says what to do."""
    target = Path(target or models_dir())
    target.mkdir(parents=True, exist_ok=True)
    staging = target / f".{CHINESE_MODEL}.staging"
    shutil.rmtree(staging, ignore_errors=True)
    if Path(source).is_dir():  # an unpacked copy, e.g. on a USB stick
        check_model_dir(Path(source))
        shutil.copytree(source, staging)
        return _put_in_place(staging, staging, target)
    archive = target / f"{CHINESE_MODEL}.zip.part"
    digest = hashlib.sha256()
    local = Path(source).is_file()
    try:
        opened = open(source, "rb") if local else urllib.request.urlopen(source, timeout=timeout)
    except (urllib.error.URLError, OSError, ValueError) as exc:  # ValueError: not a URL
        reason = getattr(exc, "reason", exc)
        raise ModelNotFound(
            f"无法下载语音模型（{source}：{reason}）：请在能上网的机器上下载 {MODEL_URL}，"
            f"拷到本机后运行 hotline models fetch --from 该文件") from None
    with opened as response, open(archive, "wb") as out:
        total = Path(source).stat().st_size if local else int(response.headers.get("Content-Length") or 0)
        done = 0
        while chunk := response.read(1 << 16):
            out.write(chunk)
            digest.update(chunk)
            done += len(chunk)
            if on_progress:
                on_progress(done, total)
    if sha256 and digest.hexdigest() != sha256.lower():
        archive.unlink()
        raise ValueError(f"checksum mismatch: got {digest.hexdigest()}, expected {sha256}")
    with zipfile.ZipFile(archive) as zf:
        bad = zf.testzip()
        if bad:
            raise ValueError(f"corrupt download: {bad} fails its CRC check")
        zf.extractall(staging)
    final = _put_in_place(next((p for p in staging.iterdir() if p.is_dir()), staging), staging, target)
    archive.unlink()
    return final


def _put_in_place(model: Path, staging: Path, target: Path) -> Path:
    """The unpacked or copied `model` folder (in `staging`), once its layout checks, replaces
    any earlier copy in `target`."""
    check_model_dir(model)
    final = target / CHINESE_MODEL
    shutil.rmtree(final, ignore_errors=True)
    model.rename(final)
    shutil.rmtree(staging, ignore_errors=True)
    return final
