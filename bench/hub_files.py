"""Hub files: throughput of hf_hub_download and upload_file (LFS) for a 200 MB file through the
web process, against the storage directly in the same run; the web process's RSS during both;
and snapshot_download of a 50-file repository, cold and then all cached (HEADs only).

Usage: python bench/hub_files.py [--mb 200]   (writes bench/results/hub_files.md)
"""
from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from common import ROOT, setup_django

RESULT = ROOT / "bench" / "results" / "hub_files.md"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=int, default=200)
    args = parser.parse_args()
    size = args.mb * 1024 * 1024
    setup_django("llmc_bench_hub_files")

    from django.conf import settings

    from community.models import User
    from core.services import create_token
    from models_hub.models import Resource
    from models_hub.repos.storage import iter_bytes, spool
    from tests.models_hub.hub_live import HubServer, RssSampler, run_client, write_random_file

    work = Path(tempfile.mkdtemp(prefix="bench-hub-files-"))
    server = HubServer(work).start()
    settings.STORAGES["hub"]["OPTIONS"]["location"] = str(server.files_dir)  # read what the server wrote
    settings.HUB_UPLOAD_TMP_DIR = str(work / "uploads")
    Path(settings.HUB_UPLOAD_TMP_DIR).mkdir()
    stamp = str(int(time.time()))
    user = User.objects.create(username=f"bench{stamp}")
    key = create_token(user=user, name="bench")[1]
    repo_id = f"{user.username}/big"
    try:
        big = work / "big.bin"
        write_random_file(big, size)
        run_client(server.base_url, f"from huggingface_hub import HfApi\nHfApi().create_repo({repo_id!r})\n",
                   token=key, home=work / "c")
        with RssSampler(server.process.pid) as up_rss:
            up = run_client(server.base_url, f"""
                import time
                from huggingface_hub import HfApi
                t = time.perf_counter()
                HfApi().upload_file(path_or_fileobj={str(big)!r}, path_in_repo="big.bin", repo_id={repo_id!r})
                print(json.dumps({{"s": time.perf_counter() - t}}))
            """, token=key, home=work / "c", env={"HF_HUB_DISABLE_XET": "1"})
        # The same bytes written straight to the storage: hash while copying, then move in place.
        copy = work / "copy.bin"
        copy.write_bytes(b"")
        started = time.perf_counter()
        with big.open("rb") as stream:
            spooled = spool(stream, size=size, label="direct")
        spooled.sha256 = "0" * 63 + "1"  # a different key, so the blob the server stored stays
        direct_up = time.perf_counter() - started
        spooled.discard()
        with RssSampler(server.process.pid) as down_rss:
            down = run_client(server.base_url, f"""
                import time
                from huggingface_hub import hf_hub_download
                t = time.perf_counter()
                hf_hub_download({repo_id!r}, "big.bin")
                print(json.dumps({{"s": time.perf_counter() - t}}))
            """, token=key, home=work / "d")
        blob = Resource.objects.get(repo_id=repo_id).commits.order_by("-id").first().entries.get(path="big.bin").blob
        started = time.perf_counter()
        with (work / "direct.bin").open("wb") as out:
            for chunk in iter_bytes(blob):
                out.write(chunk)
        direct_down = time.perf_counter() - started
        # 50 small files, then snapshot_download twice.
        many = work / "many"
        many.mkdir()
        for i in range(50):
            (many / f"file{i:02d}.txt").write_text(f"file {i}\n" * 100)
        snap = run_client(server.base_url, f"""
            import time
            from huggingface_hub import HfApi, snapshot_download
            api = HfApi()
            api.create_repo({user.username + '/many'!r})
            api.upload_folder(folder_path={str(many)!r}, repo_id={user.username + '/many'!r})
            t = time.perf_counter(); snapshot_download({user.username + '/many'!r}); cold = time.perf_counter() - t
            t = time.perf_counter(); snapshot_download({user.username + '/many'!r}); warm = time.perf_counter() - t
            print(json.dumps({{"cold": cold, "warm": warm}}))
        """, token=key, home=work / "s")
    finally:
        server.stop()
    mb = size / 1e6
    rows = [
        ("download: hf_hub_download through the web process", mb / down["s"], down_rss.growth_mb),
        ("download: reading the blob from the storage directly", mb / direct_down, None),
        ("upload: HfApi.upload_file (LFS batch + signed PUT)", mb / up["s"], up_rss.growth_mb),
        ("upload: hashing and writing to the storage directly", mb / direct_up, None),
    ]
    lines = [f"# Hub files ({args.mb} MB file, filesystem storage, one uvicorn process)", "",
             "| what | MB/s | web process RSS growth MB |", "| --- | ---: | ---: |"]
    lines += [f"| {what} | {rate:.0f} | {'' if rss is None else f'{rss:.1f}'} |" for what, rate, rss in rows]
    lines += ["", f"- download ratio (web / direct): **{direct_down / down['s']:.2f}** (goal ≥ 0.8)",
              f"- upload ratio (web / direct): **{direct_up / up['s']:.2f}**",
              f"- snapshot_download of a 50-file repository: cold {snap['cold']:.2f} s, "
              f"second run (all cached, HEADs only) **{snap['warm']:.2f} s**", "",
              "Client times are measured inside the client process around the call (imports excluded); "
              "the upload includes the client's own sha256 pass over the file. RSS is the uvicorn "
              "process's VmRSS sampled every 20 ms, growth over its value before the transfer.", ""]
    RESULT.write_text("\n".join(lines))
    print("\n".join(lines))
    print(json.dumps({"up": up, "down": down, "snap": snap}))


if __name__ == "__main__":
    main()
