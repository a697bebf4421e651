"""Materialise the real-project corpus: public PyTorch projects pinned in projects.json.

    python benchmarks/real/corpus.py list
    python benchmarks/real/corpus.py build --out DIR [--mirror DIR] [--only owner/name ...]

`build` writes, for each project, only its .py and .ipynb files (as they are, each at most 1 MB) at the
pinned commit into DIR/owner__name/, replacing what was there, and prints one line per project (files,
lines). The source is a local git directory for the repository under the mirror folder when there is one
(MIRROR/owner+name/, holding a bare repository or repo/.git), else a blob-less clone of
https://github.com/owner/name checked out at the commit. The files are used read only, to lint; they are
other people's code and are never to be committed. Standard library only (Python 3.9+); not a pytest test.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path, PurePosixPath

HERE = Path(__file__).resolve().parent
SUFFIXES = (".py", ".ipynb")
MAX_BYTES = 1_000_000


def load_projects(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def is_git_dir(path):
    return (path / "HEAD").is_file() and (path / "objects").is_dir()


def mirror_git_dir(mirror, repo):
    """The git directory for repo under the mirror folder, or None."""
    base = Path(mirror) / repo.replace("/", "+")
    for cand in (base, base / "repo", base / "repo" / ".git", base / ".git"):
        if cand.is_dir() and is_git_dir(cand):
            return cand
    if base.is_dir():  # any other layout: look a few levels down
        for cand in sorted(base.glob("*/*")) + sorted(base.glob("*/*/*")):
            if cand.is_dir() and is_git_dir(cand):
                return cand
    return None


def git(*args, **kw):
    return subprocess.run(["git", *args], check=True, **kw)


def clone(repo, commit, into):
    """A blob-less clone of repo checked out at commit; returns its git directory."""
    url = f"https://github.com/{repo}"
    git("clone", "--quiet", "--filter=blob:none", "--no-checkout", url, str(into))
    if subprocess.run(["git", "-C", str(into), "cat-file", "-e", commit + "^{commit}"],
                      stderr=subprocess.DEVNULL).returncode != 0:
        git("-C", str(into), "fetch", "--quiet", "--filter=blob:none", "origin", commit)
    git("-C", str(into), "-c", "advice.detachedHead=false", "checkout", "--quiet", commit)
    return into / ".git"


def select(git_dir, commit):
    """Paths of the .py/.ipynb blobs of commit, split into (kept, skipped).

    Skipped: over MAX_BYTES, or absent from the git dir (a mirror snapshot lacks its largest blobs;
    ls-tree gives their size as BAD)."""
    listing = git("--git-dir", str(git_dir), "ls-tree", "-r", "-l", "-z", commit,
                  stdout=subprocess.PIPE, stderr=subprocess.DEVNULL).stdout
    kept, big = [], []
    for entry in listing.split(b"\0"):
        if not entry:
            continue
        meta, path = entry.split(b"\t", 1)
        mode, kind, _sha, size = meta.split()
        path = path.decode("utf-8", "surrogateescape")
        if kind != b"blob" or mode not in (b"100644", b"100755") or not path.endswith(SUFFIXES):
            continue  # symlinks, submodules, other files
        (kept if size.isdigit() and int(size) <= MAX_BYTES else big).append(path)
    return kept, big


def extract(git_dir, commit, dest):
    """Write the .py/.ipynb files of commit into dest; returns (files, lines, skipped_big).

    Only the selected paths are archived (a mirror snapshot may lack large blobs of other files)."""
    paths, big = select(git_dir, commit)
    files = lines = 0
    for i in range(0, len(paths), 500):
        # git archive also complains of absent blobs it does not write: its stderr is shown only on failure
        with tempfile.TemporaryFile() as err:
            proc = subprocess.Popen(["git", "--git-dir", str(git_dir), "archive", "--format=tar", commit, "--",
                                     *paths[i:i + 500]], stdout=subprocess.PIPE, stderr=err,
                                    env={**os.environ, "GIT_LITERAL_PATHSPECS": "1"})
            try:
                with tarfile.open(fileobj=proc.stdout, mode="r|") as tar:
                    for member in tar:
                        name = PurePosixPath(member.name)
                        if not member.isfile() or name.is_absolute() or ".." in name.parts:
                            continue
                        data = tar.extractfile(member).read()
                        target = dest.joinpath(*name.parts)
                        target.parent.mkdir(parents=True, exist_ok=True)
                        target.write_bytes(data)
                        files += 1
                        lines += data.count(b"\n") + (not data.endswith(b"\n") and data != b"")
            finally:
                proc.stdout.close()
                if proc.wait() != 0:
                    err.seek(0)
                    raise RuntimeError(f"git archive failed: {err.read().decode(errors='replace').strip()}")
    return files, lines, len(big)


def build(args):
    projects = load_projects(args.projects)
    if args.only:
        known = {p["repo"] for p in projects}
        unknown = sorted(set(args.only) - known)
        if unknown:
            sys.exit(f"not in {args.projects}: {', '.join(unknown)}")
        projects = [p for p in projects if p["repo"] in args.only]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    total_files = total_lines = 0
    failed = []
    for p in projects:
        repo, commit = p["repo"], p["commit"]
        dest = out / repo.replace("/", "__")
        if dest.exists():
            shutil.rmtree(dest)
        dest.mkdir()
        try:
            git_dir = mirror_git_dir(args.mirror, repo) if args.mirror else None
            source = "mirror"
            with tempfile.TemporaryDirectory(prefix="corpus-clone-") as tmp:
                if git_dir is None:
                    source = "clone"
                    git_dir = clone(repo, commit, Path(tmp) / "repo")
                files, lines, big = extract(git_dir, commit, dest)
        except (subprocess.CalledProcessError, RuntimeError, tarfile.TarError, OSError) as exc:
            failed.append(repo)
            print(f"{repo:50} {commit[:12]}  FAILED: {exc}", flush=True)
            continue
        total_files += files
        total_lines += lines
        note = f"  ({big} over 1 MB or absent, skipped)" if big else ""
        print(f"{repo:50} {commit[:12]}  {files:5} files {lines:8} lines  [{source}]{note}", flush=True)
    print(f"{'total':50} {'':12}  {total_files:5} files {total_lines:8} lines  ({len(projects) - len(failed)} projects)")
    if failed:
        sys.exit(f"failed: {', '.join(failed)}")


def list_projects(args):
    for p in load_projects(args.projects):
        print(f"{p['repo']:50} {p['commit']}  {p.get('why', '')}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--projects", default=str(HERE / "projects.json"), help="default: %(default)s")
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build", help="materialise the corpus")
    b.add_argument("--out", required=True, help="folder to write owner__name/ folders into")
    b.add_argument("--mirror", default=os.environ.get("CNNSHAPE_MIRROR"),
                   help="folder of local git snapshots, MIRROR/owner+name/ (default: $CNNSHAPE_MIRROR; none: clone from GitHub)")
    b.add_argument("--only", nargs="+", metavar="OWNER/NAME", help="only these projects")
    b.set_defaults(func=build)
    ls = sub.add_parser("list", help="print the projects")
    ls.set_defaults(func=list_projects)
    args = ap.parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    main()
